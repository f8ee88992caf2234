"""A shop's small state through its repository (`cloud_bridge.state`): typed values, one query to read them
all, and the rows the previous releases wrote read as they are (the stored format did not change).
"""

from __future__ import annotations

from cloud_bridge import models as m
from cloud_bridge import state
from cloud_bridge.db import Database
from cloud_bridge.state import Counter, Cursor, Key, Timer
from tests.bridge_helpers import database, postgres

__all__ = ["database", "postgres"]  # fixtures


def test_a_new_shop_has_nothing_kept_and_every_timer_due_now(database: Database) -> None:
    with database.write():
        kept = state.load("shop")
    assert kept == state.ShopState("shop")
    assert not kept.initialised
    assert all(kept.due(timer) == 0.0 for timer in Timer)
    assert kept.cursor(Cursor.ORDERS) is None and kept.count(Counter.FAILURES) == 0


def test_values_come_back_typed_and_per_shop(database: Database) -> None:
    with database.write():
        state.mark_initialised("shop", 1_700_000_000.5)
        state.set_cursor("shop", Cursor.ORDERS, "2026-12-07T02:00:00Z|41")
        state.set_count("shop", Counter.FAILURES, 3)
        state.set_count("shop", Counter.FAILURES, 4)  # set again: one row, the last value
        state.set_time("shop", Timer.BACKOFF, 1_700_000_060.25)
        state.set_time("shop", Timer.RECONCILE, 5.0)
        state.set_time("shop", Timer.RECONCILE, None)  # cleared: due now
        state.set_cursor("other", Cursor.PRODUCTS, "p-9")
    with database.write():
        kept, other = state.load("shop"), state.load("other")
    assert kept.initialised_at == 1_700_000_000.5
    assert kept.cursor(Cursor.ORDERS) == "2026-12-07T02:00:00Z|41" and kept.products_cursor is None
    assert kept.count(Counter.FAILURES) == 4
    assert kept.due(Timer.BACKOFF) == 1_700_000_060.25 and kept.timer(Timer.RECONCILE) is None
    assert other == state.ShopState("other", products_cursor="p-9")
    with database.write():
        assert state.cursor("shop", Cursor.ORDERS) == kept.orders_cursor
        assert state.count("shop", Counter.FAILURES) == 4
        assert state.get_time("shop", Timer.BACKOFF) == kept.backoff_until


def test_rows_written_by_the_previous_release_read_as_they_are(database: Database) -> None:
    """The text the previous releases stored: a webhook's "0", repr'd floats, str(now), ints as text."""
    old = {
        "initialised": "1765000000.123",
        "orders_cursor": "c1",
        "failures": "2",
        "catalog_version": "17",
        "levels_version": "9",
        "orders_due": "0",
        "writes_open": "1765000001.5",
        "some_name_this_release_does_not_know": "x",
    }
    with database.write():
        for name, value in old.items():
            m.ShopState.insert(shop="shop", name=name, value=value).execute()
    with database.write():
        kept = state.load("shop")
    assert kept == state.ShopState(
        "shop",
        initialised_at=1765000000.123,
        orders_cursor="c1",
        failures=2,
        catalog_version=17,
        levels_version=9,
        orders_due=0.0,
        writes_open=1765000001.5,
    )


def test_a_bridge_wide_key_is_made_once_and_worker_reports_are_kept_apart(database: Database) -> None:
    with database.write():
        first = state.once(Key.PICKUP_SECRET, "aa")
        second = state.once(Key.PICKUP_SECRET, "bb")  # another worker starting later keeps the first
        state.set_worker_report("w1", '{"at": 1}')
        state.set_worker_report("w2", '{"at": 2}')
        state.set_worker_report("w1", '{"at": 3}')
        state.set_cursor("shop", Cursor.ORDERS, "c")
    with database.write():
        assert (first, second) == ("aa", "aa")
        assert state.worker_reports() == {"w1": '{"at": 3}', "w2": '{"at": 2}'}
        assert state.load(state.BRIDGE) == state.ShopState(state.BRIDGE)
