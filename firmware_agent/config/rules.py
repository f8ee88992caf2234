"""The box's own checks (serial ports, printers, receipt templates, barcode layouts), beside the shared
vocabulary of `configspec` that the schema is written in (re-exported here for the schema's imports).
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import parse_qs, urlsplit

from configspec.rules import Check as Check
from configspec.rules import Section as Section
from configspec.rules import absolute_path as absolute_path
from configspec.rules import between as between
from configspec.rules import ident as ident
from configspec.rules import is_secret_name as is_secret_name
from configspec.rules import mqtt_url as mqtt_url
from configspec.rules import nonempty as nonempty
from configspec.rules import not_negative as not_negative
from configspec.rules import positive as positive
from configspec.rules import ratio as ratio
from configspec.rules import rule as rule
from configspec.rules import show as show
from configspec.secret import Secret as Secret

BAUD_RATES = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)


def bcm_pin(value: int) -> str | None:
    return None if 0 <= value <= 27 else "is not a BCM GPIO pin (0..27)"


def baud_rate(value: int) -> str | None:
    return None if value in BAUD_RATES else f"is not a standard baud rate ({', '.join(map(str, BAUD_RATES))})"


def codepage(value: str) -> str | None:
    try:
        codecs.lookup(value)
    except LookupError:
        return "is not a known code page (e.g. CP858, CP1252, CP437, ISO-8859-15)"
    return None


def receipt_template(value: str) -> str | None:
    from devices.receipts import PRESETS

    return None if value in PRESETS else f"is not a receipt template preset ({', '.join(PRESETS)})"


def tcp_address(value: str) -> str | None:
    """`host:port` (a listening address, `0.0.0.0:9100`) or `tcp://host:port` (a printer)."""
    try:
        parts = urlsplit(value if "://" in value else f"tcp://{value}")
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or not port:
        return "needs host:port (192.168.1.50:9100 or tcp://192.168.1.50:9100)"
    return None


def ip_address(value: str) -> str | None:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "is not an IP address (192.168.1.20)"
    return None


def receipt_printer(value: str) -> str | None:
    """The real printer behind the box: `host:port`, or any printer URL (USB, serial, file: gadget mode)."""
    if "://" not in value:
        return tcp_address(value)
    return printer_url(value)


_LAYOUT_CHARS = frozenset("0123456789IW$VC")


def measure_layout(value: str) -> str | None:
    """Only the shape: what each letter means is the barcode module's business."""
    if len(value) != 13:
        return f"must be 13 characters long, not {len(value)}"
    bad = sorted(set(value) - _LAYOUT_CHARS)
    return f"has {', '.join(map(repr, bad))}: use only digits, I, W, $, V and C" if bad else None


PRINTER_URL_FORMS = "tcp://host:port, usb://VID:PID, serial:///dev/...?baud=N or file:///dev/..."


def printer_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        port = parts.port if parts.scheme == "tcp" else None  # usb://04b8:0e15 has no port, only a PID
    except ValueError:
        return f"is not a valid URL ({PRINTER_URL_FORMS})"
    if parts.scheme == "tcp":
        return None if parts.hostname and port else "needs host:port (tcp://192.168.1.50:9100)"
    if parts.scheme == "usb":
        return (
            None if re.fullmatch(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}", parts.netloc) else "needs VID:PID in hex"
        )
    if parts.scheme in ("serial", "file"):
        if parts.netloc or not parts.path.startswith("/"):
            return f"needs an absolute device path ({parts.scheme}:///dev/...)"
        return _baud_query_problem(parts.query) if parts.scheme == "serial" else None
    return f"is not a printer URL ({PRINTER_URL_FORMS})"


def _baud_query_problem(query: str) -> str | None:
    bauds = parse_qs(query).get("baud", ["9600"])
    if len(bauds) == 1 and bauds[0].isdigit() and int(bauds[0]) in BAUD_RATES:
        return None
    return f"has a bad ?baud= (one of {', '.join(map(str, BAUD_RATES))})"


def printer_device(url: str) -> str | None:
    """The device node a printer URL points at, if it names one (serial:// and file://)."""
    parts = urlsplit(url)
    return parts.path if parts.scheme in ("serial", "file") and parts.path else None
