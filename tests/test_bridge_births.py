"""A fleet coming online at once (a broker restart, a power cut over a mall): every box sends its birth and
then its journal. The births are applied with the batches around them, so the first acks do not wait behind
a transaction per birth (they came two minutes late for a thousand boxes, past the boxes' ack timeout, and
the resent batches kept the queue full); and the boxes back online get every level in one push per shop,
not one push (each reading every sku) per box.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig
from cloud_bridge.db import Database
from cloud_bridge.intake import Inbound
from cloud_bridge.worker import Worker
from simulators.broker import Broker
from tests.bridge_helpers import (
    batch,
    bridge_config,
    broker,
    database_url,
    postgres,
    query,
    sale,
    seed,
    shop_config,
    start_simulator,
    wait_for,
)
from wire import Kind, Levels, State, build_topic, decode, encode, now_ts

__all__ = ["broker", "database_url", "postgres"]  # fixtures

BOXES = [f"till-{n:03d}" for n in range(200)]
EPOCH = "e" * 16


class CountedDatabase(Database):
    """The bridge's database, counting the write transactions the test's own thread opens (the worker's
    shop threads write too; only what `handle_all` does on the caller's thread is counted).
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.caller = threading.get_ident()
        self.transactions = 0

    @contextmanager
    def write(self) -> Iterator[None]:
        if threading.get_ident() == self.caller:
            self.transactions += 1
        with super().write():
            yield


def fleet_online() -> list[Inbound]:
    """Each box's birth (naming its store), then its first sale: the order a box sends them in."""
    out = []
    for box in BOXES:
        birth = State(True, "1.0", 1, "cafe", now_ts(), epoch=EPOCH)
        out.append(Inbound(build_topic("corner", box, Kind.STATE), encode(birth)))
        _, payload = batch(sale(1, "SKU-000"), epoch=EPOCH)
        out.append(Inbound(build_topic("corner", box, Kind.JOURNAL), payload))
    return out


def test_a_fleet_coming_online_has_its_births_and_sales_applied_in_one_transaction_and_its_levels_in_one_push(
    tmp_path: Path, broker: Broker, database_url: str
) -> None:
    sim = start_simulator("woocommerce", seed(2, 500))
    config: BridgeConfig = bridge_config(database_url, broker.url, [shop_config("corner", sim, BOXES)])
    db = CountedDatabase(database_url)
    worker = Worker(config, database=db).start()
    try:
        assert worker.ready(10)
        initialised = m.ShopState.select().where(m.ShopState.name == "initialised")
        wait_for(lambda: query(worker, initialised.exists), what="shop init")
        db.transactions = 0

        worker.handle_all(fleet_online())

        assert db.transactions == 1  # it was one per birth and one per sale between them: 400
        online = m.Box.select().where(m.Box.shop == "corner", m.Box.online == True, m.Box.last_seq == 1)  # noqa: E712
        assert query(worker, online.count) == len(BOXES)

        def levels() -> list[tuple[str, Levels]]:
            rows = m.Outbound.select().where(
                m.Outbound.shop == "corner", m.Outbound.kind == Kind.LEVELS.value
            )
            out = []
            for row in rows:
                msg = decode(Kind.LEVELS, bytes(row.payload))
                assert isinstance(msg, Levels)
                out.append((row.box, msg))
            return out

        def every_box_has_every_level() -> bool:
            full = {box for box, msg in query(worker, levels) if len(msg.levels) == 2}
            return full == set(BOXES)

        wait_for(every_box_has_every_level, what="every level at every box")
        versions = {msg.version for _, msg in query(worker, levels)}
        assert len(versions) <= 3  # one push for the boxes back, one for the sales: it was a push per box
    finally:
        worker.stop()
        sim.stop()
