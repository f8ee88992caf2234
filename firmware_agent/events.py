"""Typed events that threads post to the core loop. Device readings (`ScanRead`, `DeviceStatus`, …) from
`devices` are posted as they are; these are the box's own."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from firmware_agent.domain import Mode


@dataclass(frozen=True)
class ModeRequest:
    """Switch modes from the button or remotely (command barcodes arrive as scans)."""

    mode: Mode
    source: str


@dataclass(frozen=True)
class StockAdjust:
    """Correct a product's stock by hand (breakage, theft, a miscount); journaled as `adjust`."""

    sku: str
    delta: int
    reason: str


@dataclass(frozen=True)
class Call:
    """Run `fn(store)` on the core loop and hand its result back: how other threads read or change state.

    The function runs inside the loop's transaction, so whatever it writes commits with the batch.
    """

    fn: Callable[[Any], Any]
    result: Future[Any] = field(default_factory=Future, compare=False)


@dataclass(frozen=True)
class PrintShelfLabels:
    """Print the shelf labels to change (a `TBLABELS` scan); the print service handles it, if any."""


@dataclass(frozen=True)
class Stop:
    """Finish the batch in hand, commit, and leave the loop."""
