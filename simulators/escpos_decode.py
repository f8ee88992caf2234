"""Moved to `devices.printers.decode`: the box decodes captured receipts with the same decoder the virtual
printer uses. This name stays so that imports written before the move keep working; new code imports
`devices.printers.decode`."""

from devices.printers.decode import (
    Cut,
    DrawerKick,
    EscPosDecoder,
    Event,
    Printed,
    StatusRequest,
    Symbol,
    TextLine,
    Ticket,
    decode_tickets,
)

__all__ = [
    "Cut",
    "DrawerKick",
    "EscPosDecoder",
    "Event",
    "Printed",
    "StatusRequest",
    "Symbol",
    "TextLine",
    "Ticket",
    "decode_tickets",
]
