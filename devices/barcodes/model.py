"""What a scan means: `Barcode`, the one value `interpret` returns for any input."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from devices.barcodes.commands import (
    Cancel,
    Command,
    OrderCopy,
    OrderHandOver,
    OrderStep,
    PrintLabels,
    Quantity,
    Return,
    SetMode,
)
from devices.barcodes.gtin import shorter_forms
from devices.barcodes.pickup import Pickup

_NO_AIS: Mapping[str, str] = MappingProxyType({})


class Kind(enum.StrEnum):
    EAN13 = "ean13"
    EAN8 = "ean8"
    UPCA = "upca"
    UPCE = "upce"
    GTIN14 = "gtin14"  # ITF-14 on outer cases, or 14 bare digits
    GS1 = "gs1"  # GS1-128 / GS1 DataMatrix / GS1 QR / DataBar element strings, GS1 Digital Link
    VARIABLE_MEASURE = "variable_measure"
    COMMAND = "command"
    PICKUP = "pickup"
    OTHER = "other"  # any other text: Code 128, plain QR, Code 39 …
    INVALID = "invalid"


_GTIN_KINDS = frozenset({Kind.EAN13, Kind.EAN8, Kind.UPCA, Kind.UPCE, Kind.GTIN14, Kind.GS1})


@dataclass(frozen=True, kw_only=True)
class Barcode:
    """One interpreted scan. Fields that do not apply to the kind are None (or empty).

    `gtin` is the code as printed on the item (UPC-A as 12 digits even when the scanner sent 13, UPC-E
    expanded to its UPC-A, GS1's AI (01) as GTIN-13 when its indicator digit is 0), `gtin14` the same
    number padded to 14 digits. `item_key` is a variable-measure label with its weight or price zeroed.
    """

    raw: str
    kind: Kind
    data: str = ""  # what is left of `raw` without the AIM prefix and the line ending
    symbology: str | None = None  # AIM identifier, e.g. "]E0"
    gtin: str | None = None
    gtin14: str | None = None
    item_code: str | None = None
    item_key: str | None = None
    weight_g: int | None = None
    price_cents: int | None = None
    ais: Mapping[str, str] = field(default_factory=lambda: _NO_AIS, hash=False)
    addon: str | None = None  # EAN/UPC 2- or 5-digit add-on (periodicals)
    command: Command | None = None
    pickup: Pickup | None = None
    error: str | None = None  # why the scan is invalid
    note: str | None = None  # something worth logging about a valid scan

    @property
    def valid(self) -> bool:
        return self.kind is not Kind.INVALID

    def lookup_keys(self) -> tuple[str, ...]:
        """The strings to try, in order, as a catalog barcode; empty if the scan is not an article.

        GTINs come as scanned first, then as GTIN-13, GTIN-14, and the shorter spellings the same number
        has with leading zeros dropped, because catalogs keep whatever form the shop typed in.
        """
        if self.kind is Kind.VARIABLE_MEASURE:
            return tuple(k for k in (self.item_key, self.item_code) if k)
        if self.kind is Kind.OTHER:
            return (self.data,) if self.data else ()
        if self.kind not in _GTIN_KINDS or self.gtin is None or self.gtin14 is None:
            return ()
        shorter = shorter_forms(self.gtin14)
        keys = [self.gtin, *shorter[:1], self.gtin14, *shorter[1:]]
        if self.kind is Kind.UPCE:
            keys.append(self.data)
        return tuple(dict.fromkeys(keys))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, for the CLI, logs and journal entries."""
        return {
            "raw": self.raw,
            "kind": self.kind.value,
            "valid": self.valid,
            "error": self.error,
            "note": self.note,
            "symbology": self.symbology,
            "data": self.data,
            "gtin": self.gtin,
            "gtin14": self.gtin14,
            "item_code": self.item_code,
            "weight_g": self.weight_g,
            "weight_kg": None if self.weight_g is None else self.weight_g / 1000,
            "price_cents": self.price_cents,
            "ais": dict(self.ais),
            "addon": self.addon,
            "command": None if self.command is None else command_to_dict(self.command),
            "pickup": None
            if self.pickup is None
            else {"order_id": self.pickup.order_id, "code": self.pickup.code},
            "lookup_keys": list(self.lookup_keys()),
        }


def command_to_dict(command: Command) -> dict[str, Any]:
    match command:
        case SetMode(mode):
            return {"command": "mode", "mode": mode.value}
        case Quantity(count):
            return {"command": "quantity", "quantity": count}
        case Cancel():
            return {"command": "cancel"}
        case Return():
            return {"command": "return"}
        case PrintLabels():
            return {"command": "labels"}
        case OrderStep(order_id):
            return {"command": "order_step", "order_id": order_id}
        case OrderCopy(order_id):
            return {"command": "order_copy", "order_id": order_id}
        case OrderHandOver(order_id):
            return {"command": "order_handover", "order_id": order_id}
