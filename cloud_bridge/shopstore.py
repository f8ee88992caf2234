"""The statements the shop driver (`cloud_bridge.sync`) makes about one shop's work in the database.

Parked problems, box movements claimed into shop writes, the writes' progress, which skus an absolute
shop must write, the messages queued for the boxes, the floor's notices: each read or write here is one
method, so the driver reads facts, asks the pure core (`cloud_bridge.core`) what follows, and records
the outcome through this, with no SQL of its own. A shop's small named values are `cloud_bridge.state`'s.

Every method runs inside the caller's transaction (or as a statement of its own).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import peewee as pw

from cloud_bridge import models as m
from cloud_bridge.core import orders as orderplan
from cloud_bridge.parking import park, resolve
from cloud_bridge.sqlrows import chunks
from wire import Kind, parse_ts

SKU_PREFIX: Final = "sku/"  # parked skus' keys


@dataclass(frozen=True)
class Queued:
    """A message waiting for a box: orders, catalog changes."""

    id: int
    box: str
    kind: Kind
    payload: bytes


@dataclass(frozen=True)
class PendingWrite:
    """A delta write due to be sent (again): its id makes its idempotency key."""

    id: int
    deltas: dict[str, int]


class ShopStore:
    """One shop's rows, as the driver reads and records them."""

    def __init__(self, shop: str) -> None:
        self.shop = shop

    # --- parked problems -----------------------------------------------------------------------------------

    def park(self, key: str, what: str, problem: str, now: float, *, payload: str | None = None) -> None:
        park(self.shop, key, what, problem, now, payload=payload)

    def resolve(self, key: str) -> None:
        resolve(self.shop, key)

    def park_sku(self, sku: str, problem: str, now: float) -> None:
        park(self.shop, f"{SKU_PREFIX}{sku}", "sku", problem, now)

    def unpark_sku(self, sku: str) -> None:
        resolve(self.shop, f"{SKU_PREFIX}{sku}")

    def parked_skus(self, tried_after: float) -> set[str]:
        """Parked skus last tried after `tried_after` (the others are tried again)."""
        query = m.Parked.select(m.Parked.key).where(
            m.Parked.shop == self.shop,
            m.Parked.resolved == False,  # noqa: E712
            m.Parked.key.startswith(SKU_PREFIX),
            m.Parked.last_at > tried_after,
        )
        return {row.key.removeprefix(SKU_PREFIX) for row in query}

    def parked_orders(self) -> set[str]:
        """The keys of the orders parked now."""
        query = m.Parked.select(m.Parked.key).where(
            m.Parked.shop == self.shop,
            m.Parked.resolved == False,  # noqa: E712
            m.Parked.key.startswith(orderplan.PREFIX),
        )
        return {row.key for row in query}

    def parked_orders_due(self, tried_before: float, limit: int) -> list[str]:
        """Keys of parked orders last read at or before `tried_before`, at most `limit`."""
        query = m.Parked.select(m.Parked.key).where(
            m.Parked.shop == self.shop,
            m.Parked.resolved == False,  # noqa: E712
            m.Parked.what == "order",
            m.Parked.key.startswith(orderplan.PREFIX),
            m.Parked.last_at <= tried_before,
        )
        return [row.key for row in query.limit(limit)]

    def stock_unknown(self) -> bool:
        """Some parked order's stock effect is unknown: a difference in the shop may be that order."""
        query = m.Parked.select().where(
            m.Parked.shop == self.shop,
            m.Parked.resolved == False,  # noqa: E712
            m.Parked.payload == orderplan.STOCK_UNKNOWN,
        )
        return bool(query.exists())

    # --- the floor's orders ------------------------------------------------------------------------------

    def set_completion(self, order_id: str, completion: str) -> None:
        m.ShopOrder.update(completion=completion).where(
            m.ShopOrder.shop == self.shop, m.ShopOrder.order_id == order_id
        ).execute()

    def set_notice(self, notice_id: int, told: str) -> None:
        m.OrderNotice.update(state=told).where(m.OrderNotice.id == notice_id).execute()

    # --- messages for the boxes ----------------------------------------------------------------------------

    def unpublished(self, limit: int) -> list[Queued]:
        """The oldest messages not yet published, in the order they were queued."""
        query = (
            m.Outbound.select(m.Outbound.id, m.Outbound.box, m.Outbound.kind, m.Outbound.payload)
            .where(m.Outbound.shop == self.shop, m.Outbound.published_at.is_null())
            .order_by(m.Outbound.id)
            .limit(limit)
        )
        return [
            Queued(int(i), str(box), Kind(kind), bytes(payload)) for i, box, kind, payload in query.tuples()
        ]

    def mark_published(self, ids: Sequence[int], at: float) -> None:
        m.Outbound.update(published_at=at).where(m.Outbound.id.in_(list(ids))).execute()

    # --- stock out: movements, writes, marked skus ---------------------------------------------------------

    def unclaimed_skus(self) -> set[str]:
        """Skus with box movements not yet claimed into a write."""
        query = m.Movement.select(m.Movement.sku).where(*self._unclaimed()).distinct()
        return {row.sku for row in query}

    def oldest_unclaimed_at(self) -> float | None:
        """The till's time of the oldest movement not yet claimed (None: none, or not readable)."""
        oldest = m.Movement.select(pw.fn.MIN(m.Movement.at)).where(*self._unclaimed()).scalar()
        moment = parse_ts(oldest) if isinstance(oldest, str) else None
        return None if moment is None else moment.timestamp()

    def unclaimed_moves(self, skus: Sequence[str]) -> list[tuple[int, str, int]]:
        """(movement id, sku, delta) of the unclaimed movements of `skus`."""
        query = m.Movement.select(m.Movement.id, m.Movement.sku, m.Movement.delta).where(
            *self._unclaimed(), m.Movement.sku.in_(list(skus))
        )
        return [(int(i), str(sku), int(delta)) for i, sku, delta in query.tuples()]

    def add_write(self, deltas: Mapping[str, int], now: float, *, done: bool, moves: Sequence[int]) -> int:
        """A new write of `deltas` holding the movements `moves`; `done` for one with nothing to send."""
        state = "done" if done else "pending"
        write = m.ShopWrite.create(
            shop=self.shop, deltas=json.dumps(dict(deltas)), created_at=now, state=state
        )
        for chunk in chunks(list(moves)):
            m.Movement.update(write=write.id).where(m.Movement.id.in_(chunk)).execute()
        return int(write.id)

    def pending_writes(self, now: float) -> list[PendingWrite]:
        """Delta writes due now, oldest first."""
        query = m.ShopWrite.select(m.ShopWrite.id, m.ShopWrite.deltas).where(
            m.ShopWrite.shop == self.shop, m.ShopWrite.state == "pending", m.ShopWrite.next_at <= now
        )
        return [PendingWrite(int(i), json.loads(d)) for i, d in query.order_by(m.ShopWrite.id).tuples()]

    def count_attempt(self, write_id: int) -> None:
        """Recorded before the request: from here the write may be in doubt."""
        m.ShopWrite.update(attempts=m.ShopWrite.attempts + 1).where(m.ShopWrite.id == write_id).execute()

    def finish_write(
        self, write_id: int, again: Iterable[tuple[Mapping[str, int], float]], now: float
    ) -> None:
        """Marks the write done; each (deltas, when) in `again` moves those skus' movements into a new write
        sent at that time."""
        m.ShopWrite.update(state="done", last_error=None).where(m.ShopWrite.id == write_id).execute()
        for deltas, at in again:
            if deltas:
                new = m.ShopWrite.create(
                    shop=self.shop, deltas=json.dumps(dict(deltas)), created_at=now, next_at=at
                )
                m.Movement.update(write=new.id).where(
                    m.Movement.write == write_id, m.Movement.sku.in_(sorted(deltas))
                ).execute()

    def delta_in_doubt(self) -> bool:
        """A delta write was sent and its outcome is not known."""
        query = m.ShopWrite.select().where(
            m.ShopWrite.shop == self.shop, m.ShopWrite.state == "pending", m.ShopWrite.attempts > 0
        )
        return bool(query.exists())

    def stocked_skus(self) -> set[str]:
        return {row.sku for row in m.Stock.select(m.Stock.sku).where(m.Stock.shop == self.shop)}

    def dirty_skus(self) -> list[str]:
        """Skus an absolute shop must write (an order or a movement changed what the ledger wants)."""
        query = m.Stock.select(m.Stock.sku).where(m.Stock.shop == self.shop, m.Stock.dirty == True)  # noqa: E712
        return [row.sku for row in query]

    def mark_dirty(self, skus: Iterable[str]) -> None:
        for chunk in chunks(sorted(set(skus))):
            m.Stock.update(dirty=True).where(m.Stock.shop == self.shop, m.Stock.sku.in_(chunk)).execute()

    def written_at(self, skus: Iterable[str]) -> dict[str, float | None]:
        """When the shop last took a write of each sku (None: not known)."""
        found: dict[str, float | None] = {}
        for chunk in chunks(sorted(skus)):
            query = m.Stock.select(m.Stock.sku, m.Stock.written_at).where(
                m.Stock.shop == self.shop, m.Stock.sku.in_(chunk)
            )
            found.update({str(sku): at for sku, at in query.tuples()})
        return found

    def record_written(self, sku: str, written: int, at: float, *, again: bool) -> None:
        """What was written for `sku` and when its answer came; `again`: look at it next pass."""
        m.Stock.update(written=written, written_at=at, dirty=again).where(
            m.Stock.shop == self.shop, m.Stock.sku == sku
        ).execute()

    def _unclaimed(self) -> tuple[pw.Expression, ...]:
        return (
            m.Movement.shop == self.shop,
            m.Movement.push == True,  # noqa: E712
            m.Movement.write.is_null(),
        )


__all__ = ["PendingWrite", "Queued", "ShopStore"]
