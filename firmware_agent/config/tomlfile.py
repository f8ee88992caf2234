"""Reading a TOML file into plain dicts with errors a person can act on, and writing plain dicts back.

The writer exists because the standard library only reads TOML; it covers what `tomllib` returns, which is
all a merged provisioning result can contain.
"""

from __future__ import annotations

import datetime
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firmware_agent.errors import ConfigError


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables; a missing, unreadable, non-UTF-8 or malformed file is a `ConfigError` naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from exc


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text that `tomllib.loads` turns back into `data` (comments and key order of a source are lost)."""
    lines: list[str] = []
    _table(lines, (), data, header=False)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any], header: bool) -> None:
    inline = {k: v for k, v in table.items() if not _is_table(v) and not _is_table_array(v)}
    if header:
        lines.extend(("", f"[{_dotted(path)}]"))
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in inline.items())
    for key, value in table.items():
        if _is_table(value):
            # A table holding only sub-tables needs no header of its own, except when it is empty.
            own = not value or any(not _is_table(v) and not _is_table_array(v) for v in value.values())
            _table(lines, (*path, key), value, header=own)
        elif _is_table_array(value):
            for item in value:
                lines.extend(("", f"[[{_dotted((*path, key))}]]"))
                _table(lines, (*path, key), item, header=False)


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(map(_key, path))


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    out = "".join(_ESCAPES.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in text)
    return f'"{out}"'


def _value(value: object) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(_value, value)) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)
