"""What a worker lets in from the broker: each box within its limits, into a bounded queue, each drop counted.

`offer` runs on paho's network thread, so it never blocks and never raises: a message over its box's limits
or arriving while the queue is full is dropped and counted (the box sends it again, see `limits`). The
counts go to `bridge status` through `report()`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from cloud_bridge.limits import BoxLimits
from wire import WireError, parse_topic

log = logging.getLogger(__name__)

CAPACITY: Final = 10_000  # messages waiting for the apply thread
MAX_COUNTED_BOXES: Final = 10_000  # boxes whose limited messages are counted one by one
LOG_EVERY: Final = 100  # a box over a limit is logged on its 1st, 101st, 201st… dropped message


@dataclass(frozen=True)
class Inbound:
    topic: str
    payload: bytes


class Intake:
    def __init__(
        self,
        capacity: int = CAPACITY,
        limits: BoxLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.limits = limits or BoxLimits()
        self.clock = clock
        self._queue: queue.Queue[Inbound | None] = queue.Queue(maxsize=capacity)
        self._lock = threading.Lock()
        self.dropped: Counter[str] = Counter()  # why → count, for messages no box could be blamed for
        self.limited: dict[str, Counter[str]] = {}  # "shop/box" → kind → count

    # --- paho's thread ----------------------------------------------------------------------------------

    def offer(self, item: Inbound) -> None:
        try:
            self._offer(item)
        except Exception:  # an exception here would stop paho's network thread
            log.exception("intake failed on %s", item.topic[:200])

    def _offer(self, item: Inbound) -> None:
        try:
            topic = parse_topic(item.topic)
        except WireError as exc:
            self._drop("unreadable topic", f"dropped a message on {item.topic[:200]!r}: {exc}")
            return
        with self._lock:
            why = self.limits.admit(topic.shop, topic.box, topic.kind.value, len(item.payload), self.clock())
        if why is not None:
            self._limit(f"{topic.shop}/{topic.box}", topic.kind.value, why)
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._drop("queue full", f"queue of {self.capacity} full: dropped a message on {item.topic}")

    def count(self, why: str) -> None:
        """Counts a message dropped later on, by the apply thread (a box the config does not list)."""
        with self._lock:
            self.dropped[why] += 1

    def _drop(self, why: str, text: str) -> None:
        with self._lock:
            self.dropped[why] += 1
            count = self.dropped[why]
        if count % LOG_EVERY == 1:
            log.warning("%s (%d so far)", text, count)

    def _limit(self, box: str, kind: str, why: str) -> None:
        with self._lock:
            counts = self.limited.get(box)
            if counts is None:
                if len(self.limited) >= MAX_COUNTED_BOXES:
                    self.dropped["limited, box not counted"] += 1
                    return
                counts = self.limited[box] = Counter()
            counts[kind] += 1
            count = counts[kind]
        if count % LOG_EVERY == 1:
            log.warning("box %s: %s; dropped (%d so far, the box sends again)", box, why, count)

    # --- the apply thread -------------------------------------------------------------------------------

    def get(self) -> Inbound | None:
        """The next message; None once `close()` was called."""
        return self._queue.get()

    def get_many(self, limit: int) -> list[Inbound] | None:
        """The next message and those already waiting behind it, up to `limit` in all (so the apply thread
        can take them in one transaction); None once `close()` was called.
        """
        first = self._queue.get()
        if first is None:
            return None
        out = [first]
        while len(out) < limit:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:  # the end: the next call returns None
                self.close()
                break
            out.append(item)
        return out

    def close(self) -> None:
        """Makes `get` return None, even with the queue full (the oldest waiting message is dropped)."""
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def report(self) -> dict[str, Any]:
        """Counters for `bridge status`: queue depth and limit, drops by reason, limited messages per box."""
        with self._lock:
            return {
                "queued": self._queue.qsize(),
                "capacity": self.capacity,
                "dropped": dict(self.dropped),
                "limited": {box: dict(kinds) for box, kinds in self.limited.items()},
            }


__all__ = ["CAPACITY", "Inbound", "Intake"]
