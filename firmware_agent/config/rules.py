"""The vocabulary the schema is written in: field rules and their checks, secrets, section base class.

A section of the config is a frozen dataclass; each field's type says what TOML value is accepted and its
`rule()` metadata what else must hold. Adding a section is therefore a dataclass and a list of fields,
never another validation function.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wire.secret import Secret as Secret  # re-exported: the schema's vocabulary

Check = Callable[[Any], str | None]
"""Returns why an already typed value is wrong ("must be greater than 0"), or None when it is fine.

The reason leaves the value out: the validator shows it in front, or `***` for a secret.
"""

SECRET_NAMES = ("password", "secret", "key", "token")
BAUD_RATES = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)


def is_secret_name(name: str) -> bool:
    """Any key named like a secret is masked, even before its type is known (a typo'd `pasword` too)."""
    lowered = name.lower()
    return any(lowered == word or lowered.endswith(f"_{word}") for word in SECRET_NAMES)


class Section:
    """Base of every config section; `problems()` holds the checks that involve more than one field.

    They run only when every field of the section has a valid type, so they can rely on the annotations.
    """

    def problems(self) -> Iterator[tuple[str, str]]:
        """Yields (key within the section, what is wrong)."""
        return iter(())


def rule(check: Check | None = None, *, each: Check | None = None, unique: str = "") -> dict[str, object]:
    """Validator metadata: `check` the value, `each` item of an array, `unique` key among its tables.

    Used as `field(default=..., metadata=rule(...))`; a field without a default is a required key.
    """
    return {"check": check, "each": each, "unique": unique}


# --- checks: each returns the reason a value is wrong, and the validator puts the value in front of it ----


_URL_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_URL_PARAM = re.compile(r"([?&;]([^=&;#]*)=)([^&;#]*)")
_URL_FRAGMENT = re.compile(r"#.*$", re.S)


def show(value: object) -> str:
    """A value as it would look in the file, short enough for one log line, and never a credential written
    into a URL (`mqtt://user:password@host`, `?password=…`, `#…`): errors travel to logs and to support."""
    text = str(value)
    if "://" in text:
        text = _URL_FRAGMENT.sub("#***", _URL_USERINFO.sub(r"\1***@", text))
        text = _URL_PARAM.sub(lambda m: m[1] + ("***" if is_secret_name(m[2]) else m[3]), text)
    text = repr(text) if isinstance(value, str | PurePath) else text
    return text if len(text) <= 60 else text[:57] + "..."


_IDENT = re.compile(r"[a-z0-9-]{1,64}")


def ident(value: str) -> str | None:
    return None if _IDENT.fullmatch(value) else "must be 1 to 64 characters of a-z, 0-9 and -"


def nonempty(value: str | tuple[object, ...]) -> str | None:
    return None if value else "must not be empty"


def positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def not_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def ratio(value: float) -> str | None:
    return None if 0 < value < 1 else "must be between 0 and 1 (exclusive)"


def bcm_pin(value: int) -> str | None:
    return None if 0 <= value <= 27 else "is not a BCM GPIO pin (0..27)"


def baud_rate(value: int) -> str | None:
    return None if value in BAUD_RATES else f"is not a standard baud rate ({', '.join(map(str, BAUD_RATES))})"


def absolute_path(value: str | PurePath) -> str | None:
    return None if str(value).startswith("/") else "must be an absolute path"


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
