"""Oscar's orders as the bridge sees them: the admin API's order and line objects read into `ShopOrder`s,
and the polling cursor that finds new orders and status changes in a list with no change time.

Oscar's admin order list has neither a "changed after" filter nor an update time: an order says when it
was placed and its current status, and its lines live behind a link of their own. So every poll reads the
list, and the cursor remembers the status it last returned for each order that can still change (not yet
collected, completed or cancelled) and for every order placed inside the overlap window; an order is
returned when it is new or its status moved. Order lines name their stock record, not a sku: the caller
maps stock record ids to the skus of the configured partner (`Skus`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from cloud_bridge.connectors._values import (
    Invalid,
    as_id,
    as_int,
    as_list,
    as_obj,
    as_str,
    as_time,
    cents,
    get,
    obj_or_empty,
    opt_str,
)
from cloud_bridge.connectors.base import OrderLine, OrderState, ShopOrder
from cloud_bridge.connectors.cursor import MAX_SEEN, OVERLAP
from cloud_bridge.connectors.unreadable import UNKNOWN_TIME, order_or_problem, raw_id
from cloud_bridge.errors import BadCursor

Skus = Mapping[int, tuple[str, str]]  # stock record id -> (sku, product title)
FINAL: Final = (OrderState.COMPLETED, OrderState.CANCELLED, OrderState.REFUNDED)


@dataclass(frozen=True)
class Statuses:
    """How the shop's own status pipeline folds into `OrderState` (Oscar's statuses are the shop's words):
    `collected` is the status the bridge moves a picked-up order to; any status not named is a paid order.
    """

    collected: str = "Collected"
    pending: tuple[str, ...] = ("Pending", "new")
    cancelled: tuple[str, ...] = ("Cancelled",)
    completed: tuple[str, ...] = ("Complete", "Completed", "Shipped")
    refunded: tuple[str, ...] = ("Refunded",)

    def state(self, status: str) -> OrderState:
        if status == self.collected or status in self.completed:
            return OrderState.COMPLETED
        if status in self.cancelled:
            return OrderState.CANCELLED
        if status in self.refunded:
            return OrderState.REFUNDED
        if status in self.pending:
            return OrderState.PENDING
        return OrderState.PAID


@dataclass(frozen=True)
class Reading:
    """What reading an order needs besides the order: the status words, the pickup shipping codes and
    the stock records of the configured partner.
    """

    statuses: Statuses
    pickup_methods: tuple[str, ...]
    skus: Skus


def order_pk(raw: Any) -> str:
    """The order's database id, from its `url` (`…/orders/<pk>/`): Oscar's API shows no `id` field; the
    `number` is what customers and the dashboard use.
    """
    url = as_str(get(as_obj(raw, "order"), "url", "order"), "order url").rstrip("/")
    return as_id(str(as_int(url.rpartition("/")[2], "order url")), "order url")


def read_order(raw: Any, lines: Any, reading: Reading) -> ShopOrder:
    """An order, or what could be read of it with its problem (see `unreadable`)."""
    return order_or_problem(
        raw, lambda: parse_order(raw, lines, reading), lambda: _stock_facts(raw, lines, reading)
    )


def parse_order(raw: Any, lines: Any, reading: Reading) -> ShopOrder:
    obj = as_obj(raw, "order")
    facts = _stock_facts(obj, lines, reading)
    rows = [as_obj(x, "order line") for x in as_list(lines, "order lines")]
    address = obj_or_empty(obj.get("shipping_address")) or obj_or_empty(obj.get("billing_address"))
    name = " ".join(filter(None, (str(address.get("first_name") or ""), str(address.get("last_name") or ""))))
    return replace(
        facts,
        number=opt_str(obj.get("number"), "order number") or facts.order_id,
        lines=tuple(_line(row, reading.skus) for row in rows),
        total_cents=cents(get(obj, "total_incl_tax", "order"), "order total_incl_tax"),
        currency=opt_str(obj.get("currency"), "order currency"),
        customer=name or opt_str(obj.get("email"), "order email"),
        pickup=opt_str(obj.get("shipping_code"), "order shipping_code") in reading.pickup_methods,
    )


def _stock_facts(raw: Any, lines: Any, reading: Reading) -> ShopOrder:
    """Id, status, time and the lines' skus and quantities: what the order took from Oscar's stock (it
    allocates a placed order's units on their stock records until they ship).
    """
    obj = as_obj(raw, "order")
    status = as_str(get(obj, "status", "order"), "order status")
    placed = as_time(get(obj, "date_placed", "order"), "order date_placed")
    order_id = order_pk(obj)
    rows = [as_obj(x, "order line") for x in as_list(lines, "order lines")]
    return ShopOrder(
        order_id=order_id,
        number=order_id,
        state=reading.statuses.state(status),
        status=status,
        placed_at=placed,
        updated_at=placed,  # Oscar keeps no change time; the status is part of the order's key
        lines=tuple(replace(_line(row, reading.skus), name="", unit_price_cents=0) for row in rows),
        total_cents=0,
        currency="",
    )


def _line(row: dict[str, Any], skus: Skus) -> OrderLine:
    """A line: its sku and name from its stock record (a record of another partner leaves the sku empty,
    so the ledger does not count it), the price paid per unit with tax.
    """
    line_id = _last_number(get(row, "url", "line"), "line url")
    record = _last_number(get(row, "stockrecord", "line"), "line stockrecord")
    qty = as_int(get(row, "quantity", "line"), "line quantity")
    sku, title = skus.get(int(record), ("", ""))
    paid = cents(row.get("price_incl_tax") or "0", "line price_incl_tax")
    return OrderLine(line_id, sku, title or sku, qty, round(paid / qty) if qty else 0)


def _last_number(value: Any, what: str) -> str:
    url = as_str(value, what).rstrip("/")
    return str(as_int(url.rpartition("/")[2], what))


@dataclass
class StatusWindow:
    """The orders cursor: the newest placing time seen, and the status last returned per order that can
    still change or was placed inside the overlap window (an order committed late is still caught).
    """

    since: datetime | None = None
    seen: dict[str, tuple[str, str, bool]] = field(default_factory=dict)  # pk -> (placed, status, final)

    @classmethod
    def decode(cls, cursor: str | None) -> StatusWindow:
        if cursor is None:
            return cls()
        try:
            raw = json.loads(cursor)
            since = None if raw["since"] is None else datetime.fromisoformat(raw["since"])
            orders = dict(raw.get("orders", {}))  # absent in `cursor_at`'s cursor: start at its time
            seen = {str(k): (str(v[0]), str(v[1]), bool(v[2])) for k, v in orders.items()}
            for placed, _, _ in seen.values():
                datetime.fromisoformat(placed)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise BadCursor(f"Oscar orders cursor {cursor[:60]!r} was not written by this bridge") from exc
        if since is not None and since.tzinfo is None:
            raise BadCursor(f"Oscar orders cursor {cursor[:60]!r} has a time without a zone")
        return cls(since, seen)

    def wanted(self, pk: str, placed: datetime, status: str) -> bool:
        """Whether the order is new to the bridge or its status moved since it was last returned."""
        known = self.seen.get(pk)
        if known is not None:
            return known[1] != status
        return self.since is None or placed >= self.since - OVERLAP

    def advance(self, orders: Iterable[tuple[str, ShopOrder]]) -> str:
        """Records the (pk, order) pairs returned (pk: the listed order's id, which a broken order's read
        may not carry) and gives the next cursor.
        """
        for pk, order in orders:
            placed = order.placed_at.isoformat()
            self.seen[pk] = (placed, order.status, order.state in FINAL)
            if self.since is None or order.placed_at > self.since:
                self.since = order.placed_at
        if self.since is not None:
            horizon = self.since - OVERLAP
            self.seen = {
                k: v for k, v in self.seen.items() if not v[2] or datetime.fromisoformat(v[0]) >= horizon
            }
        if len(self.seen) > MAX_SEEN:
            self.seen = dict(sorted(self.seen.items(), key=lambda kv: kv[1][0])[-MAX_SEEN:])
        return json.dumps(
            {
                "since": None if self.since is None else self.since.isoformat(),
                "orders": {k: list(v) for k, v in self.seen.items()},
            },
            separators=(",", ":"),
            sort_keys=True,
        )


def changed_orders(listed: Sequence[Any], window: StatusWindow) -> list[tuple[Any, str | None]]:
    """The listed orders the cursor has not returned in their current status, oldest first, each with its
    pk; an entry too broken to follow (no id, time or status) comes once, with None, for the caller to
    read for its problem and park.
    """
    found: list[tuple[datetime, Any, str | None]] = []
    for raw in listed:
        try:
            obj = as_obj(raw, "order")
            pk = order_pk(obj)
            placed = as_time(get(obj, "date_placed", "order"), "order date_placed")
            status = as_str(get(obj, "status", "order"), "order status")
        except Invalid:
            if raw_id(raw) not in window.seen:
                found.append((UNKNOWN_TIME, raw, None))
            continue
        if window.wanted(pk, placed, status):
            found.append((placed, obj, pk))
    return [(raw, pk) for _, raw, pk in sorted(found, key=lambda item: item[0])]
