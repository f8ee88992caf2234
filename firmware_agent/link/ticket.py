"""Online and phone orders as tickets: the wire's `Order` in the ticket layouts' terms, one per station.

Routing (docs/printers.md, "Stations"): a line goes to the first `[[orders.station]]` one of whose `tags`
is among the line's categories / tags (case and accents as the shop writes them, compared case-blind);
the counter (the box's own `[printer]`) prints the whole order with its total, payment and pickup QR.
A station with no line of the order gets no ticket.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.barcodes import OrderCopy, OrderHandOver, OrderStep, encode_command
from devices.errors import BarcodeError
from devices.printers import PageSetup
from firmware_agent.config import AgentConfig, OrdersConfig
from firmware_agent.store.order_numbers import preferred
from firmware_agent.store.orders import MAIN_STATION
from firmware_agent.tickets import OnlineOrder, OrderLine, TicketStyle
from firmware_agent.tickets import order_ticket as order_layout
from firmware_agent.tickets.layouts import kitchen_ticket
from firmware_agent.tickets.model import KitchenLine, KitchenTicket
from firmware_agent.tickets.words import word
from wire import Order, parse_ts
from wire import OrderLine as WireLine


def page_of(config: AgentConfig) -> PageSetup:
    printer = config.printer
    if printer is None:
        return PageSetup()
    return PageSetup(paper_mm=printer.paper_mm, codepage=printer.codepage, profile=printer.profile)


@dataclass(frozen=True)
class Routing:
    """The stations' tags and pages, and the counter's page: what `station_tickets` needs of the config."""

    counter: PageSetup
    stations: tuple[tuple[str, frozenset[str], PageSetup], ...] = ()
    sku_patterns: tuple[tuple[str, tuple[str, ...]], ...] = ()  # station -> shell patterns of skus
    language: str = "es"
    timezone: str = ""
    lead_time_s: float = 20 * 60

    @classmethod
    def of(cls, config: AgentConfig) -> Routing:
        orders: OrdersConfig = config.orders
        return cls(
            counter=page_of(config),
            stations=tuple(
                (
                    s.name,
                    frozenset(t.casefold() for t in s.tags),
                    PageSetup(paper_mm=s.paper_mm, codepage=s.codepage, profile=s.profile),
                )
                for s in orders.station
            ),
            sku_patterns=tuple((s.name, s.skus) for s in orders.station if s.skus),
            language=orders.language,
            timezone=orders.timezone,
            lead_time_s=orders.lead_time_min * 60.0,
        )

    def station_of(self, line: WireLine) -> str:
        """The first station one of whose tags the line has, else whose sku patterns it matches."""
        tags = {t.casefold() for t in line.tags}
        for name, wanted, _ in self.stations:
            if tags & wanted:
                return name
        for name, patterns in self.sku_patterns:
            if any(fnmatch.fnmatchcase(line.sku, pattern) for pattern in patterns):
                return name
        return MAIN_STATION


def station_tickets(order: Order, routing: Routing, number: str | None = None) -> dict[str, bytes]:
    """The order's ticket for the counter ("") and for each station that has lines of it, under its floor
    `number` (the box gives it as it keeps the order, store/order_numbers.py; None: the shop's number or
    the id, as the box would prefer it): the big number and the codes to scan."""
    number = number or _preferred_number(order)
    by_station: dict[str, list[WireLine]] = {}
    for line in order.lines:
        station = routing.station_of(line)
        if station != MAIN_STATION:
            by_station.setdefault(station, []).append(line)
    counter = _ticket(order, number, routing, MAIN_STATION, order.lines, tuple(by_station))
    tickets = {MAIN_STATION: kitchen_ticket(counter, TicketStyle(page=routing.counter))}
    for name, _, page in routing.stations:
        if name in by_station:
            mine = _ticket(order, number, routing, name, tuple(by_station[name]), ())
            tickets[name] = kitchen_ticket(mine, TicketStyle(page=page))
    return tickets


def _preferred_number(order: Order) -> str:
    return preferred(order.order_id, order.number) or order.shown_number.lstrip("#")


def print_at(order: Order, routing: Routing) -> float:
    """When a timed order's tickets print: the lead time before its slot (0: now, as soon as possible)."""
    due = parse_ts(order.due_at) if order.due_at else None
    return 0.0 if due is None else max(0.0, due.timestamp() - routing.lead_time_s)


