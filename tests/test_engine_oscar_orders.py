"""Reading Oscar's orders without a change time: each order is returned when it is new and again when its
status moves, never twice in one status, and whatever the admin API sends, an order reads or comes back
with its problem (the feed never stops at one order). Pure tests of `oscar_orders`; the real engine is in
test_engine_oscar.py and test_engine_oscar_e2e.py.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors import OrderState, cursor_at
from cloud_bridge.connectors._values import Invalid
from cloud_bridge.connectors.oscar_orders import (
    Reading,
    Statuses,
    StatusWindow,
    changed_orders,
    parse_order,
    read_order,
)
from cloud_bridge.errors import BadCursor
from tests.shop_helpers import mutated

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
READING = Reading(Statuses(), ("no-shipping-required",), {7: ("OIL-1L", "Olive oil 1 L")})
LINES = [
    {
        "url": "http://shop/api/admin/orderlines/3/",
        "stockrecord": "http://shop/api/products/2/stockrecords/7/",
        "quantity": 2,
        "price_incl_tax": "21.90",
    }
]


def oscar_order(pk: int, status: str = "Paid", placed: datetime = T0, **extra: Any) -> dict[str, Any]:
    return {
        "number": str(100000 + pk),
        "url": f"http://shop/api/admin/orders/{pk}/",
        "lines": f"http://shop/api/admin/orders/{pk}/lines/",
        "currency": "EUR",
        "total_incl_tax": "21.90",
        "shipping_code": "no-shipping-required",
        "shipping_address": None,
        "billing_address": {"first_name": "Ana", "last_name": "Pérez"},
        "status": status,
        "email": "ana@example.invalid",
        "date_placed": placed.isoformat().replace("+00:00", "Z"),
        **extra,
    }


def poll(listed: list[dict[str, Any]], cursor: str | None) -> tuple[list[str], str]:
    """One poll as the connector makes it: (pk:status of each order returned, next cursor)."""
    window = StatusWindow.decode(cursor)
    changed = changed_orders(listed, window)
    orders = [(pk or "", read_order(raw, LINES, READING)) for raw, pk in changed]
    return [f"{pk}:{o.status}" for pk, o in orders], window.advance(orders)


def test_an_order_reads_with_the_sku_of_its_stock_record_and_is_a_pickup() -> None:
    order = parse_order(oscar_order(4), LINES, READING)
    assert (order.order_id, order.number, order.state, order.customer) == (
        "4",
        "100004",
        OrderState.PAID,
        "Ana Pérez",
    )
    assert [(line.sku, line.name, line.qty, line.unit_price_cents) for line in order.lines] == [
        ("OIL-1L", "Olive oil 1 L", 2, 1095)
    ]
    assert order.pickup and order.total_cents == 2190 and order.holds_stock


def test_a_line_of_another_partners_stock_record_has_no_sku_so_the_ledger_skips_it() -> None:
    other = [{**LINES[0], "stockrecord": "http://shop/api/products/9/stockrecords/99/"}]
    [line] = parse_order(oscar_order(4), other, READING).lines
    assert line.sku == "" and line.qty == 2


def test_the_shops_status_words_fold_into_the_bridges_states() -> None:
    states = {s: Statuses().state(s) for s in ("new", "Paid", "Collected", "Cancelled", "Being packed")}
    assert states == {
        "new": OrderState.PENDING,
        "Paid": OrderState.PAID,
        "Collected": OrderState.COMPLETED,
        "Cancelled": OrderState.CANCELLED,
        "Being packed": OrderState.PAID,
    }


def test_a_new_order_comes_once_and_again_only_when_its_status_moves() -> None:
    found, cursor = poll([oscar_order(1)], cursor_at(T0 - timedelta(minutes=1)))
    assert found == ["1:Paid"]
    assert poll([oscar_order(1)], cursor)[0] == []
    found, cursor = poll([oscar_order(1, "Collected")], cursor)
    assert found == ["1:Collected"]
    assert poll([oscar_order(1, "Collected")], cursor)[0] == []


def test_an_old_open_order_is_still_followed_when_newer_orders_move_the_window_on() -> None:
    _, cursor = poll([oscar_order(1)], None)
    later = T0 + timedelta(hours=3)
    found, cursor = poll([oscar_order(1), oscar_order(2, placed=later)], cursor)
    assert found == ["2:Paid"]
    found, cursor = poll([oscar_order(1, "Cancelled"), oscar_order(2, placed=later)], cursor)
    assert found == ["1:Cancelled"]
    assert "1" not in StatusWindow.decode(cursor).seen  # final and old: forgotten, the cursor stays small


def test_orders_placed_before_the_bridge_started_are_not_read() -> None:
    found, _ = poll([oscar_order(1)], cursor_at(T0 + timedelta(hours=1)))
    assert found == []


def test_an_order_too_broken_to_follow_comes_once_with_its_problem() -> None:
    broken = {"number": "100009", "status": "Paid"}  # no url, no date
    window = StatusWindow.decode(None)
    [(raw, pk)] = changed_orders([broken], window)
    order = read_order(raw, [], READING)
    assert pk is None and order.problem and not order.stock_known
    cursor = window.advance([(order.order_id, order)])
    assert changed_orders([broken], StatusWindow.decode(cursor)) == []


@pytest.mark.parametrize("cursor", ["", "[]", '{"since": "yesterday"}', '{"since": "2026-05-01T12:00:00"}'])
def test_a_cursor_not_written_by_the_bridge_is_refused_by_name(cursor: str) -> None:
    with pytest.raises(BadCursor, match="Oscar orders cursor"):
        StatusWindow.decode(cursor)


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["Paid", "1.5", "x/3/"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(mutated(oscar_order(5), junk), mutated(LINES, junk))
@settings(max_examples=300, deadline=None)
def test_any_order_reads_or_comes_back_with_its_problem(raw: Any, lines: Any) -> None:
    order = read_order(raw, lines, READING)
    try:
        full = parse_order(raw, lines, READING)
    except Invalid as exc:
        assert order.problem == str(exc)
    else:
        assert order == full and order.problem is None


@given(st.lists(mutated(oscar_order(5), junk) | junk, max_size=4))
@settings(max_examples=200, deadline=None)
def test_any_order_list_is_sorted_out_without_a_crash(listed: list[Any]) -> None:
    window = StatusWindow.decode(None)
    changed = changed_orders(listed, window)
    orders = [(pk or "x", read_order(raw, LINES, READING)) for raw, pk in changed]
    StatusWindow.decode(window.advance(orders))


@given(st.text(max_size=80) | junk.map(json.dumps))
@settings(max_examples=200, deadline=None)
def test_any_cursor_text_decodes_or_is_a_bad_cursor(text: str) -> None:
    with contextlib.suppress(BadCursor):
        StatusWindow.decode(text)
