"""Orders the bridge cannot fully read: parked one by one instead of stalling the whole orders feed.

An order is read in two layers. Its stock facts (id, status, last change, lines with sku and quantity) say
what the shop took out of its stock; everything else (totals, customer, dates) is for the ticket. When
the full read fails, the stock facts are read on their own, so the ledger still counts the units the
shop took and the bridge never writes them back; the order is parked with the reason. When even those
fail, the order comes back with `stock_known` False and an id made from its content if it has none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

from cloud_bridge.connectors._values import Invalid, as_id, as_int, get, opt_str
from cloud_bridge.connectors.base import OrderLine, OrderState, ShopOrder

UNKNOWN_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)


def order_or_problem(raw: Any, read: Callable[[], ShopOrder], facts: Callable[[], ShopOrder]) -> ShopOrder:
    """`read()`; if it fails, `facts()` (the stock facts alone) carrying the problem; if that fails too, an
    order that names only itself and its problem.
    """
    try:
        return read()
    except Invalid as exc:
        problem = str(exc)
    try:
        return replace(facts(), problem=problem)
    except Invalid:
        pass
    return ShopOrder(
        order_id=raw_id(raw),
        number="",
        state=OrderState.PENDING,
        status="",
        placed_at=UNKNOWN_TIME,
        updated_at=UNKNOWN_TIME,
        lines=(),
        total_cents=0,
        currency="",
        holds_stock=False,
        problem=problem,
        stock_known=False,
    )


def raw_id(raw: Any, key: str = "id") -> str:
    """The order's own id when it is a short number or string, else one made from its content."""
    value = raw.get(key) if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 200:
        return value
    text = json.dumps(raw, sort_keys=True, default=str)[:100_000]
    return "unreadable-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def stock_line(row: dict[str, Any], line_id: str, sku: str, qty: str) -> OrderLine:
    """A line's stock facts (its id, sku and quantity, under the platform's field names) and nothing else."""
    return OrderLine(
        line_id=as_id(get(row, line_id, "line"), f"line {line_id}"),
        sku=opt_str(row.get(sku), f"line {sku}"),
        name="",
        qty=as_int(get(row, qty, "line"), f"line {qty}"),
        unit_price_cents=0,
    )
