"""What a schema documents: every key of every table with its type and default, for the reference in
docs/configuration.md (a test compares the two, so a new key cannot go undocumented)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from configspec.rules import is_secret_name
from configspec.secret import Secret
from configspec.validator import hints


@dataclass(frozen=True)
class Key:
    table: str  # "mqtt", "scanner" (an array of tables), "shop.credentials"
    name: str
    kind: str  # "string", "integer", "number", "bool", "path", "array", "table", "secret", "one of …"
    required: bool
    secret: bool  # never shown: a Secret type, a secret-looking name, or `rule(secret=True)`


def keys(cls: Any, table: str = "") -> Iterator[Key]:
    """Every key of `cls` and of the tables below it, in declaration order; a tagged union of tables
    ([[scanner]] with `type`) lists every member's keys once."""
    for field in dataclasses.fields(cls):
        hint = hints(cls)[field.name]
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        below = _tables(hint)
        if below:
            seen: set[str] = set()
            for sub in below:
                for key in keys(sub, f"{table}.{field.name}" if table else field.name):
                    if key.name not in seen:
                        seen.add(key.name)
                        yield key
            continue
        kind = _kind(hint)
        secret = kind == "secret" or is_secret_name(field.name) or bool(field.metadata.get("secret"))
        yield Key(table, field.name, kind, required, secret)


def _members(hint: object) -> tuple[Any, ...]:
    if get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(m for m in get_args(hint) if m is not type(None))
    return (hint,)


def _tables(hint: object) -> list[Any]:
    members = _members(hint)
    if len(members) == 1 and get_origin(members[0]) is tuple:
        members = _members(get_args(members[0])[0])
    return (
        [m for m in members if dataclasses.is_dataclass(m)]
        if all(dataclasses.is_dataclass(m) for m in members)
        else []
    )


def _kind(hint: object) -> str:
    members = _members(hint)
    hint = members[0]
    if isinstance(hint, type) and issubclass(hint, Secret):
        return "secret"
    if get_origin(hint) is Literal:
        return "one of " + ", ".join(map(str, get_args(hint)))
    if get_origin(hint) is tuple:
        return "array"
    if hint is Mapping or get_origin(hint) is Mapping:
        return "table"
    names = {str: "string", int: "integer", float: "number", bool: "bool"}
    return names.get(hint, "path") if isinstance(hint, type) else str(hint)
