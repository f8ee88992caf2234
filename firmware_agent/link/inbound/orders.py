"""`orders`: an online order (or a shop's pickup key) kept on the box, and only then acked to the bridge,
which sends it again until then. An order that does not decode is refused with the reason naming the field,
so the bridge parks it instead of sending it forever; the next message is handled as usual."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from typing import Protocol

from devices.printers import PageSetup
from firmware_agent.link.events import Received
from firmware_agent.link.inbound.common import CoreCalls
from firmware_agent.link.settings import LinkSettings
from firmware_agent.link.ticket import order_ticket
from firmware_agent.store.orders import store_order, store_pickup_key
from wire import Kind, Order, OrderAck, PickupKey, WireError, decode, encode

log = logging.getLogger(__name__)


class OrderSide(CoreCalls, Protocol):
    @property
    def settings(self) -> LinkSettings: ...

    @property
    def page(self) -> PageSetup: ...

    @property
    def on_order(self) -> Callable[[], None] | None:
        """Wakes the printer when an order's ticket was queued."""
        ...

    def send(self, kind: Kind, payload: bytes, qos: int) -> None: ...


def on_orders(link: OrderSide, msg: Received) -> None:
    try:
        message = decode(Kind.ORDERS, msg.payload)
    except WireError as exc:
        log.warning("order refused (%d bytes on %s): %s", len(msg.payload), msg.topic, exc)
        if (order_id := _order_id_of(msg.payload)) is not None:
            with contextlib.suppress(WireError):  # not even its id is valid: nobody to name
                _ack(link, OrderAck(order_id=order_id, refused=str(exc)[:1024]))
        return
    if isinstance(message, PickupKey):
        link.call(lambda s: store_pickup_key(s, message.key_id, message.key))
        log.info("pickup key %d kept", message.key_id)
        _ack(link, OrderAck(key_id=message.key_id))
    elif isinstance(message, Order):
        _keep(link, message)


def _keep(link: OrderSide, order: Order) -> None:
    ticket = order_ticket(order, link.page)
    ttl = link.settings.order_ttl_s
    stored = link.call(lambda s: store_order(s, order.to_json(), ticket, ttl))
    if not stored.changed:
        log.info("order %s rev %d was already kept: nothing changes", order.order_id, order.rev)
    elif stored.new_job is not None:
        log.info("order %s stored, ticket queued (print job %d)", order.order_id, stored.new_job)
        if link.on_order is not None:
            link.on_order()
    elif stored.withdrawn is not None:
        log.info("order %s is %s: print job %d withdrawn", order.order_id, order.state, stored.withdrawn)
    else:
        log.info("order %s rev %d kept (%s)", order.order_id, order.rev, order.state)
    _ack(link, OrderAck(order_id=order.order_id, rev=stored.rev))


def _ack(link: OrderSide, ack: OrderAck) -> None:
    link.send(Kind.ORDERS_ACK, encode(ack), 1)


def _order_id_of(payload: bytes) -> str | None:
    """The order id of a message that is not a valid order, if one can be read, to refuse it by name."""
    try:
        obj = json.loads(payload)
    except ValueError:
        return None
    order_id = obj.get("order_id") if isinstance(obj, dict) else None
    return order_id if isinstance(order_id, str) else None
