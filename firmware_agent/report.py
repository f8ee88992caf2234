"""One line per event, for the log (journald) and the demo's live view.

Lines are stable and grep-able: support reads them, and the durability test reads "ack seq=…" from them.
"""

from __future__ import annotations

import logging

from devices.readings import DeviceStatus, ScanRead
from firmware_agent.core import Applied
from firmware_agent.events import ModeRequest
from wire import StockEntry

log = logging.getLogger("tillbridge.events")


def describe(applied: Applied) -> str | None:
    """The line for an event, or None for events nobody needs to read about (internal calls)."""
    event, outcome = applied.event, applied.outcome
    seqs = ",".join(str(r.seq) for r in applied.records)
    ack = f"ack seq={seqs}" if seqs else ("ack" if applied.acknowledged else "NOT RECORDED")
    match event:
        case ScanRead():
            moves = (body for r in applied.records if isinstance(body := r.body, StockEntry))
            stock = next((body.stock_after for body in moves), None)
            stock_text = f" stock={stock}" if stock is not None else ""
            return (
                f"scan {event.source} {event.data!r} mode={outcome.state.mode} "
                f"{outcome.feedback.value}: {outcome.message}{stock_text} {ack}"
            )
        case ModeRequest():
            return f"mode {event.mode} from {event.source}: {outcome.message} {ack}"
        case DeviceStatus():
            return f"device {event.device} {event.state.value}" + (
                f": {event.detail}" if event.detail else ""
            )
    return None


def log_event(applied: Applied) -> None:
    line = describe(applied)
    if line is None:
        return
    level = logging.ERROR if applied.error else logging.INFO
    log.log(level, "%s", line)
