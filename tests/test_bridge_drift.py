"""The drift test: boxes selling and online orders arriving at once, on the same skus, in three shops, while
the shops fail (5xx, 429, timeouts, dropped connections), the broker restarts and a worker is killed with
kill -9, on PostgreSQL (three workers) and on SQLite (one at a time).

The boxes are not all alike: one is an independent client whose retransmits leave entries out (so its batches
have holes), one starts at seq 1001, and one has its store replaced mid-run by a new one that counts from
seq 1 again. At the end, for every sku of every shop, the shop shows its starting stock minus every sale on
every channel; every journal entry of every store is applied exactly once (0 lost, 0 twice); the replaced
store is reported as a loss window and nothing else is; every online order reached every box of its shop,
printed once.
"""

from __future__ import annotations

import itertools
import queue
import random
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from cloud_bridge import models as m
from cloud_bridge.config import Timing
from cloud_bridge.db import Database
from cloud_bridge.streams import source_of, stream_key
from simulators.broker import Broker
from simulators.shops import OutOfStock, PrestaShopSimulator, ShopifySimulator, WooCommerceSimulator
from tests.bridge_helpers import (
    PlayedBox,
    PostgresServer,
    Simulator,
    WorkerProcess,
    bridge_config,
    customer_code,
    postgres,
    seed,
    shop_config,
    start_simulator,
    wait_for,
)
from wire import STOCK_KINDS

__all__ = ["postgres"]  # fixtures

START = 400
SKUS = [f"SKU-{i:03d}" for i in range(6)]
SHOPS = {
    "woo": ("woocommerce", ["till-1", "till-2"]),
    "shy": ("shopify", ["till-3"]),
    "pre": ("prestashop", ["till-4"]),
}
TIMING = Timing(
    poll_s=0.1,
    orders_s=0.5,
    products_s=1.0,
    reconcile_s=2.0,
    parked_retry_s=60.0,
    shop_timeout_s=1.0,
    retry_attempts=3,
    retry_base_s=0.05,
    retry_max_s=0.5,
)


class Shoppers(threading.Thread):
    """Online customers of one shop: one- or two-unit orders on random skus, some for pickup."""

    def __init__(self, sim: Simulator, stop: threading.Event, seed_: int) -> None:
        super().__init__(daemon=True)
        self.sim, self.stop_event, self.rng = sim, stop, random.Random(seed_)
        self.bought: Counter[str] = Counter()
        self.orders: list[str] = []

    def run(self) -> None:
        while not self.stop_event.wait(self.rng.uniform(0.1, 0.4)):
            sku, qty = self.rng.choice(SKUS), self.rng.choice((1, 1, 2))
            try:
                order_id = self.sim.place_order(sku, qty, pickup=self.rng.random() < 0.4)
            except OutOfStock:
                continue
            self.bought[sku] += qty
            self.orders.append(str(order_id))


class Till(threading.Thread):
    """A box selling at its till and handing over some of the pickup orders it prints."""

    def __init__(self, box: PlayedBox, stop: threading.Event, seed_: int) -> None:
        super().__init__(daemon=True)
        self.box, self.stop_event, self.rng = box, stop, random.Random(seed_)
        self.moved: Counter[str] = Counter()
        self.collected: list[str] = []
        self.open = threading.Event()  # cleared: the till is closed for a moment
        self.open.set()
        self.idle = threading.Event()  # set while closed and between two sales

    def run(self) -> None:
        while not self.stop_event.wait(self.rng.uniform(0.005, 0.03)):
            if not self.open.is_set():
                self.idle.set()
                self.open.wait()
                self.idle.clear()
            sku = self.rng.choice(SKUS)
            if self.rng.random() < 0.1:
                self.box.record("return", sku=sku, delta=1, stock_after=0)
                self.moved[sku] += 1
            else:
                qty = self.rng.choice((1, 1, 1, 2))
                self.box.sell(sku, qty)
                self.moved[sku] -= qty
            self._collect()

    def _collect(self) -> None:
        try:
            order = self.box.next_order(timeout=0)
        except queue.Empty:
            return
        if order.kind == "pickup" and self.rng.random() < 0.5:
            code = customer_code(self.box.shop, order.order_id)
            self.box.record("order_collected", order_id=order.order_id, pickup_code=code)
            self.collected.append(order.order_id)


