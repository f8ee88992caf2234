"""Online orders into the ledger and onto the shop's boxes.

An order is seen many times (polling overlaps, webhooks repeat), so everything here is idempotent: the
ledger follows the order's current state, and each order is handed to `delivery` once (`ShopOrder.sent`),
which keeps every box's view of it (state, ticket, pickup hash) up to date.
The ledger mirrors what the shop itself did: a paid order that holds stock is a reservation, a completed
one a movement the shop already knows, a cancelled one releases what it held. Once its units have left
the shop (collected at a till or completed), an order's stock effect is final.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from cloud_bridge import delivery, ledger, parking
from cloud_bridge import models as m
from cloud_bridge.connectors.base import OrderLine as ShopLine
from cloud_bridge.connectors.base import OrderState, ShopOrder
from cloud_bridge.connectors.orderfacts import screen
from wire import LineOption, Order, OrderLine, format_ts
from wire._fields import ID_LEN as ID
from wire._fields import TEXT_LEN as TEXT
from wire.orders import MAX_OPTIONS, MAX_WARNINGS, NOTE_LEN, ORDER_SOURCES

log = logging.getLogger(__name__)

_GONE = (OrderState.CANCELLED, OrderState.REFUNDED)


def apply_orders(
    shop: str, orders: Iterable[ShopOrder], boxes: Sequence[str], secret: bytes, now: float
) -> set[str]:
    """Brings the ledger and the outbox in line with these orders; returns the skus whose level moved."""
    touched: set[str] = set()
    for order in orders:
        touched |= _apply(shop, order, boxes, secret, now)
    return touched


def _apply(shop: str, order: ShopOrder, boxes: Sequence[str], secret: bytes, now: float) -> set[str]:
    row = m.ShopOrder.get_or_none(m.ShopOrder.shop == shop, m.ShopOrder.order_id == order.order_id)
    is_new = row is None
    if row is None:
        row = m.ShopOrder(
            shop=shop,
            order_id=order.order_id,
            pickup_code=pickup_code(secret, shop, order.order_id) if order.pickup else None,
            updated_at=now,
        )
    touched = _stock_effect(shop, order)
    row.state, row.status, row.updated_at = order.state.value, order.status, now
    if (
        not row.sent
        and order.problem is None
        and order.state is OrderState.PAID
        and order.holds_stock
        and order.lines
    ):
        screened = screen(order)
        message = to_wire(screened)
        if screened.warnings:  # it prints anyway, warnings on the ticket; the owner sees why
            warned = "; ".join(screened.warnings)
            log.warning("shop %s: order %s prints with warnings: %s", shop, order.order_id, warned[:300])
            parking.park(shop, f"order/{order.order_id}/warnings"[:300], "order", warned, now)
        delivery.add_order(shop, order.order_id, now)
        row.message = json.dumps(message.to_json(), ensure_ascii=False)
        row.sent = True
    # Only the columns polling owns: a till may be recording the hand-over of this order right now.
    owned = [
        m.ShopOrder.state,
        m.ShopOrder.status,
        m.ShopOrder.updated_at,
        m.ShopOrder.message,
        m.ShopOrder.sent,
    ]
    row.save(force_insert=True) if is_new else row.save(only=owned)
    if order.state is OrderState.COMPLETED:
        m.ShopOrder.update(completion="done").where(
            m.ShopOrder.shop == shop,
            m.ShopOrder.order_id == order.order_id,
            m.ShopOrder.completion == "wanted",
        ).execute()
    return touched


def _stock_effect(shop: str, order: ShopOrder) -> set[str]:
    lines = [(line.line_id, line.sku, line.qty) for line in order.lines if line.sku and line.qty > 0]
    if order.state in _GONE or not order.holds_stock:
        return ledger.release(shop, order.order_id)
    touched = ledger.reserve(shop, order.order_id, lines)
    if order.state is OrderState.COMPLETED:
        touched |= ledger.consume(shop, order.order_id, format_ts(order.updated_at), "shipped")
    return touched


def to_wire(order: ShopOrder, tz: str = "") -> Order:
    """The order for the boxes, before `delivery` gives each box its view (state, ticket, pickup hash).

    Everything the kitchen needs travels (options, notes, slot, address, payment); text is clipped to the
    wire's limits, never refused: an odd order prints with its warnings rather than not at all.
    """
    lines = tuple(_wire_line(line) for line in order.lines if line.qty > 0)
    return Order(
        order_id=order.order_id,
        placed_at=format_ts(order.placed_at),
        kind="pickup" if order.pickup else "delivery",
        lines=lines,
        total_cents=max(0, order.total_cents),
        customer=order.customer[:TEXT],
        notes=order.note[:NOTE_LEN],
        number=order.number[:ID] if order.number and order.number != order.order_id else "",
        due_at=format_ts(order.requested_at) if order.requested_at is not None else None,
        tz=tz[:ID],
        phone=order.phone[:TEXT],
        address=order.address[:TEXT],
        paid=order.paid,
        due_cents=0 if order.paid else max(0, order.due_cents),
        allergies=order.allergies[:NOTE_LEN],
        warnings=tuple(w[:TEXT] for w in order.warnings[:MAX_WARNINGS]),
        source=order.source if order.source in ORDER_SOURCES else "online",
    )


def _wire_line(line: ShopLine) -> OrderLine:
    return OrderLine(
        (line.sku or "-")[:ID],
        (line.name or line.sku or "-")[:TEXT],
        line.qty,
        max(0, line.unit_price_cents),
        options=tuple(
            LineOption(o.name[:TEXT], o.value[:TEXT]) for o in line.options[:MAX_OPTIONS] if o.value
        ),
        note=line.note[:TEXT],
        tags=tuple(t[:ID] for t in line.tags[:MAX_OPTIONS] if t),
    )


def pickup_code(secret: bytes, shop: str, order_id: str) -> str:
    """The code the customer's QR holds: unguessable from the order number, the same in every worker.

    Eight base32 characters (A–Z, 2–7): what the box's pickup barcodes carry (`devices.barcodes.pickup`).
    """
    digest = hmac.new(secret, f"{shop}/{order_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:5]).decode()


def pickup_code_of(shop: str, order_id: str) -> str | None:
    """The pickup code the customer was given for an order (what the shop's confirmation carries)."""
    row = m.ShopOrder.get_or_none(m.ShopOrder.shop == shop, m.ShopOrder.order_id == order_id)
    return None if row is None else row.pickup_code


def wanted_completions(shop: str) -> list[Any]:
    """Orders handed over at a till whose completion has not reached the shop yet."""
    query = m.ShopOrder.select().where(m.ShopOrder.shop == shop, m.ShopOrder.completion == "wanted")
    return list(query.order_by(m.ShopOrder.updated_at))
