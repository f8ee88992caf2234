"""A shop's small state, shared by every worker: the one module that reads and writes the `shop_state` table.

What is kept is typed (`cloud_bridge.core.shopstate.ShopState`): cursors are text, counters ints, due times
seconds since the epoch, each under a fixed name (`Cursor`, `Counter`, `Timer`), so a caller can neither
misspell a name nor read a value as the wrong type. The stored format stays the table of (shop, name, text
value) rows the previous releases wrote, so an upgraded database is read as it is, without a migration.
Shop "" holds what belongs to the whole bridge: each worker's last report and the keys made on first start.

Every function runs inside the caller's transaction (or as a statement of its own).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from cloud_bridge import models as m
from cloud_bridge.core.shopstate import FIELDS, INITIALISED, INTEGER, TEXT, Counter, Cursor, ShopState, Timer

WORKER_KEY: Final = "worker/"  # shop "" holds each worker's counters as JSON under worker/<worker id>
BRIDGE: Final = ""  # the "shop" whose rows belong to the whole bridge


class Key(StrEnum):
    """Values made once for the whole bridge, the first worker or page to start making them."""

    PICKUP_SECRET = "pickup_secret"  # pickup codes, when the config has none
    OWNER_SESSION = "owner_web_secret"  # signs the owner's page sessions


def load(shop: str) -> ShopState:
    """The shop's state as it is now (one query)."""
    rows = m.ShopState.select(m.ShopState.name, m.ShopState.value).where(
        m.ShopState.shop == shop, m.ShopState.name.in_(list(FIELDS))
    )
    values: dict[str, object] = {}
    for name, value in rows.tuples():
        field = FIELDS[name]
        values[field] = value if name in TEXT else int(value) if name in INTEGER else float(value)
    return ShopState(shop, **values)  # type: ignore[arg-type]


def initialised(shop: str) -> bool:
    return _get(shop, INITIALISED) is not None


def mark_initialised(shop: str, at: float) -> None:
    _set(shop, INITIALISED, str(at))


def cursor(shop: str, which: Cursor) -> str | None:
    return _get(shop, which.value)


def set_cursor(shop: str, which: Cursor, value: str) -> None:
    _set(shop, which.value, value)


def count(shop: str, counter: Counter) -> int:
    value = _get(shop, counter.value)
    return 0 if value is None else int(value)


def set_count(shop: str, counter: Counter, value: int) -> None:
    _set(shop, counter.value, str(value))


def get_time(shop: str, timer: Timer) -> float | None:
    value = _get(shop, timer.value)
    return None if value is None else float(value)


def set_time(shop: str, timer: Timer, at: float | None) -> None:
    """Sets the timer to `at`, or clears it (None)."""
    if at is None:
        m.ShopState.delete().where(m.ShopState.shop == shop, m.ShopState.name == timer.value).execute()
    else:
        _set(shop, timer.value, repr(float(at)))


def make_due(shop: str, timer: Timer) -> None:
    """The next pass, in whichever worker, does what `timer` waits for (a webhook's feed)."""
    set_time(shop, timer, 0.0)


def once(key: Key, value: str) -> str:
    """The bridge-wide value under `key`: `value` if none was kept yet, else the one kept (first wins)."""
    m.ShopState.insert(shop=BRIDGE, name=key.value, value=value).on_conflict_ignore().execute()
    row = m.ShopState.get(m.ShopState.shop == BRIDGE, m.ShopState.name == key.value)
    return str(row.value)


def set_worker_report(worker_id: str, report: str) -> None:
    _set(BRIDGE, f"{WORKER_KEY}{worker_id}", report)


def worker_reports() -> dict[str, str]:
    """Each worker's last report (JSON text) by worker id."""
    rows = m.ShopState.select(m.ShopState.name, m.ShopState.value).where(
        m.ShopState.shop == BRIDGE, m.ShopState.name.startswith(WORKER_KEY)
    )
    return {str(name).removeprefix(WORKER_KEY): str(value) for name, value in rows.tuples()}


def _get(shop: str, name: str) -> str | None:
    row = m.ShopState.get_or_none(m.ShopState.shop == shop, m.ShopState.name == name)
    return None if row is None else str(row.value)


def _set(shop: str, name: str, value: str) -> None:
    m.ShopState.insert(shop=shop, name=name, value=value).on_conflict(
        conflict_target=[m.ShopState.shop, m.ShopState.name], preserve=[m.ShopState.value]
    ).execute()


__all__ = [
    "WORKER_KEY",
    "Counter",
    "Cursor",
    "Key",
    "ShopState",
    "Timer",
    "count",
    "cursor",
    "get_time",
    "initialised",
    "load",
    "make_due",
    "mark_initialised",
    "once",
    "set_count",
    "set_cursor",
    "set_time",
    "set_worker_report",
    "worker_reports",
]
