"""Plays a `Timing` on an on/off output in a thread of its own, so setting a pattern never waits on it."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterable
from typing import Protocol

from devices.gpio.patterns import Timing

log = logging.getLogger(__name__)


class Output(Protocol):
    """An on/off output: a gpiozero `LED` or `Buzzer` fits, so does a test double."""

    def on(self) -> None: ...

    def off(self) -> None: ...

    def close(self) -> None: ...


class Sequencer:
    """Owns one output and at most one playing timing; a new `play` replaces the old one cleanly."""

    def __init__(self, output: Output, name: str) -> None:
        self._output = output
        self._name = name
        self._lock = threading.Lock()  # serialises play/stop from several callers
        self._progress = threading.Condition()
        self._cycles = 0
        self._done = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def play(self, timing: Timing) -> None:
        with self._lock:
            self._halt()
            with self._progress:
                self._cycles, self._done = 0, False
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(timing, self._stop), name=self._name, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._halt()

    def wait_cycles(self, count: int, timeout: float) -> bool:
        """True once `count` full cycles have played (or playing ended); False on timeout."""
        with self._progress:
            return self._progress.wait_for(lambda: self._done or self._cycles >= count, timeout)

    def wait_done(self, timeout: float) -> bool:
        with self._progress:
            return self._progress.wait_for(lambda: self._done, timeout)

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._output.off()

    def _run(self, timing: Timing, stop: threading.Event) -> None:
        try:
            self._play_cycles(timing, stop)
            self._output.off()
        except Exception:
            # A failing pin must not take the box down; the log says which output stopped.
            log.exception("%s: output failed, pattern stopped", self._name)
        finally:
            with self._progress:
                self._done = True
                self._progress.notify_all()

    def _play_cycles(self, timing: Timing, stop: threading.Event) -> None:
        cycles: Iterable[int] = itertools.count() if timing.repeat is None else range(timing.repeat)
        deadline = time.monotonic()  # steps are scheduled on deadlines so the rhythm does not drift
        for _ in cycles:
            for on_s, off_s in timing.steps:
                for is_on, duration in ((True, on_s), (False, off_s)):
                    if duration <= 0:
                        continue
                    if is_on:
                        self._output.on()
                    else:
                        self._output.off()
                    deadline += duration
                    if stop.wait(max(0.0, deadline - time.monotonic())):
                        return
            with self._progress:
                self._cycles += 1
                self._progress.notify_all()
