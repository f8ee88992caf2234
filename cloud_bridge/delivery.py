"""Orders onto the shop's boxes: every box knows every open order, one prints it, delivered on the box's ack.

Every box of a shop gets every open order, so a pickup code is verified at whichever till the customer goes
to; only the box holding the shop's `orders` role gets it with `ticket: true` and prints it. Each box's view
of an order (its state, whether it prints) is a `Delivery` at a revision; a change (a cancellation, a
collection, the ticket moving) is the next revision of the whole view, so the box never holds half a change.

A PUBACK only means the broker has a message: a box whose session is wiped (a client-id takeover, a broker
that lost its store) never gets it. So a revision counts as delivered only once the box acks it on
`orders/ack`; until then it is sent again every `orders_resend_s` while the box is online (the box keeps the
highest revision and acks repeats, so resending is harmless).

Failover: when the printing box has been offline (its Last Will) for `orders_failover_s` and has not acked
the order, nor has anyone printed it (`order_printed` in a journal), the ticket moves to the first online
box of the shop, the role holder first. The copies sent to the old box expire at the broker after the same
time (MQTT v5 message expiry), so a box that comes back later finds nothing printable waiting; what it gets
is the next revision, without the ticket. An order the holder has acked is its own to print: it is on its
disk and prints when it can (a power cut between receiving and printing still prints it once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

from cloud_bridge import models as m
from cloud_bridge.config import ShopConfig
from cloud_bridge.parking import park
from wire import Kind, Order, OrderAck, PickupKey, build_topic, encode, pickup_hash

log = logging.getLogger(__name__)

KEY_REF: Final = "key"
PUBLISH_WAIT_S: Final = 5.0
BATCH: Final = 500  # deliveries published per call
_LOOK: Final[Any] = object()  # `_want`: read the row first


class Publisher(Protocol):
    def publish(
        self, topic: str, payload: bytes, qos: int, *, wait: float | None = None, expiry_s: int | None = None
    ) -> bool:
        """True once the broker has the message (PUBACK) within `wait` seconds."""
        ...


def order_ref(order_id: str) -> str:
    return f"order/{order_id}"


def shop_pickup_key(secret: bytes, shop: str, key_id: int) -> bytes:
    """The shop's pickup key number `key_id`, which its boxes verify pickup codes with.

    Derived from the bridge's pickup secret, so every worker has it without storing it, and each shop's key
    is its own: a box that leaks its keys can check codes of its own shop only, and make none (codes come
    from the secret itself). A new `key_id` is a new key (rotation).
    """
    return hmac.new(secret, f"pickup-key/{shop}/{key_id}".encode(), hashlib.sha256).digest()


# --- what goes in -------------------------------------------------------------------------------------------


def add_order(shop: str, order_id: str, now: float) -> None:
    """An order for the boxes (its message is `ShopOrder.message`): planned at the shop's next pass."""
    m.OrderTicket.insert(shop=shop, order_id=order_id, created_at=now).on_conflict_ignore().execute()


def reopen(shop: str, order_id: str) -> None:
    """An order that left the boxes' floor is back on it (a Shopify order moved back here): it is planned
    again, its next revision above the highest its boxes had (`OrderTicket.rev`), since a box ignores a
    revision at or below the one it keeps."""
    m.OrderTicket.update(done=False).where(
        (m.OrderTicket.shop == shop) & (m.OrderTicket.order_id == order_id)
    ).execute()


def sync_presence(shop: str, box: str, now: float) -> bool:
    """Follows the fleet's online flag (births and Wills, stale Wills already sorted out by `fleet`) and
    notes since when; True when the box has just come online, so what waits for it goes out now.
    """
    row = m.Box.get_or_none(m.Box.shop == shop, m.Box.box == box)
    online = bool(row is not None and row.online)
    was = m.Presence.get_or_none(m.Presence.shop == shop, m.Presence.box == box)
    if was is not None and bool(was.online) == online:
        return False  # the same again (every worker gets every retained birth, again at each reconnect)
    m.Presence.insert(shop=shop, box=box, online=online, since=now).on_conflict(
        conflict_target=[m.Presence.shop, m.Presence.box],
        update={m.Presence.online: online, m.Presence.since: now},
    ).execute()
    back = online
    if back:  # what it has not acked goes out at once: copies sent before it was here may be gone
        m.Delivery.update(sent=0).where(
            (m.Delivery.shop == shop) & (m.Delivery.box == box) & (m.Delivery.acked < m.Delivery.rev)
        ).execute()
    return back


