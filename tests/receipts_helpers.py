"""Receipt capture in tests: a proxy in front of the virtual printer, and a collector of captured receipts
that waits on a condition (no sleeps)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from devices.receipts import CapturedReceipt
from devices.receipts.proxy import PrinterProxy
from devices.receipts.tap import CaptureQueue, ReceiptWorker
from simulators.printer import VirtualPrinter

T = TypeVar("T")


class Collector(Generic[T]):
    """Called with each receipt (or outcome) on a reader's thread; `wait()` blocks until enough came."""

    def __init__(self) -> None:
        self.receipts: list[T] = []
        self._cond = threading.Condition()

    def __call__(self, receipt: T) -> None:
        with self._cond:
            self.receipts.append(receipt)
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 20.0) -> list[T]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.receipts) >= count, timeout):
                raise AssertionError(
                    f"{len(self.receipts)} receipt(s) captured after {timeout} s, expected {count}"
                )
            return list(self.receipts)


@dataclass
class Capture:
    printer: VirtualPrinter
    proxy: PrinterProxy
    tap: CaptureQueue
    collected: Collector[CapturedReceipt]
    worker: ReceiptWorker


@contextmanager
def capture(
    max_chunks: int = 4096, worker: bool = True, on_receipt: Callable[[CapturedReceipt], None] | None = None
) -> Iterator[Capture]:
    """The virtual printer, the box's proxy in front of it, and the receipts the box read."""
    collected: Collector[CapturedReceipt] = Collector()
    tap = CaptureQueue(max_chunks)
    reader = ReceiptWorker(tap, on_receipt or collected)
    with VirtualPrinter() as printer, PrinterProxy(printer.address, tap, listen=("127.0.0.1", 0)) as proxy:
        if worker:
            reader.start()
        try:
            yield Capture(printer, proxy, tap, collected, reader)
        finally:
            reader.stop()
