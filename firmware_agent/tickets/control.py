"""The standard control sheet: which command barcodes it carries and under which labels.

`COMMAND_CODES` must equal what `devices.barcodes.encode_command` produces for each command; until that
module is merged this table stands in for it, and the lead wires it (pass `codes=` or replace the table).
Codes must stay within 12 ASCII characters to fit a CODE128 on 58 mm paper.
"""

from __future__ import annotations

from collections.abc import Mapping

from firmware_agent.tickets.model import ControlCode, ControlSheet

MODES = ("sale", "receive", "count", "lookup")
QUANTITIES = (2, 3, 6, 12, 24)

COMMAND_CODES: dict[str, str] = {
    **{f"mode:{mode}": f"TB:M:{mode.upper()}" for mode in MODES},
    **{f"qty:{qty}": f"TB:Q:{qty}" for qty in QUANTITIES},
    "cancel": "TB:CANCEL",
}


def default_control_sheet(codes: Mapping[str, str] = COMMAND_CODES) -> ControlSheet:
    """Modes, then quantity multipliers, then cancel; `codes` maps each command key to its barcode."""
    return ControlSheet(
        (
            *(ControlCode("Modes", f"Mode: {mode}", codes[f"mode:{mode}"]) for mode in MODES),
            *(ControlCode("Quantity", f"Quantity ×{qty}", codes[f"qty:{qty}"]) for qty in QUANTITIES),
            ControlCode("Other", "Cancel last scan", codes["cancel"]),
        )
    )
