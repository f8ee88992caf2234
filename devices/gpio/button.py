"""The box's one push button: a short press and a long press mean different things to the shop.

Short press: reprint the last ticket. Long press (held at least the hold time): print the self-test ticket
and the control sheet. The long press is reported the moment the hold time is reached, so the person
knows they may let go; releasing afterwards reports nothing more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from devices.readings import Post


@dataclass(frozen=True)
class ButtonPressed:
    kind: Literal["short", "long"]


class ButtonDevice(Protocol):
    """The part of gpiozero's `Button` used here."""

    when_pressed: Callable[[], None] | None
    when_held: Callable[[], None] | None
    when_released: Callable[[], None] | None

    def close(self) -> None: ...


class Button:
    """Turns press/hold/release callbacks (from gpiozero's threads) into one `ButtonPressed` per press."""

    def __init__(self, device: ButtonDevice | None, post: Post) -> None:
        self._device = device
        self._post = post
        self._lock = threading.Lock()  # hold fires in gpiozero's hold thread, release in its event thread
        self._phase: Literal["up", "down", "held"] = "up"
        if device is not None:
            device.when_pressed = self._pressed
            device.when_held = self._held
            device.when_released = self._released

    @property
    def present(self) -> bool:
        return self._device is not None

    def close(self) -> None:
        if self._device is not None:
            self._device.close()

    def _pressed(self) -> None:
        with self._lock:
            self._phase = "down"

    def _held(self) -> None:
        with self._lock:
            if self._phase != "down":
                return  # released in the same instant: the release already counted as a short press
            self._phase = "held"
        self._post(ButtonPressed("long"))

    def _released(self) -> None:
        with self._lock:
            was, self._phase = self._phase, "up"
        if was == "down":
            self._post(ButtonPressed("short"))
