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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from cloud_bridge import delivery, ledger, parking
from cloud_bridge import models as m
from cloud_bridge.connectors.base import (
    FloorOrders,
    FloorStage,
    OrderDraft,
    OrderState,
    ShopConnector,
    ShopOrder,
    StageChange,
)
from cloud_bridge.connectors.base import OrderLine as ShopLine
from cloud_bridge.connectors.orderfacts import screen
from cloud_bridge.errors import UnsupportedOperation
from wire import LineOption, Order, OrderLine, PhoneOrder, format_ts
from wire._fields import ID_LEN as ID
from wire._fields import TEXT_LEN as TEXT
from wire.orders import MAX_OPTIONS, MAX_WARNINGS, NOTE_LEN, ORDER_SOURCES

log = logging.getLogger(__name__)

_GONE = (OrderState.CANCELLED, OrderState.REFUNDED)
_GONE_STATES: Final = frozenset(state.value for state in _GONE)  # as `ShopOrder.state` keeps them


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
    if is_new and not order.lines and order.state in _GONE:
        return set()  # nothing of it was ever here (another location's order): not this store's to record
    if row is not None and row.moved_at is not None and _version(order) < row.moved_at:
        return set()  # a stale read, from before the version that moved its part here: nothing of it is news
    back = row is not None and _back(row, order)
    if row is None:
        row = m.ShopOrder(
            shop=shop,
            order_id=order.order_id,
            pickup_code=pickup_code(secret, shop, order.order_id) if order.pickup else None,
            updated_at=now,
        )
    touched = _stock_effect(shop, order, back=back)
    if back and row.sent and row.state in _GONE_STATES:  # withdrawn from the floor: back on it
        delivery.reopen(shop, order.order_id)
    row.moved_at = None if is_new else _moved_at(shop, row, order)
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
        if row.pickup_code:  # the customer learns their code from the shop's own mail
            note_code(shop, order.order_id, row.pickup_code, now)
        row.message = json.dumps(message.to_json(), ensure_ascii=False)
        row.sent = True
    elif row.sent and row.message and order.problem is None and order.lines:
        row.message = _with_lines(row.message, order)
    # Only the columns polling owns: a till may be recording the hand-over of this order right now.
    owned = [
        m.ShopOrder.state,
        m.ShopOrder.status,
        m.ShopOrder.updated_at,
        m.ShopOrder.message,
        m.ShopOrder.sent,
        m.ShopOrder.moved_at,
    ]
    row.save(force_insert=True) if is_new else row.save(only=owned)
    if order.state is OrderState.COMPLETED:
        m.ShopOrder.update(completion="done").where(
            m.ShopOrder.shop == shop,
            m.ShopOrder.order_id == order.order_id,
            m.ShopOrder.completion == "wanted",
        ).execute()
    return touched


def _version(order: ShopOrder) -> float:
    """The shop's version of the order: its update time (Unix s; Shopify's `updatedAt`, to the second)."""
    return order.updated_at.timestamp()


def _back(row: Any, order: ShopOrder) -> bool:
    """Whether the order came back here after its part here moved to another location (Shopify's
    `fulfillmentOrderMove` back to this location, or a split order's part moved back): a version strictly
    newer than the last one applied since it moved shows lines here that hold stock, read in full. Its
    moved-away lines are then held again (`ledger.hold_again`: never a cancelled or consumed one) and the
    boxes get it open again as the next revision (`delivery.reopen`) with the lines now here.

    The kitchen gets a ticket only for what it does not have on paper: the box took back the ticket it had
    not printed when the order was withdrawn, and prints it now; a ticket already printed is not printed
    again (the box keeps it printed), since the kitchen has it under the same floor number and a second
    one would have the order made twice. A version at the same second as the one that moved it is not
    taken as newer (two changes in one second cannot be told apart; holding the units of a read that may
    be stale is what `reserve`'s "counted once" forbids)."""
    return (
        row.moved_at is not None
        and _version(order) > row.moved_at
        and order.state not in _GONE
        and order.holds_stock
        and not order.withdrawn
        and order.problem is None
        and bool(order.lines)
    )


def _moved_at(shop: str, row: Any, order: ShopOrder) -> float | None:
    """The version to keep in `ShopOrder.moved_at`: once part of the order here moved away (it came
    withdrawn, or a line of it left, `ledger.MOVED`), the newest version applied, so a read of an older one
    is known as stale for good; None while nothing of it ever moved. The ledger is asked only when a line
    may have just left (`reserve` followed the order), so an order that never moves costs no query."""
    followed = order.problem is None and order.state not in _GONE and order.holds_stock
    moved = (
        row.moved_at is not None
        or order.withdrawn
        or (followed and ledger.has_moved_lines(shop, order.order_id))
    )
    return max(row.moved_at or 0.0, _version(order)) if moved else None


def _with_lines(message: str, order: ShopOrder) -> str:
    """The boxes' message of a sent order with the order's lines as they are now, when what is here changed
    (part of a Shopify order moved to another location leaves this store's lines): `delivery` sends the
    boxes the new revision, whose ticket, printed already, is not printed again. Lines with the same skus
    and quantities leave the message as it was (a product's new tags do not route a sent order anew)."""
    kept = json.loads(message)
    lines = to_wire(screen(order)).to_json()["lines"]
    if _units(kept.get("lines") or []) == _units(lines):
        return message
    return json.dumps({**kept, "lines": lines}, ensure_ascii=False)


def _units(lines: list[Any]) -> list[tuple[Any, Any]]:
    """(sku, qty) of each of a message's lines."""
    return [(line.get("sku"), line.get("qty")) for line in lines if isinstance(line, dict)]


