"""The demo's live view: one row per event, columns a shopkeeper can read."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Mapping
from typing import TextIO

from devices.readings import DeviceStatus, ScanRead
from firmware_agent.core import Applied
from firmware_agent.domain import Feedback
from firmware_agent.tickets.measure import change_text
from simulators.catalog import SAMPLE_CATALOG

MARKS = {Feedback.OK: "✔", Feedback.INFO: "·", Feedback.WARN: "!", Feedback.ERROR: "✘"}
COLOURS = {Feedback.OK: "32", Feedback.INFO: "36", Feedback.WARN: "33", Feedback.ERROR: "31"}
WHAT = 50
HEADER = f"{'time':8}  {'scanner':8} {'scan':15} {'mode':8} {'what happened':{WHAT}} {'stock':>14} {'seq':>5}"
UNITS: Mapping[str, str] = {p.sku: p.unit for p in SAMPLE_CATALOG}


class LiveView:
    def __init__(self, out: TextIO = sys.stdout, colour: bool | None = None) -> None:
        self.out = out
        self.colour = out.isatty() if colour is None else colour
        self.rows = 0

    def header(self, title: str) -> None:
        self._write(f"\n{title}\n\n{HEADER}\n{'─' * len(HEADER)}")

    def note(self, text: str) -> None:
        self._write(f"   {text}")

    def line(self, text: str) -> None:
        """A row as another view wrote it (the second till's, from its own process)."""
        self._write(text)

    def __call__(self, applied: Applied) -> None:
        event = applied.event
        if isinstance(event, DeviceStatus):
            self.note(f"device {event.device}: {event.state.value} {event.detail}".rstrip())
        if not isinstance(event, ScanRead):
            return
        self.rows += 1
        outcome = applied.outcome
        stock = next((r.data for r in applied.records if "stock_after" in r.data), None)
        stock_text = ""
        if stock:
            after = stock["stock_after"]
            stock_text = change_text(after - stock["delta"], after, UNITS.get(stock["sku"], "each"))
        seq = ",".join(str(r.seq) for r in applied.records) or "-"
        first, *rest = textwrap.wrap(f"{MARKS[outcome.feedback]} {outcome.message}", WHAT) or [""]
        row = (
            f"{time.strftime('%H:%M:%S')}  {event.source[:8]:8} {event.data[:15]:15} "
            f"{outcome.state.mode.value:8} {first:{WHAT}} {stock_text:>14} {seq:>5}"
        )
        for line in [row, *(f"{' ' * HEADER.index('what happened')}  {more}" for more in rest)]:
            self._write(f"\033[{COLOURS[outcome.feedback]}m{line}\033[0m" if self.colour else line)

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
