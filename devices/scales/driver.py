"""A scale on a serial port, polled in its own thread, reporting through `post`.

The driver owns policy — poll rhythm, what counts as "not answering", reconnecting with backoff, which
status to report — and nothing about bytes; the codec owns the protocol and the transport owns the port.
The thread never dies of a device problem: every failure becomes a `DeviceStatus` and a retry.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from devices.errors import DeviceConfigError, DeviceIOError, DeviceTimeout, DeviceUnavailable
from devices.readings import DeviceState, DeviceStatus, Post
from devices.scales.codec import ScaleCodec
from devices.scales.protocols import make_codec
from devices.scales.reading import ScaleReading
from devices.scales.settings import SerialSettings
from devices.scales.transport import PORT_ERRORS, Exchange, SerialPort, exchange, open_port

log = logging.getLogger(__name__)

NOT_ANSWERING = "scale not answering"
LINE_NOISE = "line noise: no valid frame (check protocol, baud rate and parity)"


def _codec(protocol: str | ScaleCodec) -> ScaleCodec:
    return make_codec(protocol) if isinstance(protocol, str) else protocol


class ScaleDriver:
    """Polls one scale; posts `DeviceStatus` changes and `ScaleReading`s (only when they change).

    Status: OK while readings come; ERROR "scale not answering" after `misses_before_error` silent polls,
    ERROR with the reason on noise or a fault the scale reports; ABSENT while the port cannot be opened or
    has vanished (unplugged adapter) — the driver keeps retrying with backoff up to `max_backoff` seconds.
    """

    def __init__(
        self,
        name: str,
        protocol: str | ScaleCodec,
        url_or_port: str,
        settings: SerialSettings | None,
        post: Post,
        poll_interval: float = 0.2,
        *,
        response_timeout: float = 0.5,
        misses_before_error: int = 2,
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
        stop: threading.Event | None = None,
    ) -> None:
        if poll_interval < 0 or response_timeout <= 0 or misses_before_error < 1:
            raise DeviceConfigError(f"scale {name}: poll interval, timeout and miss limit must be positive")
        self.name = name
        self.codec = _codec(protocol)
        self.url = url_or_port
        self.settings = settings or type(self.codec).defaults
        self.poll_interval = poll_interval
        self.response_timeout = response_timeout
        self.misses_before_error = misses_before_error
        self._post = post
        self._backoff_range = (min_backoff, max_backoff)
        self._backoff = min_backoff
        self.stop_event = stop or threading.Event()
        self._thread: threading.Thread | None = None
        self._status: tuple[DeviceState, str] | None = None
        self._last_reading: ScaleReading | None = None

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name=f"scale-{self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 2.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The thread body: open, serve, and on any failure report, back off and try again."""
        while not self.stop_event.is_set():
            try:
                self._connect_and_serve()
            except DeviceUnavailable as exc:
                self._set_status(DeviceState.ABSENT, str(exc))
            except DeviceConfigError as exc:  # e.g. settings the adapter refuses: say so, retry slowly
                self._set_status(DeviceState.ERROR, str(exc))
            except DeviceIOError as exc:
                self._set_status(DeviceState.ABSENT, f"port {self.url} lost: {exc.__cause__ or exc}")
            except Exception as exc:  # a driver thread must outlive any bug or surprise
                log.exception("scale %s: unexpected failure", self.name)
                self._set_status(DeviceState.ERROR, f"driver failure: {exc}")
            self.stop_event.wait(self._backoff)
            self._backoff = min(self._backoff * 2, self._backoff_range[1])

    def _connect_and_serve(self) -> None:
        port = open_port(self.url, self.settings)
        log.info("scale %s: %s on %s (%s)", self.name, self.codec.name, self.url, self.settings)
        self._last_reading = None
        self.codec.restart()
        try:
            self._serve(port)
        finally:
            try:
                port.close()
            except PORT_ERRORS:
                log.debug("scale %s: closing %s failed", self.name, self.url)

    def _serve(self, port: SerialPort) -> None:
        misses = 0
        silent = True
        while not self.stop_event.is_set():
            result = exchange(port, self.codec, self.response_timeout)
            if result.readings:
                misses, silent = 0, True
                self._backoff = self._backoff_range[0]
                self._report(result)
            else:
                misses += 1
                self.codec.restart()
                silent = silent and result.received == 0
                if misses >= self.misses_before_error:
                    self._set_status(DeviceState.ERROR, NOT_ANSWERING if silent else LINE_NOISE)
            if not self.codec.continuous:
                self.stop_event.wait(self.poll_interval)

    def _report(self, result: Exchange) -> None:
        """Status first, so a consumer learns the scale is back before it sees the weight."""
        last = result.readings[-1]
        if last.error:
            self._set_status(DeviceState.ERROR, last.error)
        else:
            self._set_status(DeviceState.OK)
        for reading in result.readings:
            comparable = replace(reading, raw=b"")
            if comparable != self._last_reading:
                self._last_reading = comparable
                self._post(reading)

    def _set_status(self, state: DeviceState, detail: str = "") -> None:
        if self._status != (state, detail):
            self._status = (state, detail)
            if state is not DeviceState.OK:
                self._last_reading = None  # after any trouble, the current weight is posted afresh
            if state is not DeviceState.OK:
                log.warning("scale %s: %s %s", self.name, state.value, detail)
            self._post(DeviceStatus(self.name, state, detail))


def read_once(
    protocol: str | ScaleCodec,
    url_or_port: str,
    settings: SerialSettings | None = None,
    *,
    timeout: float = 1.0,
) -> ScaleReading:
    """Poll once and return the last reading of the exchange (for the CLI and for discovery)."""
    codec = _codec(protocol)
    port = open_port(url_or_port, settings or type(codec).defaults)
    try:
        result = exchange(port, codec, timeout)
    finally:
        port.close()
    if not result.readings:
        why = "not answering" if result.received == 0 else f"{result.received} bytes of noise, no valid frame"
        raise DeviceTimeout(f"scale ({codec.name}) on {url_or_port}: no reading within {timeout} s: {why}")
    return result.readings[-1]
