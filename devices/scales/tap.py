"""A serial tap between a POS and its scale: the box on both cables, forwarding every byte both ways as
soon as it arrives, and reading the scale's answers with the scale's codec on the side.

Legal-for-trade: the box never changes, delays on purpose or answers anything — the codec is only fed
(its `data_to_send` is never sent), so checksum handshakes and certified weights pass untouched. The
forwarding is `devices.receipts.forward.relay`, the same core as the receipt printer proxy.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable

from devices.receipts.forward import RelayResult, Side, relay
from devices.scales.codec import ScaleCodec
from devices.scales.reading import ScaleReading
from devices.scales.transport import PORT_ERRORS, SerialPort

log = logging.getLogger(__name__)


def serial_side(port: SerialPort, name: str, ended: threading.Event, stop: threading.Event) -> Side:
    """A serial port as one end of the relay: reads block (in short read slices) until bytes come, the
    relay `ended` (the other port failed) or the tap is told to `stop`."""

    def read() -> bytes:
        while not (ended.is_set() or stop.is_set()):
            try:
                data = port.read(max(1, port.in_waiting))
            except PORT_ERRORS as exc:
                raise OSError(f"{name}: {exc}") from exc
            if data:
                return data
        raise OSError(errno.EBADF, f"{name}: the tap is stopping")

    def write(data: bytes) -> None:
        try:
            port.write(data)
        except PORT_ERRORS as exc:
            raise OSError(f"{name}: {exc}") from exc

    def close() -> None:
        ended.set()  # the other direction's read ends within one read slice

    return Side(name, read, write, lambda: None, close)


class SerialTap:
    """`run()` forwards until a port fails or `stop` is set; readings go to `on_reading` as they pass."""

    def __init__(
        self,
        pos: SerialPort,
        scale: SerialPort,
        codec: ScaleCodec,
        on_reading: Callable[[ScaleReading], None],
        stop: threading.Event | None = None,
    ) -> None:
        self.pos, self.scale, self.codec = pos, scale, codec
        self.on_reading = on_reading
        self.stop = stop or threading.Event()

    def run(self) -> RelayResult:
        ended = threading.Event()
        return relay(
            serial_side(self.pos, "POS serial port", ended, self.stop),
            serial_side(self.scale, "scale serial port", ended, self.stop),
            replies=self._read,
        )

    def _read(self, data: bytes) -> None:
        for event in self.codec.feed(data):
            if isinstance(event, ScaleReading):
                try:
                    self.on_reading(event)
                except Exception:
                    log.exception("serial tap: handling a reading failed; forwarding goes on")
