"""The Mettler-Toledo 8217 echo probe: a safe way to ask a serial port "are you a scale?".

The host sends `Ehello`; an 8217 scale answers STX 'E' CR "hello" and leaves echo mode on `F`. Nothing is
weighed or changed. The bytes and the match come from the scale codec (`devices.scales.toledo`); this module
only owns the port for the moment of the probe.

The 8217 talks 7E1. The probe opens the port as 8N1 and puts the even-parity bit in bit 7 itself: on the
wire the frames are identical (start, 7 data bits, parity, stop), and it works on a pseudo-terminal too,
where some kernels refuse CS7/PARENB outright. Replies are read with bit 7 masked off.
"""

from __future__ import annotations

import time
from typing import Any

from devices.errors import DeviceIOError
from devices.scales.toledo import probe_matches, probe_request

ECHO_REQUEST = probe_request()
ECHO_END = b"F"
PROTOCOL = "toledo-8217"
_KEEP = 64  # bytes of a chatty device's stream kept while looking for the reply


def is_echo_reply(data: bytes) -> bool:
    """True if `data` holds the echo reply; bit 7 is masked, since 7E1 read as 8N1 carries parity there."""
    return probe_matches(data)


def with_even_parity(data: bytes) -> bytes:
    """7-bit ASCII with the even-parity bit in bit 7: 7E1 frames sent through an 8N1 port."""
    return bytes(b & 0x7F | (bin(b & 0x7F).count("1") & 1) << 7 for b in data)


def probe_toledo_8217(path: str, timeout_s: float = 0.3) -> bool:
    """Sends the echo request at 9600 baud, 7E1 on the wire; True if an 8217 answered within `timeout_s`.

    The port is locked exclusively while probing, so a port the box's own driver holds is left alone.
    """
    import serial

    try:
        with serial.serial_for_url(
            path, baudrate=9600, bytesize=8, parity="N", stopbits=1, timeout=timeout_s, exclusive=True
        ) as port:
            port.reset_input_buffer()
            port.write(with_even_parity(ECHO_REQUEST))
            if not _await_reply(port, timeout_s):
                return False
            port.write(with_even_parity(ECHO_END))
            port.flush()
            return True
    except (serial.SerialException, OSError) as exc:
        raise DeviceIOError(f"{path}: cannot probe for a Toledo 8217 scale: {exc}") from exc


def _await_reply(port: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    received = b""
    while not is_echo_reply(received):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        port.timeout = remaining
        received = (received + port.read(8))[-_KEEP:]  # the reply is 8 bytes
    return True
