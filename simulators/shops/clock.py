"""Clocks for the shop simulators, shared with the connectors under test.

A `ManualClock` handed to both a simulator and a connector makes time move only when the connector sleeps:
Shopify's cost bucket refills exactly as much as the connector waited, and a test checks the waits instead
of spending them.
"""

from __future__ import annotations

import threading
import time


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ManualClock:
    """Monotonic time that advances only through `sleep` or `advance`; thread-safe. `sleeps` lists every
    wait asked for, in order.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
