"""The standard control sheet: which command barcodes it carries and under which labels.

The codes come from `devices.barcodes.encode_command`, so the sheet prints exactly what the box reads back.
Codes must stay within 12 ASCII characters to fit a CODE128 on 58 mm paper.
"""

from __future__ import annotations

from collections.abc import Mapping

from devices.barcodes import Cancel, Mode, PrintLabels, Quantity, Return, SetMode, encode_command
from firmware_agent.tickets.model import ControlCode, ControlSheet

MODES = ("sale", "receive", "count", "lookup")
QUANTITIES = (2, 3, 6, 12, 24)

COMMAND_CODES: dict[str, str] = {
    **{f"mode:{mode}": encode_command(SetMode(Mode(mode))) for mode in MODES},
    **{f"qty:{qty}": encode_command(Quantity(qty)) for qty in QUANTITIES},
    "cancel": encode_command(Cancel()),
    "return": encode_command(Return()),
    "labels": encode_command(PrintLabels()),
}


def default_control_sheet(codes: Mapping[str, str] = COMMAND_CODES) -> ControlSheet:
    """Modes, then quantity multipliers, then cancel; `codes` maps each command key to its barcode."""
    return ControlSheet(
        (
            *(ControlCode("Modes", f"Mode: {mode}", codes[f"mode:{mode}"]) for mode in MODES),
            *(ControlCode("Quantity", f"Quantity ×{qty}", codes[f"qty:{qty}"]) for qty in QUANTITIES),
            ControlCode("Other", "Cancel the pending quantity", codes["cancel"]),
            ControlCode("Other", "Next scan is a return", codes["return"]),
            ControlCode("Other", "Print the shelf labels to change", codes["labels"]),
        )
    )
