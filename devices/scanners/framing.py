"""Serial scanner framing: bytes in, one text per scan out, with no I/O.

Serial (and USB-CDC) scanners send each scan followed by a suffix the installer sets on the scanner:
CR, CR LF, LF or TAB. With a CR or LF suffix the framer also strips line breaks around each scan, so a
scanner that sends CR LF works when CR was configured (a barcode never starts or ends with a line break;
line breaks inside a multi-line 2D code are kept).
"""

from __future__ import annotations

from devices.errors import DeviceConfigError

TERMINATORS = {"CR": b"\r", "CRLF": b"\r\n", "LF": b"\n", "TAB": b"\t"}


def terminator_bytes(name: str) -> bytes:
    try:
        return TERMINATORS[name.upper()]
    except KeyError:
        known = ", ".join(TERMINATORS)
        raise DeviceConfigError(f"unknown serial scan terminator {name!r}: use one of {known}") from None


class LineFramer:
    """Feed it bytes as they arrive; it returns the scans they complete, decoded to text.

    A scan longer than `max_length` bytes is dropped up to its terminator and counted in `overflows`, so
    line noise without terminators cannot grow the buffer without bound.
    """

    def __init__(self, terminator: str = "CR", *, encoding: str = "utf-8", max_length: int = 8192) -> None:
        self.terminator = terminator_bytes(terminator)
        self._strip = b"\r\n" if self.terminator in (b"\r", b"\n", b"\r\n") else b""
        self.encoding = encoding
        self.max_length = max_length
        self.overflows = 0
        self._buffer = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        frames = self._buffer.split(self.terminator)
        self._buffer = bytearray(frames.pop())
        scans = [self._decode(frame) for frame in frames if not self._skip_frame()]
        if len(self._buffer) > self.max_length:
            self._buffer.clear()
            self._discarding = True
            self.overflows += 1
        return [scan for scan in scans if scan]

    def _skip_frame(self) -> bool:
        """True for the tail of a dropped oversized scan: its terminator ends the dropping."""
        skip, self._discarding = self._discarding, False
        return skip

    def _decode(self, frame: bytearray) -> str:
        if len(frame) > self.max_length:
            self.overflows += 1
            return ""
        return frame.strip(self._strip).decode(self.encoding, errors="replace")
