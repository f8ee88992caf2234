"""Small named values per shop (polling cursors, the catalog version, due times), shared by every worker."""

from __future__ import annotations

from typing import Final

from cloud_bridge import models as m

WORKER_KEY: Final = "worker/"  # shop "" holds each worker's counters as JSON under worker/<worker id>


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
