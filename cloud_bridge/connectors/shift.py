"""Moving a shop's stock by a delta on any platform, with the best guarantee the platform allows.

Shopify: one idempotent `inventoryAdjustQuantities` (exactly once per key, atomic). Elsewhere: read the
current quantity and write quantity + delta, where Shopify-style compare-and-swap is not available the
window between read and write stays open for a request's time, so the bridge still needs its orders feed
to catch a sale that lands in it. With compare-and-swap (`supports_cas`), a stale read is retried with the
fresh value.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloud_bridge.connectors.base import ItemResult, ShopConnector, StockChange, StockDelta
from cloud_bridge.errors import StaleStock, StockNotManaged, UnknownSku


def shift_stock(
    connector: ShopConnector,
    deltas: Sequence[StockDelta],
    idempotency_key: str,
    *,
    attempts: int = 5,
    use_deltas: bool = True,
) -> list[ItemResult]:
    """One result per sku (deltas of the same sku are summed), in first-seen order. `use_deltas=False`
    takes the read-and-write path even where idempotent deltas exist (with CAS on Shopify).
    """
    totals: dict[str, int] = {}
    for d in deltas:
        totals[d.sku] = totals.get(d.sku, 0) + d.delta
    if connector.supports_deltas and use_deltas:
        return connector.adjust_stock(
            [StockDelta(sku, delta) for sku, delta in totals.items()], idempotency_key
        )
    return _by_read_and_write(connector, totals, attempts)


def _by_read_and_write(connector: ShopConnector, totals: dict[str, int], attempts: int) -> list[ItemResult]:
    results: dict[str, ItemResult] = {}
    pending = dict(totals)
    for _ in range(attempts):
        levels = connector.get_stock(list(pending))
        changes = []
        for sku, delta in pending.items():
            level = levels.get(sku)
            if level is None:
                results[sku] = ItemResult(sku, error=UnknownSku(connector.shop, sku))
            elif level.quantity is None:
                results[sku] = ItemResult(
                    sku, error=StockNotManaged(connector.shop, f"sku {sku!r} has no stock count")
                )
            else:
                expected = level.quantity if connector.supports_cas else None
                changes.append(StockChange(sku, level.quantity + delta, expected))
        written = connector.set_stock(changes)
        for result in written:
            results[result.sku] = result
        pending = {r.sku: pending[r.sku] for r in written if isinstance(r.error, StaleStock)}
        if not pending:
            break
    return [results[sku] for sku in totals]
