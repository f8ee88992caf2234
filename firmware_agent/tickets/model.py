"""What each ticket shows, as plain frozen data: the layouts turn it into bytes, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field

from devices.printers import PageSetup
from devices.readings import DeviceStatus
from firmware_agent.tickets.money import EUR, MoneyFormat


@dataclass(frozen=True)
class TicketStyle:
    page: PageSetup = field(default_factory=PageSetup)
    money: MoneyFormat = EUR
    header: str = ""  # the shop's name, printed on top when set


@dataclass(frozen=True)
class OrderLine:
    qty: int
    name: str
    unit_price_cents: int

    @property
    def total_cents(self) -> int:
        return self.qty * self.unit_price_cents


@dataclass(frozen=True)
class OnlineOrder:
    """An online order to prepare in the shop (kitchen or picking ticket)."""

    order_id: str
    customer_name: str
    lines: tuple[OrderLine, ...]
    total_cents: int  # as the shop charged it: shipping and discounts included
    pickup_payload: str  # what the pickup QR code holds; the wire contract's pickup code
    notes: str = ""
    placed_at: str = ""  # already formatted for the shop's locale
    pickup_at: str = ""


@dataclass(frozen=True)
class KitchenLine:
    """A line as the kitchen makes it: `options` already as printed ("Size: Large", "+ Olives")."""

    qty: int
    name: str
    unit_price_cents: int
    options: tuple[str, ...] = ()
    note: str = ""

    @property
    def total_cents(self) -> int:
        return self.qty * self.unit_price_cents


@dataclass(frozen=True)
class KitchenTicket:
    """One station's ticket for one order (docs/orders.md). The counter's ticket (`counter`) lists the
    whole order with its total, the payment and the pickup QR; a station's lists only its lines. Texts are
    already in the shop's language and time zone (`due`: "18:30" or "as soon as possible").
    """

    order_id: str
    number: str
    language: str
    source: str  # "online" or "phone"
    pickup: bool
    due: str
    lines: tuple[KitchenLine, ...]
    station: str = ""  # "" for the counter
    customer: str = ""
    phone: str = ""
    address: str = ""
    note: str = ""
    allergies: str = ""
    warnings: tuple[str, ...] = ()
    placed_at: str = ""
    total_cents: int = 0
    paid: bool = True
    due_cents: int = 0
    qr: str = ""  # what the counter ticket's QR holds
    scan_code: str = ""  # the barcode that moves the order on (devices.barcodes.OrderStep)
    copy_code: str = ""  # the barcode that prints the order's tickets again (devices.barcodes.OrderCopy)
    other_stations: tuple[str, ...] = ()

    @property
    def counter(self) -> bool:
        return not self.station


@dataclass(frozen=True)
class Handover:
    """A click & collect order given to the customer: the shop's record of it."""

    order_id: str
    customer_name: str
    lines: tuple[OrderLine, ...]
    total_cents: int
    paid_online: bool
    handed_over_at: str


@dataclass(frozen=True)
class ControlCode:
    group: str  # "Modes", "Quantity", …
    label: str
    code: str  # the barcode content the box recognises


@dataclass(frozen=True)
class ControlSheet:
    codes: tuple[ControlCode, ...]
    title: str = "Control sheet"


@dataclass(frozen=True)
class SelfTest:
    box_id: str
    ip: str
    version: str
    devices: tuple[DeviceStatus, ...]
    link: str  # "online", "offline since 10:02", …
    printed_at: str = ""


@dataclass(frozen=True)
class PriceChange:
    name: str
    old_cents: int
    new_cents: int
    barcode: str = ""  # EAN-13 when the item has one
    unit: str = "each"  # sold by measure ("kg", "l", "m"): the prices are per that unit, and say so


@dataclass(frozen=True)
class PriceChangeList:
    """Items whose shelf labels must be replaced."""

    changes: tuple[PriceChange, ...]
    effective: str = ""
    barcodes: bool = False  # print each EAN-13 as bars, for checking labels with the scanner
