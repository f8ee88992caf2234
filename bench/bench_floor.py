"""Orders on the floor: what giving each order its number and letting old ones go costs when an order is kept,
and what a scan of a ticket's code costs to find its order.

- `floor_order_keep`: keeping one order as the link does now (its number, then the order and its ticket, then
  letting go of what is older than `keep_days`), on a store holding two weeks of a busy pizzeria's orders
  (`HELD` handed over, all within `keep_days`, so nothing is pruned: the steady state), against keeping it
  as the previous release did (the order and its ticket alone). Milliseconds per order, over `BATCH` orders.
- `floor_order_keep_catching_up`: the same on a store whose `HELD` orders are all older than `keep_days`
  (a box that was off, or the first order after this release on a box that kept every order): each order
  kept also lets go of `PRUNE_BATCH` old ones. Against the same baseline.
- `floor_scan_lookup`: finding the order a ticket's code names by its number (a scan), against finding it by
  its exact id (the previous release's lookup), on the same store. Microseconds per lookup.

Rounds alternate baseline and ours (ABAB) on stores of their own, rebuilt each round.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Result, alternate
from firmware_agent.store import Store
from firmware_agent.store.order_numbers import assign
from firmware_agent.store.orders import find_by_key, find_order, move_stage, prune, store_order
from wire import Order, OrderLine

ROUNDS = 5
HELD = 3000
BATCH = 200
LOOKUPS = 2000
KEEP_S = 14 * 86400.0
TICKET = b"\x1b@" + b"x" * 1500  # about a kitchen ticket's size
LINES = (OrderLine("PIZ-MARG", "Pizza Margarita", 2, 950), OrderLine("CANA", "Cana", 1, 250))


def _order(n: int) -> dict[str, object]:
    return Order(
        f"gid://shopify/Order/{5_400_000_000_000 + n}",
        "2026-12-06T19:00:00.000Z",
        "pickup",
        LINES,
        2150,
        number=f"#{1000 + n}",
    ).to_json()


def _store(folder: Path, age_s: float) -> Store:
    """A store holding `HELD` handed-over orders, each `age_s` old."""
    store = Store.open(folder / "tillbridge.db")
    with store.transaction():
        for n in range(HELD):
            order = _order(n)
            store_order(
                store, order, TICKET, 3600, number=assign(store, str(order["order_id"]), f"#{1000 + n}")
            )
            move_stage(store, str(order["order_id"]), "collected", source="scan")
        store.sql(
            "UPDATE inbound_order SET received_at = received_at - ?, stage_at = stage_at - ?", (age_s, age_s)
        )
    return store


def _keeping(age_s: float, keep: Callable[[Store, dict[str, object]], None]) -> Callable[[], float]:
    def run() -> float:
        with tempfile.TemporaryDirectory() as folder:
            store = _store(Path(folder), age_s)
            try:
                started = time.perf_counter()
                for n in range(HELD, HELD + BATCH):
                    order = _order(n)
                    with store.transaction():
                        keep(store, order)
                return (time.perf_counter() - started) * 1000 / BATCH
            finally:
                store.close()

    return run


def _now_keep(store: Store, order: dict[str, object]) -> None:
    """The link's `_keep` now: the number (a core call of its own), then the order with it, and the prune."""
    number = assign(store, str(order["order_id"]), str(order["number"]))
    store_order(store, order, TICKET, 3600, number=number)
    prune(store, time.time() - KEEP_S)


def _before_keep(store: Store, order: dict[str, object]) -> None:
    store_order(store, order, TICKET, 3600, number=str(order["number"]).lstrip("#"))


def _lookups(find: Callable[[Store, int], object]) -> Callable[[], float]:
    def run() -> float:
        with tempfile.TemporaryDirectory() as folder:
            store = _store(Path(folder), 0.0)
            try:
                started = time.perf_counter()
                for i in range(LOOKUPS):
                    assert find(store, (i * 7919) % HELD) is not None
                return (time.perf_counter() - started) * 1e6 / LOOKUPS
            finally:
                store.close()

    return run


def run() -> list[Result]:
    steady = alternate(ROUNDS, _keeping(3600.0, _now_keep), _keeping(3600.0, _before_keep))
    old = 30 * 86400.0
    catching_up = alternate(ROUNDS, _keeping(old, _now_keep), _keeping(old, _before_keep))
    lookups = alternate(
        ROUNDS,
        _lookups(lambda store, n: find_by_key(store, str(1000 + n))),
        _lookups(lambda store, n: find_order(store, str(_order(n)["order_id"]))),
    )
    return [
        steady.duration("floor_order_keep", "ms/order"),
        catching_up.duration("floor_order_keep_catching_up", "ms/order"),
        lookups.duration("floor_scan_lookup", "us/lookup"),
    ]