def _ticket(
    order: Order,
    number: str,
    routing: Routing,
    station: str,
    lines: tuple[WireLine, ...],
    others: tuple[str, ...],
) -> KitchenTicket:
    zone = _zone(order.tz or routing.timezone)
    return KitchenTicket(
        order_id=order.order_id,
        number=number,
        language=routing.language,
        source=order.source,
        pickup=order.kind != "delivery",
        due=_due(order, routing.language, zone),
        lines=tuple(_line(line) for line in lines),
        station=station,
        customer=order.customer,
        phone=order.phone,
        address=order.address,
        note=order.notes,
        allergies=order.allergies,
        warnings=order.warnings,
        placed_at=_local(order.placed_at, zone),
        total_cents=order.total_cents,
        paid=order.paid,
        due_cents=order.due_cents,
        qr=handover_code(number) if station == MAIN_STATION else "",
        scan_code=_code(OrderStep, number),
        copy_code=_code(OrderCopy, number) if station == MAIN_STATION else "",
        other_stations=others,
    )


def _code(kind: type[OrderStep] | type[OrderCopy] | type[OrderHandOver], number: str) -> str:
    """The command barcode for the order's floor number ("" for one a barcode cannot carry: none the box
    gives, but a caller may pass any)."""
    try:
        return encode_command(kind(number.upper()))
    except BarcodeError:
        return ""


def _line(line: WireLine) -> KitchenLine:
    options = tuple(f"{o.name}: {o.value}" if o.name else f"+ {o.value}" for o in line.options)
    return KitchenLine(line.qty, line.name, line.price_cents, options, line.note)


def when(order: Order, timezone: str, language: str = "en") -> str:
    """When the order is wanted, as its tickets say it (the web page's order board shows the same)."""
    return _due(order, language, _zone(order.tz or timezone))


def _due(order: Order, language: str, zone: ZoneInfo | None) -> str:
    due = parse_ts(order.due_at) if order.due_at else None
    if due is None:
        return word(language, "asap")
    local = due.astimezone(zone) if zone is not None else due.astimezone()
    today = datetime.fromtimestamp(time.time(), local.tzinfo).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d/%m %H:%M")


def _zone(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def order_ticket(order: Order, page: PageSetup) -> bytes:
    """The counter's ticket alone, in the older layout (kept for `tillbridge ticket preview`)."""
    online = OnlineOrder(
        order_id=order.order_id,
        customer_name=order.customer,
        lines=tuple(OrderLine(line.qty, line.name, line.price_cents) for line in order.lines),
        total_cents=order.total_cents,
        pickup_payload=handover_code(_preferred_number(order)),
        notes=order.notes,
        placed_at=_local(order.placed_at, None),
    )
    return order_layout(online, TicketStyle(page=page))


def handover_code(number: str) -> str:
    """What the counter ticket's QR holds: the order's hand-over code (`TBOUT<number>`), which a scan at
    the counter turns into collected (or delivered), for every shop: the number fits where a Shopify gid
    does not ("" for one no barcode carries: none the box gives).

    Never the customer's pickup code: the box does not know it (only what verifies it). The counter ticket
    goes in the bag: scanning it is staff handing the bag over, as moving it on the page is.
    """
    return _code(OrderHandOver, number)


def _local(ts: str, zone: ZoneInfo | None) -> str:
    moment = parse_ts(ts)
    if moment is None:
        return ts
    return (moment.astimezone(zone) if zone is not None else moment.astimezone()).strftime("%Y-%m-%d %H:%M")
