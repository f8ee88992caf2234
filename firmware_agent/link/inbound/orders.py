"""`orders`: an online order (or a shop's pickup key) kept on the box, and only then acked to the bridge,
which sends it again until then. An order that does not decode is refused with the reason naming the field,
so the bridge parks it instead of sending it forever; the next message is handled as usual."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Protocol

from firmware_agent.config import AgentConfig
from firmware_agent.link.events import Received
from firmware_agent.link.inbound.common import CoreCalls
from firmware_agent.link.settings import LinkSettings
from firmware_agent.link.ticket import Routing, print_at, station_tickets
from firmware_agent.store import Store
from firmware_agent.store.order_numbers import assign
from firmware_agent.store.orders import Stored, prune, store_order, store_pickup_key
from wire import Kind, Order, OrderAck, PickupKey, WireError, decode, encode

log = logging.getLogger(__name__)


class OrderSide(CoreCalls, Protocol):
    @property
    def settings(self) -> LinkSettings: ...

    @property
    def config(self) -> AgentConfig:
        """What routes an order's lines to the stations' printers (`[orders]`) and sets the paper."""
        ...

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
    """Keeps the order with its ticket for each station (docs/orders.md); a timed order's tickets wait in
    the store until the lead time before its slot. Its floor number is given first, so the tickets carry
    it; they are rendered off the core loop (the link takes orders one at a time, so nobody takes the
    number in between). Each order kept also lets go of a few handed over long ago (`prune`)."""
    routing = Routing.of(link.config)
    number: str = link.call(lambda s: assign(s, order.order_id, order.number))
    tickets, when = station_tickets(order, routing, number), print_at(order, routing)
    ttl, keep_s = link.settings.order_ttl_s, link.config.orders.keep_days * 86400.0

    def keep(store: Store) -> Stored:
        stored = store_order(store, order.to_json(), tickets, ttl, when, number=number)
        prune(store, time.time() - keep_s)
        return stored

    stored: Stored = link.call(keep)
    if not stored.changed:
        log.info("order %s rev %d was already kept: nothing changes", order.order_id, order.rev)
    elif stored.timed and stored.new_job is None:
        log.info("order %s stored: its tickets print at %s", order.order_id, time.ctime(when))
    elif stored.new_job is not None:
        log.info("order %s stored, tickets queued (print jobs %s)", order.order_id, list(stored.new_jobs))
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
