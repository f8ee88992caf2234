"""Reading values out of what a shop (or a webhook sender) sent: every check raises `Invalid`, which the
connector turns into `MalformedResponse` or `MalformedWebhook` at its boundary. Nothing here trusts its input.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

MAX_CENTS: Final = 10**13  # a hundred billion in any currency is not a price
MAX_QTY: Final = 10**12
_INTEGER: Final = re.compile(r"-?[0-9]{1,15}")


class Invalid(ValueError):
    """A value that is not what the API documents; the message names where it was found."""


def as_obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{what}: expected an object, got {type(value).__name__}")
    return value


def obj_or_empty(value: Any) -> dict[str, Any]:
    """An optional nested object (`billing`, `customer`): anything else counts as absent."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid(f"{what}: expected a list, got {type(value).__name__}")
    return value


def get(obj: dict[str, Any], key: str, what: str) -> Any:
    if key not in obj:
        raise Invalid(f"{what}: {key!r} is missing")
    return obj[key]


def as_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{what}: expected a string, got {type(value).__name__}")
    return value


def opt_str(value: Any, what: str) -> str:
    return "" if value is None else as_str(value, what)


def as_int(value: Any, what: str) -> int:
    """An integer as JSON number, or as a string of digits (PrestaShop's JSON output quotes every value)."""
    if isinstance(value, bool):
        raise Invalid(f"{what}: expected an integer, got a boolean")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value.strip()):
            raise Invalid(f"{what}: {value[:40]!r} is not an integer")
        value = int(value)
    if not isinstance(value, int) or abs(value) > MAX_QTY:
        raise Invalid(f"{what}: {str(value)[:40]!r} is not an integer in range")
    return value


def opt_int(value: Any, what: str) -> int | None:
    return None if value is None else as_int(value, what)


def as_id(value: Any, what: str) -> str:
    """An id that shops send as a number or a string; kept as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = as_str(value, what)
    if not text or len(text) > 200:
        raise Invalid(f"{what}: {text[:40]!r} is not an id")
    return text


def as_code(value: Any, what: str) -> str:
    """A sku or a barcode, sent as a string or a number; "" when absent. No length limit here: the bridge
    checks each product against the wire's limits and parks the one that is too long, not the whole page.
    """
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return as_str(value, what).strip()


def as_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("1", "0", 1, 0):
        return value in ("1", 1)
    raise Invalid(f"{what}: {str(value)[:40]!r} is not a boolean")


def cents(value: Any, what: str) -> int:
    """Exact cents from a decimal string ("21.99", PrestaShop's "21.990000") or a JSON number."""
    return to_cents(amount(value, what), what)


def amount(value: Any, what: str) -> Decimal:
    """The exact decimal amount of a price as a shop sends it (a per-gram price keeps all its digits)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{what}: expected an amount, got {type(value).__name__}")
    try:
        found = Decimal(str(value).strip() or "0")
    except InvalidOperation as exc:
        raise Invalid(f"{what}: {str(value)[:40]!r} is not an amount") from exc
    if not found.is_finite() or abs(found) * 100 > MAX_CENTS:
        raise Invalid(f"{what}: {str(value)[:40]!r} is not an amount in range")
    return found


def to_cents(value: Decimal, what: str) -> int:
    if abs(value) * 100 > MAX_CENTS:
        raise Invalid(f"{what}: {value} is not an amount in range")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_cents(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def as_time(value: Any, what: str, naive_tz: tzinfo = UTC) -> datetime:
    """An ISO 8601 time ("2024-05-01T12:34:56Z", "…+02:00", WooCommerce's zone-less GMT fields,
    PrestaShop's "2024-05-01 12:34:56" in the shop's zone); a zone-less time is taken in `naive_tz`.
    """
    text = as_str(value, what).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise Invalid(f"{what}: {text[:40]!r} is not a time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise Invalid(f"{what}: {text[:40]!r} is out of range") from exc
