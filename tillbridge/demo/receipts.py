"""The demo's receipt till: a POS that sells without the box's scanner, and the box learning its sales
from the receipts it prints.

The POS (`simulators.pos`) prints to the box as to a network printer; the box forwards every byte to the
POS's own receipt printer (a second virtual printer) and reads the receipts on the side. The lines become
sales on box 1 (`combine = "receipts"`), so they reach the online shop like the scanner's: a sale keyed at
the POS (codes, and a name the POS shortened), a voided line, and a reprint that is not counted again.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Final

from devices.receipts import preset
from firmware_agent.core import Applied
from firmware_agent.receipts import ReceiptRead, ReceiptService
from simulators.pos import Item, PosClient, Sale, receipt_bytes
from simulators.printer import VirtualPrinter
from tillbridge.demo.view import LiveView

WATER: Final = Item("8410000000061", "Agua mineral 1,5 L", 55, Decimal(2))  # code: the barcode
COFFEE: Final = Item("COFFEE", "Café molido 250 g", 349)  # code: the sku
MILK: Final = Item("8410000000023", "Leche entera 1 L", 99, Decimal(3))
MILK_VOID: Final = Item("8410000000023", "Leche entera 1 L", 99, kind="void")
EGGS: Final = Item("55", "Huevos camperos (12)", 325)  # a code the box does not know: found by name
RECEIPTS: Final = (
    Sale("000001", (WATER, COFFEE), paid_cents=500),
    Sale("000002", (MILK, MILK_VOID, EGGS), paid_cents=1000),
    Sale("000001", (WATER, COFFEE), reprint=True, paid_cents=500),  # the customer wants a copy
)


class ReceiptTill:
    """The POS, its printer and the box's receipt capture between them."""

    def __init__(self, printer: VirtualPrinter, view: LiveView) -> None:
        self.printer, self.view = printer, view
        # box 1's scanner serves another till: none of its scans are this POS's (scanners=())
        self.service = ReceiptService(printer.url, ("127.0.0.1", 0), preset("code-columns"), scanners=())
        self.done = threading.Event()  # its receipts are printed and read (or the demo is stopping)
        self._read = threading.Semaphore(0)

    def listener(self, applied: Applied) -> None:
        """Box 1's listener: each receipt the box read, in the live view."""
        if isinstance(applied.event, ReceiptRead):
            self.view.note(f"🧾  receipt till: {applied.outcome.message}")
            self._read.release()

    def sell(self, ready: threading.Event, interval_s: float, stop: threading.Event) -> None:
        """Once `ready` (the second till has sold), prints the receipts to the box, one at a time."""
        try:
            while not (ready.wait(0.2) or stop.is_set()):
                pass
            proxy = self.service.proxy
            if stop.is_set() or proxy is None:
                return
            where = f"{proxy.address[0]}:{proxy.address[1]}"
            self.view.note(
                f"🧾  a third till, a POS without the box's scanner, prints through the box ({where})"
            )
            for number, sale in enumerate(RECEIPTS, 1):
                with PosClient(proxy.address) as pos:
                    pos.status()
                    pos.send(receipt_bytes(sale))
                self.printer.wait_for_tickets(number, timeout=10)  # on the POS's own printer, unchanged
                if not self._read.acquire(timeout=30) or stop.wait(max(interval_s, 0.2)):
                    return
        finally:
            self.done.set()
