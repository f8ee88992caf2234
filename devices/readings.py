"""Typed readings and device status: what drivers hand to whoever owns the box's state.

Drivers run in their own threads and report through a `Post` callback; they never block on the receiver.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class KeyStroke:
    """One key press as the scanner sent it: the evdev key code and the modifiers held.

    Kept beside the decoded text so a scan can be forwarded to the till PC as key codes, not text, and the
    PC's own keyboard layout still applies.
    """

    code: int
    shift: bool = False
    altgr: bool = False
    ctrl: bool = False


@dataclass(frozen=True)
class ScanRead:
    """One complete scan from one scanner: the text as the scanner's layout decodes it (GS kept as \\x1d)."""

    source: str
    data: str
    keys: tuple[KeyStroke, ...] = field(default=(), compare=False)


class DeviceState(enum.Enum):
    OK = "ok"
    ABSENT = "absent"  # not plugged in / not found; the driver keeps looking
    ERROR = "error"  # present but failing (line noise, paper out, I/O errors)
    UNKNOWN = "unknown"  # the device cannot tell (a printer that does not answer status queries)


@dataclass(frozen=True)
class DeviceStatus:
    """A change in a device's health; `detail` says what a person should know ("paper out")."""

    device: str
    state: DeviceState
    detail: str = ""


Reading = ScanRead | DeviceStatus
Post = Callable[[object], None]
"""How a driver thread hands a reading (a `ScanRead`, a `ScaleReading`, a `DeviceStatus`, …) onwards."""