def _stock_effect(shop: str, order: ShopOrder, *, back: bool = False) -> set[str]:
    """The order's hold as the shop shows it now; `back`: it came back here, its lines moved away are
    held again first (`_back`)."""
    lines = [(line.line_id, line.sku, line.qty) for line in order.lines if line.sku and line.qty > 0]
    if order.withdrawn:
        return ledger.move_away(shop, order.order_id)
    if order.state in _GONE or not order.holds_stock:
        return ledger.release(shop, order.order_id)
    touched = ledger.hold_again(shop, order.order_id, [line_id for line_id, _, _ in lines]) if back else set()
    touched |= ledger.reserve(shop, order.order_id, lines, follow=order.problem is None)
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


# --- the floor's news for the shop and its customer ------------------------------------------------------

STAGE_NAMES: Final = frozenset(stage.value for stage in FloorStage)
CODE: Final = "code"  # the notice that gives the customer their pickup code
NOTICE_BATCH: Final = 50
_TEXTS: Final[Mapping[str, Mapping[str, str]]] = {
    "es": {
        CODE: "Tu código de recogida: {code}. Enséñalo en la tienda al recoger el pedido.",
        "accepted": "Hemos aceptado tu pedido.",
        "accepted_eta": "Hemos aceptado tu pedido: estará listo en unos {eta} minutos.",
        "ready": "Tu pedido está listo para recoger.",
        "ready_delivery": "Tu pedido está listo y sale hacia ti.",
        "collected": "Pedido recogido. ¡Gracias!",
        "delivered": "Pedido entregado. ¡Gracias!",
    },
    "en": {
        CODE: "Your pickup code: {code}. Show it in the shop when you collect your order.",
        "accepted": "We have accepted your order.",
        "accepted_eta": "We have accepted your order: it will be ready in about {eta} minutes.",
        "ready": "Your order is ready to collect.",
        "ready_delivery": "Your order is ready and on its way.",
        "collected": "Order collected. Thank you!",
        "delivered": "Order delivered. Thank you!",
    },
}


def notice_text(
    stage: str, *, eta_min: int | None = None, pickup: bool = True, code: str = "", language: str = "es"
) -> str:
    """The line the customer reads (the shop mails it), in the shop's language."""
    words = _TEXTS.get(language, _TEXTS["en"])
    if stage == "accepted" and eta_min:
        return words["accepted_eta"].format(eta=eta_min)
    if stage == "ready" and not pickup:
        return words["ready_delivery"]
    return words[stage].format(code=code)


def note_stage(shop: str, order_id: str, stage: str, eta_min: int | None, source: str, now: float) -> None:
    """Queues the shop's news of a stage (once per journal entry `source`), in the caller's transaction;
    its text is written when it is sent, in the shop's language."""
    m.OrderNotice.insert(
        shop=shop, order_id=order_id, stage=stage, eta_min=eta_min, text="", source=source, created_at=now
    ).on_conflict_ignore().execute()


def note_code(shop: str, order_id: str, code: str, now: float) -> None:
    """Queues the customer's pickup code as a customer-visible note on the order (the shop's mail)."""
    m.OrderNotice.insert(
        shop=shop, order_id=order_id, stage=CODE, text=code, source=f"code/{order_id}"[:300], created_at=now
    ).on_conflict_ignore().execute()


CREATE: Final = "create"  # the notice that creates a phone order in the shop


def note_request(shop: str, ref: str, request: PhoneOrder, source: str, now: float) -> None:
    """Queues a phone order's creation in the shop (`ref` makes it one order however often it is sent)."""
    text = json.dumps({"ref": ref, "order": request.to_json()}, ensure_ascii=False)
    m.OrderNotice.insert(
        shop=shop, order_id=ref[:300], stage=CREATE, text=text, source=source, created_at=now
    ).on_conflict_ignore().execute()


def draft_of(text: str) -> OrderDraft:
    """The connector's draft from a queued phone order (as `note_request` wrote it)."""
    saved = json.loads(text)
    return OrderDraft.of(str(saved["ref"]), PhoneOrder.from_json(saved["order"]))


def pending_notices(shop: str) -> list[Any]:
    query = m.OrderNotice.select().where(m.OrderNotice.shop == shop, m.OrderNotice.state == "pending")
    return list(query.order_by(m.OrderNotice.id).limit(NOTICE_BATCH))


def send_notice(connector: ShopConnector, notice: Any, language: str = "es") -> None:
    """Tells the shop one notice, the customer's line in `language`. A connector without `FloorOrders` can
    still complete a handed-over order; the rest it cannot say (logged). Raises the connector's
    `ShopError`."""
    if notice.stage == CREATE:
        if not isinstance(connector, FloorOrders):
            raise UnsupportedOperation(connector.shop, "this shop's connector cannot create phone orders")
        created = connector.create_order(draft_of(notice.text))
        log.info(
            "shop %s: phone order %s created as order %s", connector.shop, notice.order_id, created.order_id
        )
        return
    if not isinstance(connector, FloorOrders):
        if notice.stage in ("collected", "delivered"):
            connector.complete_order(notice.order_id)
        else:
            log.info("shop %s cannot be told order %s is %s", connector.shop, notice.order_id, notice.stage)
        return
    if notice.stage == CODE:
        connector.tell_customer(notice.order_id, notice_text(CODE, code=notice.text, language=language))
        return
    row = m.ShopOrder.get_or_none(m.ShopOrder.shop == notice.shop, m.ShopOrder.order_id == notice.order_id)
    pickup = True if row is None or not row.message else json.loads(row.message).get("kind") != "delivery"
    text = notice_text(notice.stage, eta_min=notice.eta_min, pickup=pickup, language=language)
    connector.set_stage(StageChange(notice.order_id, FloorStage(notice.stage), text, pickup, notice.eta_min))
