"""What every scanner shares: the `Scanner` interface and the reconnect policy around a backend's link.

Backends (evdev, serial) only open a link and read scans from it; `ReconnectingScanner` owns the policy,
like python-can's `BusABC`: report health as `DeviceStatus` on change, reopen with backoff after an unplug
or an error, stop promptly when asked, and never let an exception escape the thread.
"""

from __future__ import annotations

import errno
import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

from devices.errors import DeviceError, DeviceIOError, DeviceUnavailable
from devices.readings import DeviceState, DeviceStatus, Post, ScanRead

log = logging.getLogger(__name__)

_GONE = frozenset({errno.ENOENT, errno.ENODEV, errno.ENXIO})


def os_error(what: str, exc: OSError) -> DeviceError:
    """The kernel's errno as a state a person can act on: not there (absent), or there but failing."""
    if exc.errno in _GONE:
        return DeviceUnavailable(f"{what}: not present ({exc.strerror or exc})")
    if exc.errno == errno.EBUSY:
        return DeviceIOError(f"{what}: in use by another program (EBUSY: it grabbed or locked the device)")
    return DeviceIOError(f"{what}: {exc}")


class Scanner(Protocol):
    """A barcode scanner as the box sees it: `run` blocks until `stop` is set and never raises."""

    name: str

    def run(self, post: Post, stop: threading.Event) -> None: ...


class ScannerLink(Protocol):
    """An open connection to one scanner, as a backend provides it."""

    def read(self, timeout: float) -> list[ScanRead]:
        """The scans completed within `timeout` seconds (often none).

        Raises `DeviceUnavailable` when the device went away and `DeviceError` when it fails.
        """
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnect attempts: quick after an unplug, then slower while the device stays away."""

    initial: float = 0.25
    maximum: float = 5.0

    def after(self, delay: float) -> float:
        return min(self.maximum, delay * 2)


class StatusReporter:
    """Posts a `DeviceStatus` only when the state or its detail changes, not on every retry."""

    def __init__(self, device: str, post: Post) -> None:
        self._device = device
        self._post = post
        self._last: DeviceStatus | None = None

    def report(self, state: DeviceState, detail: str = "") -> None:
        status = DeviceStatus(self._device, state, detail)
        if status != self._last:
            self._last = status
            if state is not DeviceState.OK:
                log.warning("device %s: %s: %s", self._device, state.value, detail)
            self._post(status)


class ReconnectingScanner(ABC):
    """Runs a backend's link with the shared policy; subclasses implement `connect` only."""

    poll_interval = 0.1  # how long a read may block, so `stop` is noticed promptly

    def __init__(self, name: str, *, backoff: Backoff | None = None) -> None:
        self.name = name
        self.backoff = backoff or Backoff()

    @abstractmethod
    def connect(self) -> tuple[ScannerLink, str]:
        """Open the device; returns the link and a line for the status ("/dev/input/by-path/… grabbed").

        Raises `DeviceUnavailable` if it is not there (yet) and `DeviceError` if it is there but unusable.
        """

    def run(self, post: Post, stop: threading.Event) -> None:
        status = StatusReporter(self.name, post)
        delay = self.backoff.initial
        while not stop.is_set():
            if self._session(post, stop, status):
                delay = self.backoff.initial
            if stop.wait(delay):
                break
            delay = self.backoff.after(delay)

    def _session(self, post: Post, stop: threading.Event, status: StatusReporter) -> bool:
        """One connection, from open to loss; True if the device was reached."""
        connected = False
        try:
            link, detail = self.connect()
            connected = True
            status.report(DeviceState.OK, detail)
            try:
                self._pump(link, post, stop)
            finally:
                link.close()
        except DeviceUnavailable as exc:
            status.report(DeviceState.ABSENT, str(exc))
        except DeviceError as exc:
            status.report(DeviceState.ERROR, str(exc))
        except Exception as exc:  # a bug must not kill the scanner thread for good
            log.exception("scanner %s: unexpected error", self.name)
            status.report(DeviceState.ERROR, f"unexpected error: {exc!r}")
        return connected

    def _pump(self, link: ScannerLink, post: Post, stop: threading.Event) -> None:
        while not stop.is_set():
            for scan in link.read(self.poll_interval):
                post(scan)
