"""Test doubles for the scanner tests: a post collector, a thread runner, and fake kernel input devices.

The fake input source stands in for what this machine lacks (input devices, /dev/uinput): it hands out
real `evdev.InputEvent` objects and fails like the kernel (ENOENT, ENODEV, EBUSY).
"""

from __future__ import annotations

import errno
import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from evdev import InputEvent

from devices.readings import DeviceState, DeviceStatus, ScanRead
from devices.scanners.evdev_input import InputDeviceInfo
from devices.scanners.wedge import WedgeDecoder
from simulators.scanner import Event, key_events_for

WAIT = 5.0


def decode(events: list[Event], layout: str = "us", **options: Any) -> list[ScanRead]:
    """The scans a fresh `WedgeDecoder` makes of `(type, code, value)` events, fed one at a time."""
    decoder = WedgeDecoder(layout, source="test", **options)
    return [scan for event in events if (scan := decoder.feed(*event)) is not None]


class Collector:
    """A `Post` that keeps what it is given, and lets a test wait for a matching item."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def __call__(self, item: object) -> None:
        self._queue.put(item)

    def wait_for(self, match: Callable[[object], bool], timeout: float = WAIT) -> Any:
        for item in self.seen:
            if match(item):
                self.seen.remove(item)
                return item
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"nothing matching arrived in {timeout} s; saw {self.seen!r}") from None
            if match(item):
                return item
            self.seen.append(item)

    def scan(self, timeout: float = WAIT) -> ScanRead:
        scan: ScanRead = self.wait_for(lambda item: isinstance(item, ScanRead), timeout)
        return scan

    def status(self, state: DeviceState, timeout: float = WAIT) -> DeviceStatus:
        status: DeviceStatus = self.wait_for(
            lambda item: isinstance(item, DeviceStatus) and item.state is state, timeout
        )
        return status

    def drain(self) -> list[object]:
        while True:
            try:
                self.seen.append(self._queue.get_nowait())
            except queue.Empty:
                return self.seen


@contextmanager
def running(scanner: Any, post: Collector) -> Iterator[threading.Event]:
    """Run `scanner.run(post, stop)` in a thread; on exit, stop it and check it ended promptly."""
    stop = threading.Event()
    thread = threading.Thread(target=scanner.run, args=(post, stop), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(WAIT)
        assert not thread.is_alive(), "run() did not return after stop was set"


_node_numbers = itertools.count(3)


@dataclass
class _Node:
    """One /dev/input/eventN: it lives from plug to unplug; a replugged scanner gets a new node."""

    path: str
    queue: queue.Queue[list[InputEvent] | OSError] = field(default_factory=queue.Queue)
    alive: bool = True
    grabbed: bool = False


class FakeDevice:
    """A USB scanner as the kernel shows it: a name, stable links, and an event node while plugged in."""

    def __init__(self, name: str, links: tuple[str, ...], has_keys: bool = True) -> None:
        self.name = name
        self.links = links
        self.has_keys = has_keys
        self.node: _Node | None = None
        self.opens = 0

    def info(self) -> InputDeviceInfo:
        assert self.node is not None
        return InputDeviceInfo(self.node.path, self.name, self.links, self.has_keys)

    def plug(self) -> None:
        self.node = _Node(f"/dev/input/event{next(_node_numbers)}")

    def unplug(self) -> None:
        assert self.node is not None
        self.node.alive = False
        self.node.queue.put(OSError(errno.ENODEV, "No such device"))
        self.node = None

    def send(self, events: list[Event]) -> None:
        assert self.node is not None, "unplugged"
        self.node.queue.put([InputEvent(0, 0, *event) for event in events])

    def type(self, text: str, layout: str = "us", terminator: str | None = "enter") -> None:
        self.send(key_events_for(text, layout, terminator))


class FakeHandle:
    def __init__(self, node: _Node) -> None:
        self.node = node
        self.grabbed = False

    def grab(self) -> None:
        if self.node.grabbed:
            raise OSError(errno.EBUSY, "Device or resource busy")
        self.node.grabbed = self.grabbed = True

    def read_events(self, timeout: float) -> list[InputEvent]:
        if not self.node.alive and self.node.queue.empty():
            raise OSError(errno.ENODEV, "No such device")
        try:
            item = self.node.queue.get(timeout=timeout)
        except queue.Empty:
            return []
        if isinstance(item, OSError):
            raise item
        return item

    def close(self) -> None:
        if self.grabbed:
            self.node.grabbed = self.grabbed = False


class FakeInputSource:
    """An `InputSource` over `FakeDevice`s; opens resolve stable links to the current node, as udev's do."""

    def __init__(self, *devices: FakeDevice) -> None:
        self.devices = list(devices)
        self.handles: list[FakeHandle] = []

    def list_devices(self) -> list[InputDeviceInfo]:
        return [device.info() for device in self.devices if device.node is not None]

    def open(self, path: str) -> FakeHandle:
        for device in self.devices:
            node = device.node
            if node is not None and (path == node.path or path in device.links):
                device.opens += 1
                handle = FakeHandle(node)
                self.handles.append(handle)
                return handle
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)


def scanner_device(port: str, name: str = "Honeywell Xenon 1900 Scanner") -> FakeDevice:
    """A plugged-in scanner on USB port `port` (e.g. "1.2"), with the links udev would make."""
    device = FakeDevice(
        name,
        (
            f"/dev/input/by-path/platform-fd500000.pcie-pci-0000:01:00.0-usb-0:{port}:1.0-event-kbd",
            "/dev/input/by-id/usb-Honeywell_Imaging_Xenon_1900-event-kbd",
        ),
    )
    device.plug()
    return device
