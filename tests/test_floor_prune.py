"""A box open every day for months keeps the orders of the last `[orders] keep_days`, not every order it ever
took: the orders the link keeps, on a real core loop and store, handed over each day, with the clock moved
by hand a day at a time. What the floor still needs stays: open orders, whatever their age, and the recent
handed-over ones, which reprint."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from firmware_agent.config import AgentConfig
from firmware_agent.config.loader import validate
from firmware_agent.floor import FloorDesk
from firmware_agent.link.events import Received
from firmware_agent.link.inbound import orders as intake
from firmware_agent.link.settings import LinkSettings, link_settings
from firmware_agent.store import Store
from firmware_agent.store import orders as order_store
from tests.core_helpers import running_core
from tests.store_helpers import open_store
from wire import Kind, Order, OrderLine, encode

T = TypeVar("T")
DAY = 86400.0
PER_DAY = 8
LINE = (OrderLine("M", "M", 1, 9),)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


class Link:
    """The link's side of order intake (`OrderSide`), its calls run on the real core loop."""

    def __init__(self, call: Callable[[Callable[[Store], Any]], Any], config: AgentConfig) -> None:
        self._call = call
        self.config = config
        settings = link_settings(config)
        assert settings is not None
        self.settings: LinkSettings = settings
        self.on_order: Callable[[], None] | None = None
        self.acks = 0

    def call(self, fn: Callable[[Store], T], timeout: float = 10.0) -> T:
        result: T = self._call(fn)
        return result

    def send(self, kind: Kind, payload: bytes, qos: int) -> None:
        self.acks += 1


def config(tmp_path: Path, keep_days: int) -> AgentConfig:
    return validate(
        {
            "box": {"id": "till-1", "shop": "s1", "data_dir": str(tmp_path)},
            "mqtt": {"url": "mqtt://127.0.0.1:1"},
            "orders": {"keep_days": keep_days},
        },
        "test",
    )


def rows(tmp_path: Path, table: str) -> int:
    with sqlite3.connect(tmp_path / "tillbridge.db") as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_box_open_for_months_keeps_only_the_last_week_of_handed_over_orders(tmp_path, monkeypatch):
    """Every order the box ever took stayed in its store, tickets and all: a pizzeria's box grew by
    thousands of rows a month, and every scan of an order's code searched them all."""
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(order_store, "time", clock)
    monkeypatch.setattr(intake, "time", clock)
    with running_core(tmp_path) as box:
        link = Link(box.core.call, config(tmp_path, keep_days=7))
        desk = FloorDesk(box.core.call, lambda o, n: {"": f"copy of {n}".encode()}, 3600)
        sizes = []
        for day in range(40):
            for n in range(PER_DAY):
                order_id = f"WC-{day * PER_DAY + n}"
                order = Order(order_id, "2027-01-15T12:00:00.000Z", "pickup", LINE, 9)
                intake.on_orders(link, Received(1, "orders", encode(order), 0, 1))
                if (day, n) != (0, 0):  # the first order of all is never collected: it stays open
                    desk.move(order_id, "collected")
                clock.now += 600
            clock.now += DAY - PER_DAY * 600
            sizes.append(rows(tmp_path, "inbound_order"))
        assert link.acks == 40 * PER_DAY
        bound = (7 + 1) * PER_DAY + 1
        assert max(sizes) <= bound, f"the order table grew to {max(sizes)} rows (bound {bound})"
        assert rows(tmp_path, "order_ticket") <= bound
        assert desk.order("WC-0") is not None  # open for 40 days: kept, still there to move
        assert desk.order(f"WC-{31 * PER_DAY}") is None  # handed over 9 days ago: gone
        recent = f"WC-{34 * PER_DAY}"  # handed over 6 days ago: reprints
        [job] = desk.reprint(recent)
        assert box.core.call(lambda s: [j.payload for j in s.print_jobs(["queued"]) if j.id == job]) == [
            f"copy of {recent}".encode()
        ]


def test_an_order_kept_before_orders_had_stages_is_let_go_too(tmp_path):
    """Orders a box kept before stages existed have no stage_at: they are the oldest, and go first."""
    store = open_store(tmp_path)
    try:
        with store.transaction():
            store.sql(
                "INSERT INTO inbound_order (order_id, payload, received_at, collected_seq) "
                "VALUES (?, ?, ?, ?)",
                (
                    "OLD-1",
                    json.dumps(Order("OLD-1", "2020-01-01T00:00:00.000Z", "pickup", LINE, 9).to_json()),
                    1,
                    7,
                ),
            )
            assert order_store.prune(store, time.time() - 7 * DAY) == 1
        assert rows(tmp_path, "inbound_order") == 0
    finally:
        store.close()
