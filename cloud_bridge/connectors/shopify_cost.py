"""Shopify's cost bucket, mirrored on our side so we wait for points instead of being throttled.

Every GraphQL answer carries `extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable,
restoreRate}`. From the last one and the time since, we know how many points the bucket holds now; a query
whose cost would overdraw it waits `(cost − available) / restoreRate` seconds first. Costs are learned per
operation from `requestedQueryCost`, starting from the caller's estimate.
"""

from __future__ import annotations

from typing import Any

from cloud_bridge.retry import Clock


class CostBudget:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.maximum: float | None = None
        self.available = 0.0
        self.rate = 0.0
        self.stamp = 0.0
        self.costs: dict[str, float] = {}
        self.waits: list[float] = []

    def wait_before(self, operation: str, estimate: float) -> None:
        """Sleeps until the bucket should hold the points `operation` costs."""
        wait = self.shortfall(self.costs.get(operation, estimate))
        if wait > 0:
            self.waits.append(wait)
            self.clock.sleep(wait)

    def shortfall(self, cost: float) -> float:
        if self.maximum is None or self.rate <= 0:
            return 0.0
        now = self.clock.monotonic()
        level = min(self.maximum, self.available + (now - self.stamp) * self.rate)
        cost = min(cost, self.maximum)
        # one point of margin: the shop rounds, and our clock and its clock do not tick together
        return 0.0 if level >= cost + 1 else (cost + 1 - level) / self.rate

    def update(self, operation: str, extensions: Any) -> float | None:
        """Records the bucket state from an answer's `extensions`; returns the requested cost if given."""
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        status = cost.get("throttleStatus") if isinstance(cost, dict) else None
        if not isinstance(status, dict):
            return None
        numbers = [status.get(k) for k in ("maximumAvailable", "currentlyAvailable", "restoreRate")]
        if not all(isinstance(n, int | float) and not isinstance(n, bool) and n >= 0 for n in numbers):
            return None
        self.maximum, self.available, self.rate = (float(n) for n in numbers)  # type: ignore[arg-type]
        self.stamp = self.clock.monotonic()
        requested = cost.get("requestedQueryCost") if isinstance(cost, dict) else None
        if isinstance(requested, int | float) and not isinstance(requested, bool) and requested >= 0:
            self.costs[operation] = float(requested)
            return float(requested)
        return None
