"""How much each box may ask of the bridge: a token bucket per box and message kind, and one for its bytes.

A box can only publish on its own topics (the broker's accounts see to that), but within them nothing
stopped it: a box asking for the catalog in a loop had a full snapshot built for every request on the
thread that applies every box's journal, and held the whole fleet back for half a minute (issue 13,
finding 8). The rates below are far above what a working box sends (a few sales a minute, a catalog request
at boot or after a missed delta, telemetry every minute) and far below what stalls a worker.

What is over a limit is dropped before it is queued, and counted. Nothing is lost by that: a box resends
every journal batch until it is acked, asks for the catalog again when no snapshot comes, and its next
birth or telemetry replaces the last. Pure: the caller passes the time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True)
class Rate:
    """`per_s` on average, with bursts of up to `burst`."""

    per_s: float
    burst: float

    def describe(self, unit: str = "messages") -> str:
        if self.per_s >= 1:
            return f"{self.per_s:g} {unit}/s (bursts of {self.burst:g})"
        return f"1 {unit.rstrip('s')} per {1 / self.per_s:g} s (bursts of {self.burst:g})"


RATES: Final[Mapping[str, Rate]] = {
    "journal": Rate(50.0, 500.0),  # a drain after an outage is paced by the acks
    "catalog/request": Rate(1 / 30, 2.0),  # a snapshot is the most expensive thing a box can ask for
    "state": Rate(1.0, 10.0),
    "telemetry": Rate(1.0, 10.0),
    "cmd/reply": Rate(10.0, 100.0),
}
DEFAULT_RATE: Final = Rate(20.0, 200.0)  # any other kind a box sends
VOLUME: Final = Rate(1024 * 1024, 16 * 1024 * 1024)  # bytes per box, every kind together
MAX_BOXES: Final = 100_000  # boxes whose buckets are kept; the least recently heard are forgotten


@dataclass
class TokenBucket:
    rate: Rate
    tokens: float
    stamp: float

    def take(self, now: float, cost: float = 1.0) -> bool:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.rate.burst, self.tokens + elapsed * self.rate.per_s)
        self.stamp = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


@dataclass
class _Box:
    volume: TokenBucket
    kinds: dict[str, TokenBucket] = field(default_factory=dict)


class BoxLimits:
    """Decides, message by message, whether a box is within its limits. Not thread-safe: one caller."""

    def __init__(
        self,
        rates: Mapping[str, Rate] = RATES,
        default: Rate = DEFAULT_RATE,
        volume: Rate = VOLUME,
        max_boxes: int = MAX_BOXES,
    ) -> None:
        self.rates, self.default, self.volume, self.max_boxes = rates, default, volume, max_boxes
        self._boxes: OrderedDict[tuple[str, str], _Box] = OrderedDict()

    def admit(self, shop: str, box: str, kind: str, size: int, now: float) -> str | None:
        """None when the message may go on; else why not, for the log."""
        state = self._box(shop, box, now)
        rate = self.rates.get(kind, self.default)
        bucket = state.kinds.get(kind)
        if bucket is None:
            bucket = state.kinds[kind] = TokenBucket(rate, rate.burst, now)
        if not bucket.take(now):
            return f"{kind} over {rate.describe()}"
        if not state.volume.take(now, float(size)):
            return f"over {self.volume.describe('bytes')}"
        return None

    def _box(self, shop: str, box: str, now: float) -> _Box:
        key = (shop, box)
        state = self._boxes.get(key)
        if state is None:
            state = self._boxes[key] = _Box(TokenBucket(self.volume, self.volume.burst, now))
            while len(self._boxes) > self.max_boxes:
                self._boxes.popitem(last=False)
        else:
            self._boxes.move_to_end(key)
        return state


__all__ = ["DEFAULT_RATE", "MAX_BOXES", "RATES", "VOLUME", "BoxLimits", "Rate", "TokenBucket"]
