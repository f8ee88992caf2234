"""Small named values per shop (polling cursors, the catalog version, due times), shared by every worker.

Due times are typed (`Timer`): seconds since the epoch under a fixed name, None when not set, so a caller
cannot misspell one or read it as the wrong type.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from cloud_bridge import models as m

WORKER_KEY: Final = "worker/"  # shop "" holds each worker's counters as JSON under worker/<worker id>


class Timer(StrEnum):
    """A shop's due times, each under its `shop_state` name (the names are the stored format)."""

    BACKOFF = "backoff_until"  # the shop failed: no pass before this
    ORDERS = "orders_due"  # the orders feed (a webhook sets it to 0: due now)
    PRODUCTS = "products_due"
    RECONCILE = "reconcile_due"
    WRITES_OPEN = "writes_open"  # when the coalescing window of stock changes opened (`shopplan`)


def get_value(shop: str, name: str) -> str | None:
    row = m.ShopState.get_or_none(m.ShopState.shop == shop, m.ShopState.name == name)
    return None if row is None else str(row.value)


def get_int(shop: str, name: str, default: int) -> int:
    value = get_value(shop, name)
    return default if value is None else int(value)


def get_float(shop: str, name: str, default: float) -> float:
    value = get_value(shop, name)
    return default if value is None else float(value)


def set_value(shop: str, name: str, value: str) -> None:
    m.ShopState.insert(shop=shop, name=name, value=value).on_conflict(
        conflict_target=[m.ShopState.shop, m.ShopState.name], preserve=[m.ShopState.value]
    ).execute()


def get_time(shop: str, timer: Timer) -> float | None:
    value = get_value(shop, timer.value)
    return None if value is None else float(value)


def set_time(shop: str, timer: Timer, at: float | None) -> None:
    """Sets the timer to `at`, or clears it (None)."""
    if at is None:
        m.ShopState.delete().where(m.ShopState.shop == shop, m.ShopState.name == timer.value).execute()
    else:
        set_value(shop, timer.value, repr(float(at)))
