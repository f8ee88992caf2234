"""Shared by the printer and ticket tests: a virtual printer and a Printer pointed at it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from devices.printers import Printer
from simulators.printer import VirtualPrinter


@contextlib.contextmanager
def printer_pair(paper: int = 80, codepage: str = "CP858") -> Iterator[tuple[VirtualPrinter, Printer]]:
    with (
        VirtualPrinter() as virtual,
        Printer.from_url(f"{virtual.url}?paper={paper}&codepage={codepage}") as real,
    ):
        yield virtual, real
