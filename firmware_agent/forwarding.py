"""Forwarding committed scans to the till PC through the USB HID keyboard gadget.

The box sits between scanner and till: the till still gets every article scan, typed as key codes so the PC's
own keyboard layout applies — but only once the scan is committed here, and never the box's own command or
pickup codes, which mean nothing to the POS.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.barcodes import Kind
from devices.hid import HidForwarder
from devices.readings import ScanRead
from firmware_agent.core import Applied

BOX_ONLY = frozenset({Kind.COMMAND, Kind.PICKUP})


def forward_committed(forwarder: HidForwarder) -> Callable[[Applied], None]:
    def listener(applied: Applied) -> None:
        event = applied.event
        if not isinstance(event, ScanRead) or not applied.acknowledged:
            return
        if applied.barcode is not None and applied.barcode.kind in BOX_ONLY:
            return
        forwarder.forward(event)

    return listener
