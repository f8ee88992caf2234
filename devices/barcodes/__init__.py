"""Barcode interpretation for the box: what a scan means, without any I/O.

`interpret(text)` turns one scan into a `Barcode` (EAN/UPC, GS1, variable-measure label, staff command,
order pickup, other text, or invalid with a reason). The encoders print what `interpret` reads back.
"""

from devices.barcodes.commands import (
    Cancel,
    Command,
    Mode,
    OrderCopy,
    OrderHandOver,
    OrderStep,
    PrintLabels,
    Quantity,
    Return,
    SetMode,
    encode_command,
)
from devices.barcodes.config import DEFAULT_CONFIG, GS, BarcodeConfig
from devices.barcodes.gtin import check_digit, expand_upce, with_check_digit
from devices.barcodes.interpret import interpret
from devices.barcodes.model import Barcode, Kind
from devices.barcodes.pickup import Pickup, encode_pickup
from devices.barcodes.variable_measure import DEFAULT_LAYOUTS, PRESETS, Layout, parse_layout, preset_layouts
from devices.errors import BarcodeError

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_LAYOUTS",
    "GS",
    "PRESETS",
    "Barcode",
    "BarcodeConfig",
    "BarcodeError",
    "Cancel",
    "Command",
    "Kind",
    "Layout",
    "Mode",
    "OrderCopy",
    "OrderHandOver",
    "OrderStep",
    "Pickup",
    "PrintLabels",
    "Quantity",
    "Return",
    "SetMode",
    "check_digit",
    "encode_command",
    "encode_pickup",
    "expand_upce",
    "interpret",
    "parse_layout",
    "preset_layouts",
    "with_check_digit",
]
