"""Helpers for GPIO tests: gpiozero's mock pins and checks on the on/off history they record."""

from __future__ import annotations

import itertools
import math
import queue
from collections.abc import Iterator
from typing import Any

import pytest

from devices.gpio import Timing

TOLERANCE_S = 0.1  # thread wake-up jitter on a busy 2-core machine; the patterns differ by far more


@pytest.fixture
def mock_factory() -> Iterator[Any]:
    """gpiozero's MockFactory as the default factory, reset afterwards so pins do not leak between tests."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    previous = Device.pin_factory
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = previous


def expected_changes(timing: Timing) -> list[tuple[bool, float]]:
    """The (state, seconds held) changes one cycle of `timing` makes, merging steps that do not switch off.

    A steady pattern never switches off: it is on for as long as it plays (`math.inf`).
    """
    if all(off <= 0 for _, off in timing.steps):
        return [(True, math.inf)]
    changes: list[tuple[bool, float]] = []
    for on_s, off_s in timing.steps:
        for state, duration in ((True, on_s), (False, off_s)):
            if duration <= 0:
                continue
            if changes and changes[-1][0] == state:
                changes[-1] = (state, changes[-1][1] + duration)
            else:
                changes.append((state, duration))
    return changes


def observed_changes(pin: Any) -> list[tuple[bool, float]]:
    """The pin's history as (state, seconds held); the state still held at the end has no duration yet."""
    states = pin.states[1:]  # the first entry is the pin's initial state, not a change
    return [(bool(s.state), nxt.timestamp) for s, nxt in itertools.pairwise(states)]


def assert_plays(pin: Any, changes: list[tuple[bool, float]]) -> None:
    observed = observed_changes(pin)[: len(changes)]
    assert [s for s, _ in observed] == [s for s, _ in changes], f"pin went {observed}, expected {changes}"
    for (_, got), (state, want) in zip(observed, changes, strict=True):
        if want == math.inf:
            continue
        assert abs(got - want) <= TOLERANCE_S, f"{'on' if state else 'off'} for {got:.3f} s, want {want} s"


def next_event(posted: queue.Queue[object], timeout: float = 2.0) -> object:
    try:
        return posted.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"nothing posted within {timeout} s") from None
