"""What every benchmark shares: the result shape and small statistics helpers.

`ratio` always reads "times better than the baseline": above 1 is better. For a throughput it is ours over
the baseline's; for a time or a size it is the baseline's over ours.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def throughput(name: str, ours: float, baseline: float, unit: str = "ops/s") -> Result:
    return Result(name, round(ours, 3), unit, round(baseline, 3), round(ours / baseline, 3))


def duration(name: str, ours: float, baseline: float | None, unit: str) -> Result:
    """A time (or size) where smaller is better; without a baseline the ratio stays empty."""
    if baseline is None:
        return Result(name, round(ours, 3), unit)
    return Result(name, round(ours, 3), unit, round(baseline, 3), round(baseline / ours, 3))


def percentile(samples: list[float], pct: float) -> float:
    if len(samples) < 2:
        return samples[0]
    cuts = statistics.quantiles(samples, n=1000, method="inclusive")
    return cuts[min(len(cuts) - 1, max(0, round(pct * 10) - 1))]
