"""The vocabulary a config schema is written in: the section base class, field rules, and the checks both
the box's and the bridge's configs use.

A table of a config file is a frozen dataclass; each field's type says what TOML value is accepted and its
`rule()` metadata what else must hold. Adding a table is a dataclass and a list of fields, never another
validation function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from configspec.problems import KeyPath

Check = Callable[[Any], str | None]
"""Returns why an already typed value is wrong ("must be greater than 0"), or None when it is fine.

The reason leaves the value out: the validator shows it in front, or `***` for a secret.
"""

SECRET_NAMES = ("password", "secret", "key", "token")


def is_secret_name(name: str) -> bool:
    """Any key named like a secret is masked, even before its type is known (a typo'd `pasword` too)."""
    lowered = name.lower()
    return any(lowered == word or lowered.endswith(f"_{word}") for word in SECRET_NAMES)


class Section:
    """Base of every config table; `problems()` holds the checks that involve more than one field.

    They run only when every field of the table has a valid type, so they can rely on the annotations.
    """

    def problems(self) -> Iterator[tuple[str | KeyPath, str]]:
        """Yields (key within the table, or a key path below it; what is wrong)."""
        return iter(())


def rule(
    check: Check | None = None, *, each: Check | None = None, unique: str = "", secret: bool = False
) -> dict[str, object]:
    """Validator metadata: `check` the value, `each` item of an array, `unique` key among its tables;
    `secret` masks a value whose type does not say so (a free-form table of credentials).

    Used as `field(default=..., metadata=rule(...))`; a field without a default is a required key.
    """
    return {"check": check, "each": each, "unique": unique, "secret": secret}


# --- showing a value in a message ----------------------------------------------------------------------

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


# --- checks: each returns the reason a value is wrong, and the validator puts the value in front of it ----

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


def between(low: float, high: float) -> Check:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"must be from {low:g} to {high:g}"

    return check


def at_least(low: float) -> Check:
    def check(value: float) -> str | None:
        return None if value >= low else f"must be at least {low:g}"

    return check


def one_of(choices: tuple[str, ...]) -> Check:
    """For a set of names that grows with the code (shop platforms): a `Literal` would fix it in the type."""

    def check(value: str) -> str | None:
        return None if value in choices else f"is not one of {', '.join(choices)}"

    return check


def absolute_path(value: str | PurePath) -> str | None:
    return None if str(value).startswith("/") else "must be an absolute path"


def host_port(value: str) -> str | None:
    """`host:port` to listen on (`127.0.0.1:8088`)."""
    host, _, port = value.rpartition(":")
    ok = host and port.isdigit() and 0 < int(port) < 65536
    return None if ok else "needs host:port (127.0.0.1:8088)"


def http_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
    except ValueError:
        return "is not a valid URL"
    return None if parts.scheme in ("http", "https") and parts.hostname else "is not an http(s) URL"


def mqtt_url(value: str) -> str | None:
    """mqtt://host[:port] or mqtts://host[:port]; credentials belong in username/password, not the URL."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "is not a valid URL (mqtt://host:1883 or mqtts://host:8883)"
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        return "must be mqtt://host[:port] or mqtts://host[:port]"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials: set username and password instead"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must be only scheme, host and port"
    return None if port is None or port > 0 else "has port 0"
