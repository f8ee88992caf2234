"""Field checkers for decoded JSON: plain functions, one `type(x) is` test on the happy path.

They run for every field of every message (a 100-entry journal batch is the hot path), so they do no
reflection; each message class calls them by hand in its `from_json`. `bool` is never accepted as an int:
`type(True) is int` is false. Failures raise `MalformedMessage` naming the field; containers prefix the path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Concatenate, Final, NoReturn, ParamSpec, TypeAlias, TypeVar

from wire._text import show
from wire.errors import MalformedMessage
from wire.timestamps import TS_EXAMPLE, parse_ts

JSON: TypeAlias = "bool | int | float | str | list[JSON] | dict[str, JSON] | None"
Obj: TypeAlias = dict[str, Any]
"""A decoded JSON object whose fields have not been checked yet."""

INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1  # every integer fits a SQLite / PostgreSQL bigint on either side
QTY_MAX: Final = 10**9
"""The largest quantity a stock field may carry, in units or grams (a tonne is 10**6 g). Shopify refuses
inventory quantities past 10**9, and a bound this far below 2**63 keeps every sum of them in a bigint."""
ID_LEN: Final = 128
TEXT_LEN: Final = 1024
MISSING: Final[Any] = object()

T = TypeVar("T")
P = ParamSpec("P")


def req(obj: Obj, key: str, check: Callable[Concatenate[Any, str, P], T], *a: P.args, **kw: P.kwargs) -> T:
    return check(obj.get(key, MISSING), key, *a, **kw)


def opt(
    obj: Obj, key: str, check: Callable[Concatenate[Any, str, P], T], *a: P.args, **kw: P.kwargs
) -> T | None:
    """An optional field: absent and `null` both mean None."""
    value = obj.get(key)
    return None if value is None else check(value, key, *a, **kw)


def fail(value: object, path: str, expected: str) -> NoReturn:
    if value is MISSING:
        raise MalformedMessage(path, "required field is missing")
    raise MalformedMessage(path, f"expected {expected}, got {show(value)}")


def as_str(value: Any, path: str, *, min_len: int = 1, max_len: int = TEXT_LEN) -> str:
    if type(value) is str and min_len <= len(value) <= max_len:
        return value
    if type(value) is str:
        fail(value, path, "a non-empty string" if not value else f"at most {max_len} characters")
    fail(value, path, "a string")


def as_text(value: Any, path: str) -> str:
    """Free text that may be empty (a name, a note)."""
    return as_str(value, path, min_len=0)


def as_id(value: Any, path: str) -> str:
    """A non-empty identifier: a sku, an order id, a barcode, a command id."""
    return as_str(value, path, max_len=ID_LEN)


def as_int(value: Any, path: str, *, lo: int = INT_MIN, hi: int = INT_MAX) -> int:
    if type(value) is int and lo <= value <= hi:
        return value
    if type(value) is not int:
        fail(value, path, "an integer")
    if not INT_MIN <= value <= INT_MAX:
        fail(value, path, "an integer that fits in 64 bits")
    fail(value, path, f"an integer ≥ {lo}" if hi == INT_MAX else f"an integer from {lo} to {hi}")


def as_count(value: Any, path: str) -> int:
    return as_int(value, path, lo=0)


def as_qty(value: Any, path: str) -> int:
    """A signed stock quantity or change (units, or grams), within ±`QTY_MAX`."""
    return as_int(value, path, lo=-QTY_MAX, hi=QTY_MAX)


def as_qty_count(value: Any, path: str) -> int:
    """A stock quantity that cannot be negative (a count, a weight), up to `QTY_MAX`."""
    return as_int(value, path, lo=0, hi=QTY_MAX)


EPOCH_PATTERN: Final = re.compile(r"[0-9a-f]{16}")


def as_epoch(value: Any, path: str) -> str:
    """A store epoch: 16 lowercase hex characters (see docs/protocol.md, "Streams")."""
    if type(value) is str and EPOCH_PATTERN.fullmatch(value):
        return value
    fail(value, path, "a store epoch (16 characters of 0-9 and a-f)")


def as_bool(value: Any, path: str) -> bool:
    if type(value) is bool:
        return value
    fail(value, path, "true or false")


def as_number(value: Any, path: str) -> float:
    """Any finite JSON number, as a float (`20` and `20.0` are the same reading)."""
    if (type(value) is float or type(value) is int) and -1e18 <= value <= 1e18:
        return float(value)
    if type(value) is float and not math.isfinite(value):
        fail(value, path, "a finite number")
    fail(value, path, "a number" if type(value) not in (int, float) else "a number within ±1e18")


def as_ts(value: Any, path: str) -> str:
    if type(value) is str and parse_ts(value) is not None:
        return value
    fail(value, path, f"an ISO-8601 UTC timestamp with milliseconds like {TS_EXAMPLE!r}")


def as_choice(value: Any, path: str, *, choices: frozenset[str]) -> str:
    if type(value) is str and value in choices:
        return value
    fail(value, path, "one of " + ", ".join(repr(c) for c in sorted(choices)))


def as_object(value: Any, path: str) -> Obj:
    if type(value) is dict:
        return value
    fail(value, path, "an object")


def as_str_map(value: Any, path: str) -> dict[str, str]:
    """An object of short strings (device name → state)."""
    for key, item in as_object(value, path).items():
        as_str(item, f"{path}[{show(key)}]", min_len=0, max_len=ID_LEN)
    return value  # type: ignore[no-any-return]


def as_count_map(value: Any, path: str) -> dict[str, int]:
    """An object of counters (name → a count that is never negative), at most 64 of them."""
    if len(as_object(value, path)) > 64:
        raise MalformedMessage(path, f"expected at most 64 counters, got {len(value)}")
    for key, item in value.items():
        as_id(key, f"{path} key")
        as_count(item, f"{path}[{show(key)}]")
    return value  # type: ignore[no-any-return]


def as_tuple(
    value: Any, path: str, *, item: Callable[[Any, str], T], max_items: int, min_items: int = 0
) -> tuple[T, ...]:
    """A JSON list whose items each pass `item`; an error names the item (`entries[3].seq`)."""
    if type(value) is not list:
        fail(value, path, "a list")
    if not min_items <= len(value) <= max_items:
        raise MalformedMessage(path, f"expected {min_items} to {max_items} items, got {len(value)}")
    out = []
    for index, element in enumerate(value):
        try:
            out.append(item(element, ""))
        except MalformedMessage as exc:
            exc.at(f"{path}[{index}]")
            raise
    return tuple(out)


def no_duplicates(path: str, keys: list[str], where: str = "") -> None:
    """Refuses a list naming the same sku twice: which of the two wins would be an accident of order."""
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise MalformedMessage(path, f"{show(key)} appears more than once{where}")
        seen.add(key)


def compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Drops absent optional fields, so the wire carries only what was said."""
    return {key: value for key, value in fields.items() if value is not None}


def nested(from_json: Callable[[Obj], T]) -> Callable[[Any, str], T]:
    """Turns a message class's `from_json` into an item checker for `as_tuple`."""

    def parse(value: Any, path: str) -> T:
        return from_json(as_object(value, path))

    return parse
