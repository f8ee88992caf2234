"""Which shop a worker's shop threads drive next: earliest due first, each shop by one thread at a time.

A worker used to drive all its shops from one thread, in turn. A shop's write due at the close of its
coalescing window then waited behind the other shops' passes (a slow API, an orders feed read to its end,
a reconciliation), and the shop lagged the tills by the window plus as much. Here every shop has its own
due time — at once when woken (movements applied, a webhook, a box back online), at its window's close,
else at its next poll — and a free thread takes the shop due earliest. A write due at a window's close
starts then unless every thread is busy, and a slow shop holds one thread, never the others.

Movements applied are the one wake that may wait a little (`nudge`): while a box drains a backlog every
applied group of batches would wake its shop, and the shop thread, passing back to back, took the cores and
the database from the thread applying the journal. A nudge makes the shop due at once, or `gap` after its
last pass started if that is later; a webhook, a box back online or a catalog request still wake at once.

Pure bookkeeping: the worker holds the lock around it, reads the clock and runs the passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


class ShopTurns:
    """Due times per shop (any monotonic clock), and which shops a thread is driving now."""

    def __init__(self, shops: Iterable[str], now: float) -> None:
        self._due = dict.fromkeys(shops, now)
        self._started: dict[str, float] = {}  # when its last pass started
        self._running: set[str] = set()

    def wake(self, shop: str, now: float) -> None:
        """`shop` is due now; if a thread is driving it, once that pass is over (nothing is lost)."""
        if shop in self._due:
            self._due[shop] = min(self._due[shop], now)

    def nudge(self, shop: str, now: float, gap: float) -> None:
        """`shop` has new movements: due now, or `gap` after its last pass started if that is later."""
        if shop in self._due:
            self._due[shop] = min(self._due[shop], max(now, self._started.get(shop, -math.inf) + gap))

    def take(self, now: float) -> str | None:
        """The shop due earliest that no thread drives (now marked as driven), or None if none is due."""
        ready = [(due, shop) for shop, due in self._due.items() if due <= now and shop not in self._running]
        if not ready:
            return None
        _, shop = min(ready)
        self._running.add(shop)
        self._started[shop] = now
        self._due[shop] = math.inf  # a wake during the pass brings it back
        return shop

    def done(self, shop: str, next_at: float) -> None:
        """The pass over `shop` is over; it is due again at `next_at`, or sooner if woken meanwhile."""
        self._running.discard(shop)
        self._due[shop] = min(self._due[shop], next_at)

    def wait_s(self, now: float, longest: float) -> float:
        """How long a free thread may sleep before some shop no thread drives is due (at most `longest`)."""
        idle = (due for shop, due in self._due.items() if shop not in self._running)
        return max(0.0, min(min(idle, default=math.inf) - now, longest))

    def running(self) -> frozenset[str]:
        return frozenset(self._running)


__all__ = ["ShopTurns"]
