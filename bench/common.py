"""What every benchmark shares: the result shape, alternating runs, and small statistics helpers.

`ratio` always reads "times better than the baseline": above 1 is better. For a throughput it is ours over
the baseline's; for a time or a size it is the baseline's over ours.

A figure compared with a baseline is measured by `alternate`: baseline, ours, baseline, ours, … and the
medians compared. Run one after the other, whichever side runs second inherits a warmer disk cache or a
quieter machine, and the ratio says more about the order than about the code (on this 2-core machine the
core loop's ratio moved from 0.44 to 0.77 with the order alone).
"""

from __future__ import annotations

import contextlib
import json
import statistics
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from simulators.broker import Broker


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    spread: tuple[float, float] | None = None
    """(min, max) of our rounds, when the figure is the median of alternated rounds."""
    baseline_spread: tuple[float, float] | None = None
    rounds: int | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})


@dataclass(frozen=True)
class Rounds:
    """The samples of both sides of an alternated measurement, one per round."""

    ours: list[float]
    baseline: list[float]

    def throughput(self, name: str, unit: str) -> Result:
        """Bigger is better: the ratio is our median over the baseline's."""
        ours, base = statistics.median(self.ours), statistics.median(self.baseline)
        return self._result(name, unit, ours, base, ours / base)

    def duration(self, name: str, unit: str) -> Result:
        """Smaller is better: the ratio is the baseline's median over ours."""
        ours, base = statistics.median(self.ours), statistics.median(self.baseline)
        return self._result(name, unit, ours, base, base / ours)

    def added(self, name: str, unit: str, budget: float | None = None) -> Result:
        """What ours adds to the baseline, round by round (each round's two samples are a pair): the median
        with min and max; `budget`, the most it may add, stands as the baseline."""
        added = [ours - base for ours, base in zip(self.ours, self.baseline, strict=True)]
        return Result(
            name,
            round(statistics.median(added), 3),
            unit,
            baseline=budget,
            spread=(round(min(added), 3), round(max(added), 3)),
            rounds=len(added),
        )

    def _result(self, name: str, unit: str, ours: float, base: float, ratio: float) -> Result:
        return Result(
            name,
            round(ours, 3),
            unit,
            round(base, 3),
            round(ratio, 3),
            spread=(round(min(self.ours), 3), round(max(self.ours), 3)),
            baseline_spread=(round(min(self.baseline), 3), round(max(self.baseline), 3)),
            rounds=len(self.ours),
        )


def alternate(rounds: int, ours: Callable[[], float], baseline: Callable[[], float]) -> Rounds:
    """Runs baseline, ours, baseline, ours, … `rounds` times each (ABAB), so drift falls on both sides.

    A side that raises ends the benchmark loudly: a figure without its baseline is not reported.
    """
    samples = Rounds([], [])
    for _ in range(rounds):
        samples.baseline.append(baseline())
        samples.ours.append(ours())
    return samples


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


@contextlib.contextmanager
def running_broker(folder: Path) -> Iterator[Broker]:
    """A mosquitto of the benchmark's own on a free port, stopped however the benchmark ends."""
    broker = Broker(folder / "broker").start()
    try:
        yield broker
    finally:
        broker.stop()
