"""Turns parsed TOML into a schema's dataclasses, reading only their field types and attached checks: the one
validator of the box's config and the bridge's.

Every problem is collected (a person fixing a file wants the whole list at once, not one per restart). A
table with a problem in any field yields no object, so the checks across fields (`Section.problems`) only
ever see well-typed values; they run again once the field-level problems are fixed.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from configspec.problems import KeyPath, Problem
from configspec.rules import Section, is_secret_name, show
from configspec.secret import MASK, Secret

S = TypeVar("S", bound=Section)
_Cls = Any  # a Section dataclass; dataclass-ness is checked at run time, not by the type system


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


INVALID: Any = _Marker("INVALID")
_ABSENT: Any = _Marker("ABSENT")

_Scalar = tuple[str, Callable[[object], bool], Callable[[Any], Any]]
_SCALARS: dict[object, _Scalar] = {
    str: ("a string", lambda v: isinstance(v, str), str),
    bool: ("true or false", lambda v: isinstance(v, bool), bool),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool), int),
    float: (
        "a finite number",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
        float,
    ),
    Path: ("a path (a string)", lambda v: isinstance(v, str) and "\0" not in v, Path),
}
_TABLE: _Scalar = ("a table", lambda v: isinstance(v, Mapping), dict)


def build(cls: type[S], data: object, path: KeyPath = ()) -> tuple[S | None, list[Problem]]:
    """The section built from `data`, or None and every problem found (paths relative to the file)."""
    walker = _Walker()
    built = walker.table(cls, data, path)
    return (None if built is INVALID or walker.problems else built), walker.problems


def is_secret_type(hint: object) -> bool:
    """`Secret`, a subclass (`SecretUrl`), or either of them optional."""
    members = get_args(hint) if get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    return any(isinstance(m, type) and issubclass(m, Secret) for m in members)


def _scalar(hint: Any) -> _Scalar:
    if isinstance(hint, type) and issubclass(hint, Secret):
        return ("a string", lambda v: isinstance(v, str), hint)
    if get_origin(hint) is Mapping or hint is Mapping:
        return _TABLE  # a free-form table (a shop's credentials), its keys checked by the code that reads it
    return _SCALARS[hint]


def describe(value: object, secret: bool = False) -> str:
    """What kind of value a person wrote, with the value itself unless it is a secret."""
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    kind = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}.get(type(value))
    if kind is None:
        kind = "a date/time" if isinstance(value, datetime.date | datetime.time) else type(value).__name__
    return kind if secret else f"{kind} ({show(value)})"


def _shown(value: Secret) -> str:
    """`***`, or what the secret allows to be seen (a database URL with its password masked)."""
    text = value.shown()
    return text if text == MASK else show(text)


@functools.cache
def hints(cls: _Cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _tag(cls: _Cls) -> object:
    """The `type` literal that selects this member of a union of tables ("evdev" for an evdev scanner)."""
    return get_args(hints(cls)["type"])[0]


def _is_table_type(hint: object) -> bool:
    members = get_args(hint) if get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    return all(dataclasses.is_dataclass(m) for m in members if m is not type(None))


class _Walker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def report(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(path, message))

    def table(self, cls: _Cls, data: object, path: KeyPath, siblings: Sequence[type] = ()) -> Any:
        if not isinstance(data, Mapping):
            self.report(path, f"expected a table, got {describe(data)}")
            return INVALID
        before = len(self.problems)
        self._unknown_keys(cls, data, path, siblings)
        types_of = hints(cls)
        values = {f.name: self.field(f, types_of[f.name], data, path) for f in dataclasses.fields(cls)}
        if len(self.problems) > before:
            return INVALID
        built = cls(**{name: value for name, value in values.items() if value is not _ABSENT})
        for key, message in built.problems():
            self.report((*path, *key) if isinstance(key, tuple) else (*path, key) if key else path, message)
        return built

    def field(
        self, field: dataclasses.Field[Any], hint: object, data: Mapping[str, Any], path: KeyPath
    ) -> Any:
        key_path = (*path, field.name)
        if field.name not in data:
            return self._absent(field, hint, key_path)
        raw = data[field.name]
        # a key named like a secret, a Secret-typed key (`web.pin`), or one its rule calls secret
        secret = is_secret_name(field.name) or is_secret_type(hint) or bool(field.metadata.get("secret"))
        if field.metadata.get("unique"):
            self._unique(field.metadata["unique"], raw, key_path)
        value = self.convert(hint, raw, key_path, secret)
        if value is not INVALID and value is not None:
            self._check(field.metadata.get("check"), value, key_path, secret)
            each = field.metadata.get("each")
            for index, item in enumerate(value if each else ()):
                self._check(each, item, (*key_path, index), secret)
        return value

    def _absent(self, field: dataclasses.Field[Any], hint: object, key_path: KeyPath) -> Any:
        if not _is_required(field):
            return _ABSENT
        if dataclasses.is_dataclass(hint):
            self.table(hint, {}, key_path)  # names each missing key inside
        else:
            self.report(key_path, "missing (required)")
        return INVALID

    def _check(
        self, check: Callable[[Any], str | None] | None, value: Any, path: KeyPath, secret: bool
    ) -> None:
        reason = check(value) if check else None
        if reason:
            shown = _shown(value) if isinstance(value, Secret) else MASK if secret else show(value)
            self.report(path, f"{shown} {reason}")

    def _unique(self, key: str, raw: object, path: KeyPath) -> None:
        if not isinstance(raw, list):
            return
        first: dict[object, int] = {}
        for index, item in enumerate(raw):
            name = item.get(key) if isinstance(item, Mapping) else None
            if not isinstance(name, str):
                continue
            if name in first:
                self.report((*path, index, key), f"{show(name)} is already used by {path[-1]}[{first[name]}]")
            else:
                first[name] = index

    def convert(self, hint: Any, value: object, path: KeyPath, secret: bool) -> Any:
        origin = get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            return self._union(get_args(hint), value, path, secret)
        if origin is Literal:
            return self._literal(get_args(hint), value, path, secret)
        if origin is tuple:
            return self._array(get_args(hint)[0], value, path, secret)
        if dataclasses.is_dataclass(hint):
            return self.table(hint, value, path)
        want, accepts, make = _scalar(hint)
        if accepts(value):
            return make(value)
        self.report(path, f"expected {want}, got {describe(value, secret)}")
        return INVALID

    def _union(self, members: tuple[Any, ...], value: object, path: KeyPath, secret: bool) -> Any:
        present = [m for m in members if m is not type(None)]
        if value is None and len(present) < len(members):
            return None
        if len(present) == 1:
            return self.convert(present[0], value, path, secret)
        return self._tagged(present, value, path)

    def _tagged(self, members: list[_Cls], value: object, path: KeyPath) -> Any:
        """A table whose `type` key says which dataclass describes it ([[scanner]] type = "serial")."""
        by_tag = {_tag(m): m for m in members}
        choices = ", ".join(map(str, by_tag))
        if not isinstance(value, Mapping):
            self.report(path, f"expected a table, got {describe(value)}")
        elif "type" not in value:
            self.report((*path, "type"), f"missing (required: one of {choices})")
        elif not any(type(t) is type(value["type"]) and t == value["type"] for t in by_tag):
            self.report((*path, "type"), f"{show(value['type'])} is not one of {choices}")
        else:
            return self.table(by_tag[value["type"]], value, path, siblings=members)
        return INVALID

    def _literal(self, choices: tuple[Any, ...], value: object, path: KeyPath, secret: bool) -> Any:
        if any(type(c) is type(value) and c == value for c in choices):
            return value
        shown = MASK if secret else show(value)
        self.report(path, f"{shown} is not one of {', '.join(map(str, choices))}")
        return INVALID

    def _array(self, item: Any, value: object, path: KeyPath, secret: bool) -> Any:
        if not isinstance(value, list):
            tables = f" ([[{path[-1]}]] tables)" if _is_table_type(item) else ""
            self.report(path, f"expected an array{tables}, got {describe(value, secret)}")
            return INVALID
        items = [self.convert(item, v, (*path, i), secret) for i, v in enumerate(value)]
        return INVALID if any(i is INVALID for i in items) else tuple(items)

    def _unknown_keys(
        self, cls: _Cls, data: Mapping[str, Any], path: KeyPath, siblings: Sequence[type]
    ) -> None:
        names = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in names:
                self.report((*path, str(key)), _unknown_key_message(cls, str(key), names, siblings))


def _unknown_key_message(cls: _Cls, key: str, names: list[str], siblings: Sequence[type]) -> str:
    owner = next((s for s in siblings if key in (f.name for f in dataclasses.fields(s))), None)
    if owner is not None:
        return f"not used with type = {show(_tag(cls))} (it is a setting of type = {show(_tag(owner))})"
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    return f"unknown key (did you mean {close[0]}?)" if close else f"unknown key (known: {', '.join(names)})"
