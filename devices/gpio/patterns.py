"""What the light and the buzzer show, as on/off timings in one table each.

The box logic names a state (`LightPattern.OFFLINE_BACKLOG`); only this table knows what that looks like, so
the rhythm can be changed in one place and the docs' table can be checked against it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from devices.errors import DeviceConfigError


@dataclass(frozen=True)
class Timing:
    """One cycle of (on_s, off_s) steps, played `repeat` times, or until replaced when `repeat` is None.

    A step with `off_s == 0` leaves the output on into the next step, so `((1.0, 0.0),)` is a steady light.
    """

    steps: tuple[tuple[float, float], ...]
    repeat: int | None = None

    def __post_init__(self) -> None:
        if not self.steps or any(on <= 0 or off < 0 for on, off in self.steps):
            raise DeviceConfigError(f"timing {self.steps!r}: every step needs on > 0 and off >= 0 seconds")
        if self.repeat is not None and self.repeat < 1:
            raise DeviceConfigError(f"timing repeat {self.repeat!r}: must be at least 1 or None")

    @property
    def period_s(self) -> float:
        return sum(on + off for on, off in self.steps)

    def describe(self) -> str:
        """One cycle for people (docs, the self-test ticket): "0.2 s on, 0.2 s off, …", or "steady on"."""
        if self.repeat is None and all(off == 0 for _, off in self.steps):
            return "steady on"
        parts = [f"{on:g} s on" + (f", {off:g} s off" if off else "") for on, off in self.steps]
        return ", ".join(parts)


class LightPattern(enum.Enum):
    """The box's states as a person beside the till sees them on the status LED."""

    STARTING = "starting"
    ONLINE = "online"
    OFFLINE_BACKLOG = "offline_backlog"
    WARNING = "warning"
    ERROR = "error"


class BuzzPattern(enum.Enum):
    """Sounds the box makes; each plays once."""

    NEW_ORDER = "new_order"
    CONFIRM = "confirm"
    ERROR = "error"


LIGHT_TIMINGS: Mapping[LightPattern, Timing] = MappingProxyType(
    {
        LightPattern.STARTING: Timing(((0.5, 0.5),)),  # even slow blink: booting, looking for devices
        LightPattern.ONLINE: Timing(((1.0, 0.0),)),  # steady on: all well, in sync with the cloud
        LightPattern.OFFLINE_BACKLOG: Timing(((0.1, 1.9),)),  # short flash every 2 s: selling, sync queued
        LightPattern.WARNING: Timing(((0.2, 0.2), (0.2, 1.4))),  # double flash every 2 s: disk/journal size
        LightPattern.ERROR: Timing(((0.1, 0.1),)),  # fast blink: a device or the store needs attention
    }
)

BUZZ_TIMINGS: Mapping[BuzzPattern, Timing] = MappingProxyType(
    {
        BuzzPattern.NEW_ORDER: Timing(((0.1, 0.1), (0.1, 0.1), (0.3, 0.0)), repeat=1),  # beep-beep-beeep
        BuzzPattern.CONFIRM: Timing(((0.05, 0.0),), repeat=1),  # chirp: long press recognised
        BuzzPattern.ERROR: Timing(((0.6, 0.0),), repeat=1),  # one long tone
    }
)
