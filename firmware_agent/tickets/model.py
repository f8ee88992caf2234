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
