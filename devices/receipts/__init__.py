"""Receipts a POS prints, read back into sales: the print stream cut into receipts (`capture`), per-POS
templates that find the lines, voids, returns, number and total and check they add up (`template`,
`presets`). Sans-IO and product-blind: the forwarding that captures the bytes and the mapping of lines to
skus live elsewhere (docs/receipts.md)."""

from devices.receipts.capture import CapturedReceipt, ReceiptReader, read_receipts
from devices.receipts.presets import PRESETS, preset
from devices.receipts.template import (
    LineKind,
    NotASale,
    Outcome,
    ParsedReceipt,
    ReceiptLine,
    ReceiptTemplate,
    TemplateError,
    Unreadable,
    parse_money,
)

__all__ = [
    "PRESETS",
    "CapturedReceipt",
    "LineKind",
    "NotASale",
    "Outcome",
    "ParsedReceipt",
    "ReceiptLine",
    "ReceiptReader",
    "ReceiptTemplate",
    "TemplateError",
    "Unreadable",
    "parse_money",
    "preset",
    "read_receipts",
]
