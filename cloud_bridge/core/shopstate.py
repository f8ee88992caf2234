"""A shop's small state as typed values: what the driver's planners read, with no database behind it.

`cloud_bridge.state` stores it (one row per value, under the names these enums carry) and loads it whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

INITIALISED: Final = "initialised"  # when the shop's first start finished (its catalog, orders, baselines)


class Timer(StrEnum):
    """A shop's due times, each under its `shop_state` name (the names are the stored format)."""

    BACKOFF = "backoff_until"  # the shop failed: no pass before this
    ORDERS = "orders_due"  # the orders feed (a webhook sets it to 0: due now)
    PRODUCTS = "products_due"
    RECONCILE = "reconcile_due"
    WRITES_OPEN = "writes_open"  # when the coalescing window of stock changes opened (`shopplan`)


class Cursor(StrEnum):
    """Where a shop's feed was read up to (the connector's opaque cursor)."""

    ORDERS = "orders_cursor"
    PRODUCTS = "products_cursor"


class Counter(StrEnum):
    """A shop's whole numbers, 0 until first set."""

    FAILURES = "failures"  # passes failed in a row (the back-off grows with it)
    CATALOG_VERSION = "catalog_version"  # the boxes' catalog version (`cloud_bridge.catalog`)
    LEVELS_VERSION = "levels_version"  # the last levels push's version (`cloud_bridge.levels`)
    LEVELS_PUSHED = "levels_pushed"  # every movement id up to here reached every box (`cloud_bridge.ledger`)


@dataclass(frozen=True)
class ShopState:
    """Everything kept about one shop, read in one query; None (a timer: 0, due now) when never set."""

    shop: str
    initialised_at: float | None = None
    orders_cursor: str | None = None
    products_cursor: str | None = None
    failures: int = 0
    catalog_version: int = 0
    levels_version: int = 0
    levels_pushed: int = 0
    backoff_until: float | None = None
    orders_due: float | None = None
    products_due: float | None = None
    reconcile_due: float | None = None
    writes_open: float | None = None

    @property
    def initialised(self) -> bool:
        return self.initialised_at is not None

    def due(self, timer: Timer) -> float:
        """When `timer` is due; 0 (now) when it was never set."""
        return self.timer(timer) or 0.0

    def timer(self, timer: Timer) -> float | None:
        at: float | None = getattr(self, FIELDS[timer.value])
        return at

    def cursor(self, cursor: Cursor) -> str | None:
        value: str | None = getattr(self, FIELDS[cursor.value])
        return value

    def count(self, counter: Counter) -> int:
        value: int = getattr(self, FIELDS[counter.value])
        return value


FIELDS: Final = {
    INITIALISED: "initialised_at",
    **{name.value: name.value for name in Cursor},
    **{name.value: name.value for name in Counter},
    **{name.value: name.value for name in Timer},
}
TEXT: Final = frozenset(c.value for c in Cursor)
INTEGER: Final = frozenset(c.value for c in Counter)


__all__ = ["FIELDS", "INITIALISED", "INTEGER", "TEXT", "Counter", "Cursor", "ShopState", "Timer"]
