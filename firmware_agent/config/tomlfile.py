"""Reading a TOML file into plain dicts with errors a person can act on, editing one in place, and writing
plain dicts back.

`merged_text` is how the box rewrites agent.toml (`config.set`, provisioning): tomlkit keeps the installer's
comments, key order and layout, changing only the keys it is given. `dumps` writes fresh files (the
provisioning copies); it exists because the standard library only reads TOML, and covers what `tomllib`
returns.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.container import Container
from tomlkit.items import AoT, Table

import configspec
from firmware_agent.errors import ConfigError


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables; a missing, unreadable, non-UTF-8 or malformed file is a `ConfigError` naming it."""
    try:
        return configspec.read_toml(path)
    except configspec.ConfigFileError as exc:
        raise ConfigError(exc.problem.message, file=exc.problem.file) from exc


def merged_text(text: str, over: Mapping[str, Any], *, file: str, none_deletes: bool = False) -> str:
    """`text` with `over` merged in: tables key by key, other values (arrays of tables too) replaced, `None`
    deleting the key when `none_deletes`. Every comment and the layout of the keys not changed are kept."""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=file) from exc
    _merge_into(document, over, none_deletes)
    return tomlkit.dumps(document)


def _merge_into(table: Container | Table, over: Mapping[str, Any], none_deletes: bool) -> None:
    for key, value in over.items():
        old = table.get(key)
        if value is None and none_deletes:
            if key in table:
                del table[key]
        elif isinstance(old, Table) and isinstance(value, Mapping):
            _merge_into(old, value, none_deletes)
        elif isinstance(old, AoT) and _tables(value):
            _replace_tables(old, value)
        else:
            table[key] = value


def _tables(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)


def _replace_tables(old: AoT, new: list[Mapping[str, Any]]) -> None:
    """An array of tables replaced table by table and key by key, so the comments inside it (the sample's
    commented-out alternatives) stay where they were; keys a new table lacks are deleted."""
    for index, values in enumerate(new):
        if index >= len(old):
            old.append(tomlkit.item(dict(values)))
            continue
        table = old[index]
        for key in [k for k in table if k not in values]:
            del table[key]
        for key, value in values.items():
            table[key] = value
    while len(old) > len(new):
        old.remove(old[len(new)])


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
