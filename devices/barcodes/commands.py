"""Command barcodes: the control sheet staff scan to switch mode or enter a quantity.

The format uses only `A`–`Z` and `0`–`9` behind the prefix `TB`: a keyboard-wedge scanner types these the same
way on us/es/fr/de layouts as long as scanner and box agree on the layout, while punctuation (`*`, `-`, `/`)
sits on different keys per layout. Reading ignores case, because a wedge with Caps Lock on sends lowercase.
Quantities have three digits, so every command has exactly one spelling and `encode_command` prints what
`decode_command` reads.

    TBMSALE  TBMRECEIVE  TBMCOUNT  TBMLOOKUP               switch mode
    TBQTY006                                               the next scan counts 6 times (001–999)
    TBCANCEL                                               drop a pending quantity
    TBRETURN                                               the next scan is a customer's return
    TBLABELS                                               print the shelf labels whose prices changed
    TBGO1042                                               order 1042 to its next stage (its ticket's code)
    TBRP1042                                               print order 1042's tickets again (a copy)
    TBOUT1042                                              hand order 1042 over (its counter ticket's QR)
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from devices.errors import BarcodeError

PREFIX = "TB"
_MODE = PREFIX + "M"  # short: a control sheet code must fit a CODE128 on 58 mm paper
_QTY = PREFIX + "QTY"
_CANCEL = PREFIX + "CANCEL"
_RETURN = PREFIX + "RETURN"
_LABELS = PREFIX + "LABELS"
_STEP = PREFIX + "GO"
_COPY = PREFIX + "RP"
_HANDOVER = PREFIX + "OUT"
_ORDER_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}")
MAX_QUANTITY = 999


class Mode(enum.StrEnum):
    SALE = "sale"
    RECEIVE = "receive"
    COUNT = "count"
    LOOKUP = "lookup"


@dataclass(frozen=True)
class SetMode:
    mode: Mode

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", Mode(self.mode))
        except ValueError as exc:
            known = ", ".join(m.value for m in Mode)
            raise BarcodeError(f"unknown mode {self.mode!r} (known: {known})") from exc


@dataclass(frozen=True)
class Quantity:
    count: int

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not 1 <= self.count <= MAX_QUANTITY:
            raise BarcodeError(f"quantity must be 1 to {MAX_QUANTITY}, got {self.count!r}")


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class Return:
    pass


@dataclass(frozen=True)
class PrintLabels:
    """Print the list of shelf labels to change (and clear it once printed)."""


@dataclass(frozen=True)
class OrderStep:
    """Move order `order_id` to its next stage on the floor (accepted, ready, collected / delivered): the
    code printed on each of the order's tickets (docs/orders.md)."""

    order_id: str

    def __post_init__(self) -> None:
        _check_order_id(self.order_id)


@dataclass(frozen=True)
class OrderCopy:
    """Print order `order_id`'s tickets again, marked as a copy."""

    order_id: str

    def __post_init__(self) -> None:
        _check_order_id(self.order_id)


@dataclass(frozen=True)
class OrderHandOver:
    """Hand order `order_id` over: collected (pickup) or delivered, from whatever stage it is at. The QR
    on the order's counter ticket, which goes in the bag: scanned when the bag leaves the counter."""

    order_id: str

    def __post_init__(self) -> None:
        _check_order_id(self.order_id)


def _check_order_id(order_id: str) -> None:
    if not _ORDER_ID.fullmatch(order_id):
        raise BarcodeError(
            f"order id {order_id!r} must be 1 to 40 of A-Z, 0-9 and '-' (not first), upper case"
        )


Command = SetMode | Quantity | Cancel | Return | PrintLabels | OrderStep | OrderCopy | OrderHandOver
_BARE: dict[str, Command] = {_CANCEL: Cancel(), _RETURN: Return(), _LABELS: PrintLabels()}


def encode_command(command: Command) -> str:
    """The text to print as a Code 128 barcode on the control sheet."""
    match command:
        case SetMode(mode):
            return _MODE + mode.value.upper()
        case Quantity(count):
            return f"{_QTY}{count:03d}"
        case Cancel():
            return _CANCEL
        case Return():
            return _RETURN
        case PrintLabels():
            return _LABELS
        case OrderStep(order_id):
            return _STEP + order_id
        case OrderCopy(order_id):
            return _COPY + order_id
        case OrderHandOver(order_id):
            return _HANDOVER + order_id


def decode_command(text: str) -> Command | None:
    """The command in `text` (already upper-cased); None if it is not one; `BarcodeError` if it is broken."""
    if text.startswith(_MODE):
        return _decode_mode(text)
    if text.startswith(_QTY):
        return _decode_quantity(text)
    for prefix, kind in ((_STEP, OrderStep), (_COPY, OrderCopy), (_HANDOVER, OrderHandOver)):
        if not text.startswith(prefix):
            continue
        try:
            return kind(text[len(prefix) :])
        except BarcodeError as exc:
            raise BarcodeError(f"command barcode {text!r}: {exc}") from exc
    for word, command in _BARE.items():
        if text.startswith(word):
            if text != word:
                raise BarcodeError(f"command barcode {text!r}: nothing may follow {word}")
            return command
    return None


def _decode_mode(text: str) -> SetMode:
    name = text[len(_MODE) :]
    try:
        return SetMode(Mode(name.lower()))
    except ValueError as exc:
        known = ", ".join(m.value.upper() for m in Mode)
        raise BarcodeError(f"command barcode {text!r}: unknown mode {name!r} (known: {known})") from exc


def _decode_quantity(text: str) -> Quantity:
    digits = text[len(_QTY) :]
    if len(digits) != 3 or not digits.isdigit() or digits == "000":
        raise BarcodeError(f"command barcode {text!r}: the quantity must be three digits, 001 to 999")
    return Quantity(int(digits))