def on_ack(shop: ShopConfig, box: str, ack: OrderAck, now: float) -> None:
    """A box has a revision on its disk (or refuses it, which parks the order for that box)."""
    ref = KEY_REF if ack.key_id is not None else order_ref(str(ack.order_id))
    row = m.Delivery.get_or_none(m.Delivery.shop == shop.id, m.Delivery.box == box, m.Delivery.ref == ref)
    if row is None:
        log.warning("box %s/%s acked %s, which was never sent to it: ignored", shop.id, box, ref)
        return
    where = (m.Delivery.shop == shop.id) & (m.Delivery.box == box) & (m.Delivery.ref == ref)
    if ack.refused is not None:
        log.error("box %s/%s refused %s: %s", shop.id, box, ref, ack.refused)
        m.Delivery.update(refused=ack.refused[:1000]).where(where).execute()
        park(shop.id, f"{ref}/{box}", "order", f"box {box} refused it: {ack.refused}", now, box=box)
        return
    rev = min(int(ack.key_id if ack.key_id is not None else ack.rev or 0), row.rev)
    m.Delivery.update(acked=rev).where(where & (m.Delivery.acked < rev)).execute()


# --- planning -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Seen:
    online: bool
    since: float


def plan(shop: ShopConfig, secret: bytes, now: float) -> None:
    """Brings every box's view of the shop's key and open orders up to date (inside a write transaction)."""
    key = shop_pickup_key(secret, shop.id, shop.pickup_key_id)
    for box in shop.boxes:
        _want(shop.id, box, KEY_REF, encode(PickupKey(shop.pickup_key_id, key.hex())), shop.pickup_key_id)
    presence = {
        row.box: _Seen(bool(row.online), float(row.since))
        for row in m.Presence.select().where(m.Presence.shop == shop.id)
    }
    pending = list(
        m.OrderTicket.select().where(m.OrderTicket.shop == shop.id, m.OrderTicket.done == False)  # noqa: E712
    )
    orders = _by_id(shop.id, [t.order_id for t in pending])
    kept = {
        (row.box, row.ref): row
        for row in m.Delivery.select().where(m.Delivery.shop == shop.id, m.Delivery.ref != KEY_REF)
    }
    for ticket in pending:
        order = orders.get(ticket.order_id)
        if order is None or not order.message:
            ticket.delete_instance()
            continue
        ref = order_ref(ticket.order_id)
        state = _state(order)
        if state == "open" and order.printed_by is None:
            _place_ticket(shop, ticket, kept.get((ticket.box, ref)), presence, now)
        base = Order.from_json(json.loads(order.message))
        if order.pickup_code:
            digest = pickup_hash(key, base.order_id, order.pickup_code)
            base = replace(base, pickup_hash=digest, pickup_key=shop.pickup_key_id)
        finished = state != "open"
        for box in shop.boxes:
            view = replace(base, state=state, ticket=box == ticket.box)
            finished &= _want_order(shop.id, box, view, kept.get((box, ref)), int(ticket.rev))
        if finished:  # every box has the final state: nothing more to send or to keep but its revision
            last = max([int(ticket.rev)] + [kept[(box, ref)].rev for box in shop.boxes if (box, ref) in kept])
            m.OrderTicket.update(done=True, rev=last).where(_ticket_key(ticket)).execute()
            m.Delivery.delete().where((m.Delivery.shop == shop.id) & (m.Delivery.ref == ref)).execute()


