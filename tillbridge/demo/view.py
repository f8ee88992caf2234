"""The demo's live view: one row per event, columns a shopkeeper can read."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from devices.readings import DeviceStatus, ScanRead
from firmware_agent.core import Applied
from firmware_agent.domain import Feedback

MARKS = {Feedback.OK: "✔", Feedback.INFO: "·", Feedback.WARN: "!", Feedback.ERROR: "✘"}
COLOURS = {Feedback.OK: "32", Feedback.INFO: "36", Feedback.WARN: "33", Feedback.ERROR: "31"}
HEADER = f"{'time':8}  {'scanner':8} {'scan':15} {'mode':8} {'what happened':50} {'stock':>11} {'seq':>5}"


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
        stock_text = f"{stock['stock_after'] - stock['delta']}→{stock['stock_after']}" if stock else ""
        seq = ",".join(str(r.seq) for r in applied.records) or "-"
        what = f"{MARKS[outcome.feedback]} {outcome.message}"[:50]
        row = (
            f"{time.strftime('%H:%M:%S')}  {event.source[:8]:8} {event.data[:15]:15} "
            f"{outcome.state.mode.value:8} {what:50} {stock_text:>11} {seq:>5}"
        )
        self._write(f"\033[{COLOURS[outcome.feedback]}m{row}\033[0m" if self.colour else row)

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