class Faults(threading.Thread):
    """Every few tenths of a second a shop fails its next request: 503, 429 with Retry-After, a timeout, a
    drop; the shops take turns. A shop gets a new fault only once a request has used its last one. The
    simulators queue faults until a request takes them, and a 429 or a timeout holds a shop's thread for a
    second or more, so faults queued by the clock piled up on a loaded machine (10 to 90 still waiting
    when the traffic stopped): a shop failed every call for the whole run, never written once, and the
    backlog had to drain within the final wait (the test failed when it did not).
    """

    def __init__(self, sims: dict[str, Simulator], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.sims, self.stop_event, self.rng = sims, stop, random.Random(11)
        self.injected: Counter[str] = Counter()
        self._turn = itertools.cycle(sorted(sims))

    def run(self) -> None:
        while not self.stop_event.wait(self.rng.uniform(0.1, 0.4)):
            shop = next((s for s in itertools.islice(self._turn, len(self.sims)) if self._ready(s)), None)
            if shop is None:
                continue
            sim, fault = self.sims[shop], self.rng.randrange(4)
            if fault == 0:
                sim.fail_next(503, times=2)
            elif fault == 1:
                sim.fail_next(429, retry_after="1")
            elif fault == 2:
                sim.slow_next(1.5)  # longer than the connector's timeout: a write may land unanswered
            else:
                sim.drop_next()
            self.injected[shop] += 1

    def _ready(self, shop: str) -> bool:
        return not self.sims[shop].faults_pending

    def met(self) -> dict[str, int]:
        """Per shop, the faults the bridge's requests ran into (all but a last one still waiting)."""
        return {shop: self.injected[shop] - (not self._ready(shop)) for shop in self.sims}


def _bucket(platform: str) -> dict[str, float]:
    """Shopify Plus: 1,000 points a second, which the orders feed (~930 points a page) keeps busy."""
    return {"restore_rate": 1000.0, "bucket_size": 10000.0} if platform == "shopify" else {}


@pytest.fixture
def sims() -> Iterator[dict[str, Simulator]]:
    started = {
        shop: start_simulator(platform, seed(len(SKUS), START), **_bucket(platform))
        for shop, (platform, _) in SHOPS.items()
    }
    yield started
    for sim in started.values():
        sim.stop()


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_no_drift_across_channels_through_faults_restarts_a_killed_worker_and_odd_boxes(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str, sims: dict[str, Simulator]
) -> None:
    if backend == "postgres":
        postgres: PostgresServer = request.getfixturevalue("postgres")
        postgres.truncate()
        url = postgres.url
    else:
        url = f"sqlite:///{tmp_path / 'bridge.db'}"
    broker = Broker(tmp_path / "broker").start()
    # writes coalesce over a 1 s window, with the low-stock rule at work as skus run down
    shops = [shop_config(shop, sims[shop], boxes, window=1.0) for shop, (_, boxes) in SHOPS.items()]
    workers = [
        WorkerProcess(bridge_config(url, broker.url, shops, worker_id=f"w{n}", timing=TIMING), tmp_path)
        for n in range(3)
    ]
    db = Database(url).open()
    boxes = {
        "till-1": PlayedBox("woo", "till-1", broker.url),
        "till-2": PlayedBox("woo", "till-2", broker.url, ack_timeout=0.5, skip=0.1),  # resends with holes
        "till-3": PlayedBox("shy", "till-3", broker.url, start=1000),  # its first seq is 1001
        "till-4": PlayedBox("pre", "till-4", broker.url),  # its store is replaced mid-run
    }
    stop = threading.Event()
    try:
        workers[0].start()
        if backend == "postgres":
            workers[1].start()
        wait_for(
            lambda: m.ShopState.select().where(m.ShopState.name == "initialised").count() == 3, 20, "init"
        )

        tills = {name: Till(box, stop, n) for n, (name, box) in enumerate(boxes.items())}
        shoppers = {shop: Shoppers(sim, stop, 100 + n) for n, (shop, sim) in enumerate(sims.items())}
        faults = Faults(sims, stop)
        for thread in [*tills.values(), *shoppers.values(), faults]:
            thread.start()
        _applied_at_least(400)
        broker.restart()  # everything in flight at the broker and on the wire is redelivered or resent
        _applied_at_least(700)
        replaced = _replace_store(tills["till-4"])
        _applied_at_least(900)
        workers[0].kill()  # kill -9 mid-stream, maybe mid-batch or mid-shop-write
        if backend == "sqlite":
            workers[1].start()  # the one SQLite worker comes back on the same file
        _applied_at_least(1100)
        if backend == "postgres":  # SQLite runs one worker at a time: two would both drive every shop
            workers[2].start()
        _applied_at_least(1500)
        stop.set()
        for thread in [*tills.values(), *shoppers.values(), faults]:
            thread.join(10)

        for box in boxes.values():
            box.wait_acked(timeout=30)
        expected = {
            shop: {
                sku: START
                + sum(t.moved[sku] for t in tills.values() if t.box.shop == shop)
                - shoppers[shop].bought[sku]
                for sku in SKUS
            }
            for shop in SHOPS
        }

        def drift() -> str:
            return ", ".join(
                f"{shop}/{sku}: shop {sims[shop].stock(sku)}, ledger {want}"
                for shop, skus in expected.items()
                for sku, want in skus.items()
                if sims[shop].stock(sku) != want
            )

        wait_for(lambda: not drift(), 30, "every shop to show start − every sale", detail=drift)
        _assert_journals_applied_once(list(boxes.values()))
        _assert_only_the_replaced_store_is_a_loss(boxes["till-4"], replaced)
        assert boxes["till-2"].holes_sent > 0  # the bridge did see batches with holes
        _assert_orders_reached_every_box_once(list(boxes.values()), shoppers)
        _assert_collected_orders_completed(sims, list(tills.values()))
        assert min(faults.met().values()) > 0, f"faults met per shop: {faults.met()}"  # every shop failed
    finally:
        stop.set()
        for box in boxes.values():
            box.close()
        for worker in workers:
            worker.stop()
        db.close()
        broker.stop()


def _replace_store(till: Till) -> tuple[str | None, int]:
    """Closes the till, lets its store drain, swaps in a new store counting from seq 1, opens again;
    returns the old store's epoch and last seq.
    """
    till.open.clear()
    assert till.idle.wait(10), "the till did not close"
    till.box.wait_acked(timeout=30)
    old = (till.box.epoch, till.box.journal[-1].seq)
    till.box.replace_store()
    till.open.set()
    return old


def _applied_at_least(count: int) -> None:
    """Traffic goes on until the bridge has applied this many till movements (about 230 a second)."""
    wait_for(partial(_till_movements_reach, count), 30, f"{count} till movements applied")


def _till_movements_reach(count: int) -> bool:
    return bool(m.Movement.select().where(m.Movement.source.startswith("b/")).count() >= count)


def _assert_journals_applied_once(boxes: list[PlayedBox]) -> None:
    """Every stock entry of every store of every box has its movement, once; nothing else came in."""
    for box in boxes:
        wanted = {
            source_of(box.box, stream_key(epoch), entry.seq)
            for epoch, entry in box.all_entries()
            if entry.kind in STOCK_KINDS
        }
        sources = [
            row.source for row in m.Movement.select().where(m.Movement.source.startswith(f"b/{box.box}/"))
        ]
        assert len(sources) == len(set(sources))
        assert not wanted - set(sources), f"{box.box}: lost {sorted(wanted - set(sources))[:10]}"
        assert set(sources) == wanted, f"{box.box}: not journaled {sorted(set(sources) - wanted)[:10]}"
        assert m.Box.get(m.Box.box == box.box).last_seq == box.journal[-1].seq


def _assert_only_the_replaced_store_is_a_loss(box: PlayedBox, replaced: tuple[str | None, int]) -> None:
    [window] = m.LossWindow.select()
    assert (window.box, window.epoch, window.after_seq) == (box.box, replaced[0], replaced[1])
    assert window.new_epoch == box.epoch


def _assert_orders_reached_every_box_once(boxes: list[PlayedBox], shoppers: dict[str, Shoppers]) -> None:
    for shop, people in shoppers.items():
        placed = set(people.orders)
        wait_for(partial(_feed_has, shop, placed), 30, f"the orders feed of {shop}")  # no order lost
        for box in (b for b in boxes if b.shop == shop):
            wait_for(partial(_printed_all, box, placed), 15, f"orders printed on {box.box}")
            assert set(box.printed) == placed
        tickets = list(m.OrderTicket.select().where(m.OrderTicket.shop == shop))
        assert sorted(t.order_id for t in tickets) == sorted(placed)  # one each, whatever the feed repeated
        assert all(t.box in {b.box for b in boxes if b.shop == shop} for t in tickets)  # one printer each


def _feed_has(shop: str, placed: set[str]) -> bool:
    return placed <= {row.order_id for row in m.ShopOrder.select().where(m.ShopOrder.shop == shop)}


def _printed_all(box: PlayedBox, placed: set[str]) -> bool:
    return placed <= set(box.printed)


def _completed(shop: str, order_id: str) -> bool:
    """Order ids are the shop's own, so two shops can both have an order 113."""
    row = m.ShopOrder.get(m.ShopOrder.shop == shop, m.ShopOrder.order_id == order_id)
    return bool(row.completion == "done")


def _assert_collected_orders_completed(sims: dict[str, Simulator], tills: list[Till]) -> None:
    woo, shopify, presta = sims["woo"], sims["shy"], sims["pre"]
    assert isinstance(woo, WooCommerceSimulator) and isinstance(shopify, ShopifySimulator)
    assert isinstance(presta, PrestaShopSimulator)
    for till in tills:
        for order_id in till.collected:
            wait_for(partial(_completed, till.box.shop, order_id), 10, f"order {order_id} completed")
            if till.box.shop == "woo":
                assert woo.order_status(int(order_id)) == "completed"
            elif till.box.shop == "shy":
                assert shopify.is_fulfilled(order_id)
            else:
                assert presta.order_state(int(order_id)) == 5  # "Delivered", the connector's default