def _by_id(shop: str, order_ids: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        query = m.ShopOrder.select().where(m.ShopOrder.shop == shop, m.ShopOrder.order_id.in_(chunk))
        found.update((row.order_id, row) for row in query)
    return found


def _state(order: Any) -> str:
    if order.state in ("cancelled", "refunded"):
        return "cancelled"
    if order.collected_by is not None or order.state == "completed":
        return "collected"
    return "open"


def _place_ticket(
    shop: ShopConfig, ticket: Any, printer: Any, presence: dict[str, _Seen], now: float
) -> None:
    """Gives the ticket to the role holder, or moves it off a printer that has been away too long."""
    holder = shop.orders_holder
    if holder is None:
        return
    if ticket.box is None:
        away = _away_too_long(shop, holder, presence.get(holder), float(ticket.created_at), now)
        target = (_first_online(shop, presence, exclude=holder) if away else None) or holder
        _assign(ticket, target, now)
        return
    if printer is not None and printer.acked >= printer.rev:
        return  # on its disk: it prints there
    if not _away_too_long(shop, ticket.box, presence.get(ticket.box), float(ticket.assigned_at), now):
        return
    sent_at: float | None = printer.sent_at if printer is not None else None
    if sent_at is not None and now - sent_at < shop.orders_failover_s:
        return  # a copy may still wait at the broker: it expires first
    moved_to = _first_online(shop, presence, exclude=ticket.box)
    if moved_to is not None:
        log.warning(
            "shop %s: box %s is away, order %s prints at %s instead",
            shop.id,
            ticket.box,
            ticket.order_id,
            moved_to,
        )
        _assign(ticket, moved_to, now)


def _away_too_long(shop: ShopConfig, box: str, seen: _Seen | None, assigned_at: float, now: float) -> bool:
    if seen is None:  # never heard of: away since the order was given to it
        return now - assigned_at >= shop.orders_failover_s
    return not seen.online and now - seen.since >= shop.orders_failover_s


def _first_online(shop: ShopConfig, presence: dict[str, _Seen], *, exclude: str) -> str | None:
    holder = shop.orders_holder
    ordered = [holder] + [b for b in shop.boxes if b != holder] if holder else list(shop.boxes)
    return next((b for b in ordered if b != exclude and b in presence and presence[b].online), None)


def _assign(ticket: Any, box: str, now: float) -> None:
    log.info("shop %s: order %s prints at %s", ticket.shop, ticket.order_id, box)
    ticket.box, ticket.assigned_at = box, now
    m.OrderTicket.update(box=box, assigned_at=now).where(_ticket_key(ticket)).execute()


def _ticket_key(ticket: Any) -> Any:
    return (m.OrderTicket.shop == ticket.shop) & (m.OrderTicket.order_id == ticket.order_id)


def _want_order(shop: str, box: str, view: Order, row: Any, floor: int = 0) -> bool:
    """Sets the box's view of an order (a new revision if it changed, above `floor`: the highest its boxes
    had when it last left the floor); True if the box has acked it."""
    if row is not None and row.payload is not None:
        kept = json.loads(bytes(row.payload))
        if {**kept, "rev": 0} == {**_json(replace(view, rev=1)), "rev": 0}:
            return bool(row.acked >= row.rev or row.refused is not None)
    rev = max(row.rev if row is not None else 0, floor) + 1
    _want(shop, box, order_ref(view.order_id), encode(replace(view, rev=rev)), rev, row)
    return False


def _json(order: Order) -> dict[str, Any]:
    return {"v": 1, **order.to_json()}


def _want(shop: str, box: str, ref: str, payload: bytes, rev: int, existing: Any = _LOOK) -> None:
    if existing is _LOOK:
        existing = m.Delivery.get_or_none(
            m.Delivery.shop == shop, m.Delivery.box == box, m.Delivery.ref == ref
        )
    if existing is None:
        m.Delivery.insert(shop=shop, box=box, ref=ref, rev=rev, payload=payload).execute()
    elif existing.rev != rev:
        m.Delivery.update(rev=rev, payload=payload, refused=None).where(
            (m.Delivery.shop == shop) & (m.Delivery.box == box) & (m.Delivery.ref == ref)
        ).execute()


# --- sending ------------------------------------------------------------------------------------------------


def due(shop: ShopConfig, now: float, resend_s: float) -> list[Any]:
    """Deliveries to publish now: not acked, never sent at this revision or sent `resend_s` ago, to boxes
    not known to be offline (they get theirs when their birth arrives). Keys before orders."""
    offline = {
        row.box
        for row in m.Presence.select(m.Presence.box).where(
            m.Presence.shop == shop.id,
            m.Presence.online == False,  # noqa: E712
        )
    }
    rows = (
        m.Delivery.select()
        .where(m.Delivery.shop == shop.id, m.Delivery.acked < m.Delivery.rev, m.Delivery.refused.is_null())
        .limit(BATCH * 4)
    )
    wanted = [
        row
        for row in rows
        if row.box in shop.boxes
        and row.box not in offline
        and (row.sent < row.rev or row.sent_at is None or now - row.sent_at >= resend_s)
    ]
    return sorted(wanted, key=lambda row: (row.ref != KEY_REF, row.ref))[:BATCH]


def publish(shop: ShopConfig, rows: Iterable[Any], publisher: Publisher) -> list[tuple[str, str, int]]:
    """Publishes deliveries; returns (box, ref, rev) of those the broker took, stopping at the first it did
    not. Orders expire at the broker after the failover time, so a copy waiting for an offline box cannot
    print there after its ticket moved."""
    sent: list[tuple[str, str, int]] = []
    for row in rows:
        topic = build_topic(shop.id, row.box, Kind.ORDERS)
        expiry = None if row.ref == KEY_REF else int(shop.orders_failover_s)
        if not publisher.publish(topic, bytes(row.payload), 1, wait=PUBLISH_WAIT_S, expiry_s=expiry):
            break
        sent.append((row.box, row.ref, int(row.rev)))
    return sent


def mark_sent(shop: str, sent: Iterable[tuple[str, str, int]], now: float) -> None:
    for box, ref, rev in sent:
        m.Delivery.update(sent=rev, sent_at=now).where(
            (m.Delivery.shop == shop) & (m.Delivery.box == box) & (m.Delivery.ref == ref)
        ).execute()
