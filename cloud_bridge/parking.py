"""Parked work: what the bridge cannot finish without a person, kept visible instead of retried forever."""

from __future__ import annotations

from typing import Any

from cloud_bridge import models as m


def park(
    shop: str,
    key: str,
    what: str,
    error: str,
    now: float,
    *,
    box: str | None = None,
    payload: str | None = None,
) -> None:
    """Records (or counts again) a problem under `key` (e.g. `sku/ABC`, `entry/till-1/42`, `shop`)."""
    m.Parked.insert(
        shop=shop, box=box, key=key, what=what, error=error[:2000], payload=payload, first_at=now, last_at=now
    ).on_conflict(
        conflict_target=[m.Parked.shop, m.Parked.key],
        update={
            m.Parked.count: m.Parked.count + 1,
            m.Parked.last_at: now,
            m.Parked.error: error[:2000],
            m.Parked.resolved: False,
        },
    ).execute()


def resolve(shop: str, key: str) -> int:
    """Marks a parked problem as dealt with; returns how many rows it touched."""
    query = m.Parked.update(resolved=True).where(m.Parked.shop == shop, m.Parked.key == key)
    return int(query.execute())


def open_problems(shop: str | None = None) -> list[Any]:
    query = m.Parked.select().where(m.Parked.resolved == False)  # noqa: E712
    if shop is not None:
        query = query.where(m.Parked.shop == shop)
    return list(query.order_by(m.Parked.last_at.desc()))
