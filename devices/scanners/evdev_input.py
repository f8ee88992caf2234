"""The seam between the wedge scanner and the kernel's input devices, and its python-evdev implementation.

`EvdevScanner` talks only to an `InputSource`, so its selection, grab and reconnect logic can be tested on
a machine without input devices or `/dev/uinput`. Implementations raise `OSError` as the kernel does
(ENOENT: no such node, ENODEV: unplugged, EBUSY: grabbed elsewhere); the scanner turns those into states.
"""

from __future__ import annotations

import os
import select
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from devices.errors import DeviceUnavailable
from devices.scanners.keycodes import EV_KEY, KEY_1, KEY_ENTER
from devices.scanners.wedge import InputEventLike

STABLE_LINK_DIRS = (Path("/dev/input/by-path"), Path("/dev/input/by-id"))


@dataclass(frozen=True)
class InputDeviceInfo:
    """One event node: its path, the name the device reports, and the stable links udev made to it."""

    path: str
    name: str
    links: tuple[str, ...] = ()
    has_keys: bool = True  # types digits and Enter; scanners' extra nodes (consumer control) do not


class InputHandle(Protocol):
    def grab(self) -> None: ...

    def read_events(self, timeout: float) -> Sequence[InputEventLike]:
        """The events that arrive within `timeout` seconds (maybe none); OSError(ENODEV) once unplugged."""
        ...

    def close(self) -> None: ...


class InputSource(Protocol):
    def list_devices(self) -> list[InputDeviceInfo]: ...

    def open(self, path: str) -> InputHandle: ...


def _evdev() -> ModuleType:
    try:
        import evdev
    except ImportError as exc:
        raise DeviceUnavailable(
            "python-evdev is not installed: install it (needs gcc and kernel headers) to read USB scanners"
        ) from exc
    return evdev


class EvdevHandle:
    """An open `evdev.InputDevice`; `read_events` waits with select so the caller can notice a stop."""

    def __init__(self, device: Any) -> None:
        self._device = device

    def grab(self) -> None:
        self._device.grab()

    def read_events(self, timeout: float) -> Sequence[InputEventLike]:
        ready, _, _ = select.select([self._device.fd], [], [], timeout)
        if not ready:
            return []
        try:
            return list(self._device.read())
        except BlockingIOError:
            return []

    def close(self) -> None:
        self._device.close()


class EvdevInputSource:
    """The real input devices, through python-evdev (imported on first use)."""

    def __init__(self, link_dirs: Sequence[Path] = STABLE_LINK_DIRS) -> None:
        self._evdev = _evdev()
        self._link_dirs = link_dirs

    def open(self, path: str) -> EvdevHandle:
        return EvdevHandle(self._evdev.InputDevice(path))

    def list_devices(self) -> list[InputDeviceInfo]:
        links = self._stable_links()
        found = []
        for path in self._evdev.list_devices():
            try:
                found.append(self._describe(path, links.get(os.path.realpath(path), ())))
            except OSError:
                continue  # vanished or not readable: not a candidate
        return found

    def _describe(self, path: str, links: tuple[str, ...]) -> InputDeviceInfo:
        device = self._evdev.InputDevice(path)
        try:
            keys = set(device.capabilities().get(EV_KEY, ()))
            return InputDeviceInfo(path, device.name, links, {KEY_1, KEY_ENTER} <= keys)
        finally:
            device.close()

    def _stable_links(self) -> dict[str, tuple[str, ...]]:
        links: dict[str, list[str]] = {}
        for folder in self._link_dirs:
            if folder.is_dir():
                for link in sorted(folder.iterdir()):
                    links.setdefault(os.path.realpath(link), []).append(str(link))
        return {target: tuple(paths) for target, paths in links.items()}
