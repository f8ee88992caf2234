"""Online orders as tickets: the wire's `Order` in the ticket layouts' terms (`firmware_agent.tickets`)."""

from __future__ import annotations

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
    """What the ticket's QR code holds: the order id, for the staff's eyes and scanners.

    Never the pickup code: the box does not know it (only what verifies it), and a ticket lying on the
    counter must not be something anyone can collect the order with.
    """
    return order.order_id


def _local(ts: str) -> str:
    moment = parse_ts(ts)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ts
