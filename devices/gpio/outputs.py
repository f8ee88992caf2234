"""The status light and the buzzer as the box sees them: patterns by name, never pins.

Built on an `Output`, or on nothing: with no output they are null objects that remember what they were asked
and do nothing, so a box without the LED or buzzer fitted runs the same code.
"""

from __future__ import annotations

import threading

from devices.gpio.patterns import BUZZ_TIMINGS, LIGHT_TIMINGS, BuzzPattern, LightPattern
from devices.gpio.sequencer import Output, Sequencer


class _Player:
    """The part the light and the buzzer share: an optional output and the sequencer that drives it."""

    def __init__(self, output: Output | None, name: str) -> None:
        self._output = output
        self._sequencer = Sequencer(output, name) if output is not None else None

    @property
    def present(self) -> bool:
        return self._output is not None

    def close(self) -> None:
        if self._sequencer is not None:
            self._sequencer.stop()
        if self._output is not None:
            self._output.close()


class StatusLight(_Player):
    """The box's one LED; `set_pattern` may be called on every tick: the same pattern keeps its rhythm."""

    def __init__(self, output: Output | None = None, name: str = "status-light") -> None:
        super().__init__(output, name)
        self._lock = threading.Lock()  # the compare-and-play below must not interleave
        self._pattern: LightPattern | None = None

    @property
    def pattern(self) -> LightPattern | None:
        return self._pattern

    def set_pattern(self, pattern: LightPattern) -> None:
        with self._lock:
            if pattern is self._pattern:
                return
            self._pattern = pattern
            if self._sequencer is not None:
                self._sequencer.play(LIGHT_TIMINGS[pattern])

    def wait_cycles(self, count: int, timeout: float) -> bool:
        """True once the current pattern has shown `count` full cycles (at once for a null light)."""
        return self._sequencer is None or self._sequencer.wait_cycles(count, timeout)


class Buzzer(_Player):
    """The buzzer; a new alert cuts the one playing short, since both only mean "look here"."""

    def __init__(self, output: Output | None = None, name: str = "buzzer") -> None:
        super().__init__(output, name)

    def alert(self, pattern: BuzzPattern = BuzzPattern.NEW_ORDER) -> None:
        if self._sequencer is not None:
            self._sequencer.play(BUZZ_TIMINGS[pattern])

    def wait_done(self, timeout: float) -> bool:
        """True once the alert has finished (at once for a null buzzer), e.g. before shutting down."""
        return self._sequencer is None or self._sequencer.wait_done(timeout)
