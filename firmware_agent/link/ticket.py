"""Online orders as tickets: the wire's `Order` in the ticket layouts' terms (`firmware_agent.tickets`)."""

from __future__ import annotations

from devices.barcodes import encode_pickup
from devices.errors import BarcodeError
from devices.printers import PageSetup
from firmware_agent.config import AgentConfig
from firmware_agent.tickets import OnlineOrder, OrderLine, TicketStyle
from firmware_agent.tickets import order_ticket as order_layout
from wire import Order, parse_ts


def page_of(config: AgentConfig) -> PageSetup:
    printer = config.printer
    if printer is None:
        return PageSetup()
    return PageSetup(paper_mm=printer.paper_mm, codepage=printer.codepage, profile=printer.profile)


def order_ticket(order: Order, page: PageSetup) -> bytes:
    online = OnlineOrder(
        order_id=order.order_id,
        customer_name=order.customer,
        lines=tuple(OrderLine(line.qty, line.name, line.price_cents) for line in order.lines),
        total_cents=order.total_cents,
        pickup_payload=pickup_payload(order),
        notes=order.notes,
        placed_at=_local(order.placed_at),
    )
    return order_layout(online, TicketStyle(page=page))


def pickup_payload(order: Order) -> str:
    """What the QR code holds: the pickup code the till reads back (`order_collected`), or the order id.

    Pickup codes are read upper case, so the order id travels upper case; an id the pickup format cannot
    carry (or an order without a pickup code) gets a QR code of the plain order id, for the staff's eyes.
    """
    if order.pickup_code:
        try:
            return encode_pickup(order.order_id.upper(), order.pickup_code.upper())
        except BarcodeError:
            pass
    return order.order_id


def _local(ts: str) -> str:
    moment = parse_ts(ts)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ts
