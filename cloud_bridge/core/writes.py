"""What goes to a shop's stock in which batch, and what follows from each item's answer.

A delta shop (Shopify) gets box movements claimed into writes, one delta per sku, each write one request
sent under an idempotency key made from its id: a retry after a timeout reuses the key, so the shop applies
it once. Its answer per item says applied, refused for good (parked, written again after `parked_retry_s`),
or not applied because another item failed (written again at once, under a new key). An answer that never
came leaves the write in doubt: it stays pending and goes again under the same key.

An absolute shop (WooCommerce, PrestaShop) has its changed skus marked and read-then-written, as many per
read as one request holds. Reconciliation compares every sku the bridge stocks but a parked one; on a
delta shop not while a delta write is in doubt, which a correction would count twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from cloud_bridge.connectors.base import ItemResult
from cloud_bridge.errors import (
    NotApplied,
    PermanentShopError,
    ShopTimeout,
    ShopUnreachable,
    TransientShopError,
)
from cloud_bridge.shopplan import batches

WRITE_SKUS: Final = 200  # skus per claimed write: one request on Shopify (≤ 250 changes per mutation)


def write_size(absolute: bool, writes_per_request: int) -> int:
    """Skus per claimed write: a delta write is one request, an absolute shop's only marks its skus."""
    return WRITE_SKUS if absolute else min(WRITE_SKUS, writes_per_request)


def claim_batches(known: Collection[str], parked: Collection[str], size: int) -> list[tuple[str, ...]]:
    """The skus whose movements are claimed, one write per batch: those with a baseline, not parked."""
    return batches(sorted(set(known) - set(parked)), size)


def coalesce(moves: Iterable[tuple[str, int]]) -> dict[str, int]:
    """One delta per sku: the sum of its movements (a sku whose movements cancel out keeps its 0)."""
    totals: dict[str, int] = {}
    for sku, delta in moves:
        totals[sku] = totals.get(sku, 0) + delta
    return totals


def idempotency_key(shop: str, write_id: int) -> str:
    return f"tillbridge-{shop}-{write_id}"


def to_send(deltas: Mapping[str, int]) -> dict[str, int]:
    """What a write sends: its non-zero deltas (a write of zeros needs no request)."""
    return {sku: delta for sku, delta in deltas.items() if delta}


def in_doubt(results: Iterable[ItemResult]) -> TransientShopError | None:
    """The first item the shop may have applied without saying so (a timeout, a dropped connection): the
    whole write then stays pending, to go again under the same key."""
    for result in results:
        if isinstance(result.error, TransientShopError) and not isinstance(result.error, NotApplied):
            return result.error
    return None


@dataclass(frozen=True)
class DeltaSettlement:
    """A delta write's answer sorted out: `applied` moved the shop; `refused` (sku → the shop's reason)
    are parked and go again later as `retry_later`; `retry_now` were not applied for another item's sake.
    """

    applied: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    retry_now: dict[str, int] = field(default_factory=dict)
    retry_later: dict[str, int] = field(default_factory=dict)


def settle_deltas(deltas: Mapping[str, int], results: Iterable[ItemResult]) -> DeltaSettlement:
    out = DeltaSettlement()
    for result in results:
        if isinstance(result.error, PermanentShopError):
            out.refused[result.sku] = str(result.error)
            out.retry_later[result.sku] = deltas[result.sku]
        elif result.error is not None:
            out.retry_now[result.sku] = deltas[result.sku]
        else:
            out.applied[result.sku] = deltas[result.sku]
    return out


def absolute_batches(
    dirty: Iterable[str], wanted: Iterable[str], parked: Collection[str], reads_per_request: int
) -> list[tuple[str, ...]]:
    """The marked skus the window lets go now, not parked, as many per batch as one read holds."""
    return batches(sorted((set(dirty) & set(wanted)) - set(parked)), reads_per_request)


class Outcome(StrEnum):
    """One item of an absolute write."""

    OK = "ok"  # written (or nothing to write)
    FAILED = "failed"  # certainly not applied
    DOUBT = "doubt"  # no answer: it may land, even late
    REFUSED = "refused"  # refused for good: the sku is parked


def outcome(result: ItemResult | None) -> Outcome:
    if result is None or result.error is None:
        return Outcome.OK
    if isinstance(result.error, PermanentShopError):
        return Outcome.REFUSED
    return Outcome.DOUBT if isinstance(result.error, ShopTimeout | ShopUnreachable) else Outcome.FAILED


def reconcile_skus(
    stocked: Iterable[str], parked: Collection[str], *, absolute: bool, delta_in_doubt: bool
) -> tuple[str, ...] | None:
    """The skus reconciliation compares, sorted; None while it must wait (a delta write in doubt)."""
    if not absolute and delta_in_doubt:
        return None
    return tuple(sorted(set(stocked) - set(parked)))


__all__ = [
    "WRITE_SKUS",
    "DeltaSettlement",
    "Outcome",
    "absolute_batches",
    "claim_batches",
    "coalesce",
    "idempotency_key",
    "in_doubt",
    "outcome",
    "reconcile_skus",
    "settle_deltas",
    "to_send",
    "write_size",
]
