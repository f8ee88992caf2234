"""The shop's catalog as the boxes get it: versioned deltas when products change, snapshots on request.

The version is per shop and moves by one per delta, so a box can tell a missed delta (its `from_version`
does not match) and ask for a snapshot. Deltas carry no stock: a price change must not overwrite the
box's own count with a number that may be older than its last sale. Snapshots carry the ledger's on-hand
quantity, since a box asking for one has no trustworthy catalog left.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.state import get_int, set_value
from wire import MAX_MESSAGE_BYTES, CatalogDelta, CatalogSnapshotChunk, Message, Product, encode

VERSION_KEY: Final = "catalog_version"
CHUNK_PRODUCTS: Final = 1000


@dataclass(frozen=True)
class CatalogFact:
    """What the bridge keeps of one product (a connector's `ShopProduct`, or a test's)."""

    sku: str
    name: str
    price_cents: int
    barcodes: tuple[str, ...] = ()


def apply_products(shop: str, facts: Iterable[CatalogFact], boxes: Sequence[str], now: float) -> int | None:
    """Records changed products; if any changed, queues deltas for every box and returns the new version."""
    version = get_int(shop, VERSION_KEY, 0)
    upserts: list[Product] = []
    for fact in facts:
        row = m.CatalogItem.get_or_none(m.CatalogItem.shop == shop, m.CatalogItem.sku == fact.sku)
        barcodes = fact.barcodes or (tuple(json.loads(row.barcodes)) if row is not None else ())
        if (
            row is not None
            and not row.deleted
            and (row.name, row.price_cents) == (fact.name, fact.price_cents)
        ) and tuple(json.loads(row.barcodes)) == barcodes:
            continue
        upserts.append(Product(fact.sku, fact.name, fact.price_cents, barcodes))
    if not upserts:
        return None
    for chunk in _split(upserts):  # one delta per message-sized run, each its own version
        version += 1
        m.CatalogItem.insert_many([_item(shop, product, version) for product in chunk]).on_conflict(
            conflict_target=[m.CatalogItem.shop, m.CatalogItem.sku],
            preserve=[
                m.CatalogItem.name,
                m.CatalogItem.price_cents,
                m.CatalogItem.barcodes,
                m.CatalogItem.version,
                m.CatalogItem.deleted,
            ],
        ).execute()
        queue_for_boxes(shop, boxes, CatalogDelta(version - 1, version, tuple(chunk)), now)
    set_value(shop, VERSION_KEY, str(version))
    return version


def snapshot(shop: str) -> list[CatalogSnapshotChunk]:
    """The whole catalog at its current version, in chunks that each fit one message."""
    version = max(1, get_int(shop, VERSION_KEY, 0))
    items = list(
        m.CatalogItem.select()
        .where(m.CatalogItem.shop == shop, m.CatalogItem.deleted == False)  # noqa: E712
        .order_by(m.CatalogItem.sku)
    )
    stock = ledger.levels(shop, [item.sku for item in items])
    products = [
        Product(
            item.sku,
            item.name,
            item.price_cents,
            tuple(json.loads(item.barcodes)),
            stock[item.sku].on_hand if item.sku in stock else None,
            item.unit,
        )
        for item in items
    ]
    chunks = list(_split(products)) or [[]]
    return [CatalogSnapshotChunk(version, i, len(chunks), tuple(chunk)) for i, chunk in enumerate(chunks)]


def queue_for_boxes(shop: str, boxes: Iterable[str], msg: Message, now: float | None = None) -> None:
    """Puts one message for each box into the outbox (published in order by the shop's driver)."""
    payload = encode(msg)
    at = time.time() if now is None else now
    rows = [
        {"shop": shop, "box": box, "kind": msg.KIND.value, "payload": payload, "created_at": at}
        for box in boxes
    ]
    if rows:
        m.Outbound.insert_many(rows).execute()


def _item(shop: str, product: Product, version: int) -> dict[str, Any]:
    return {
        "shop": shop,
        "sku": product.sku,
        "name": product.name,
        "price_cents": product.price_cents,
        "barcodes": json.dumps(list(product.barcodes)),
        "unit": product.unit,
        "version": version,
        "deleted": False,
    }


def _split(products: Sequence[Product]) -> Iterable[Sequence[Product]]:
    """Runs of products whose message stays well under the wire's size limit."""
    start = 0
    while start < len(products):
        size = min(CHUNK_PRODUCTS, len(products) - start)
        while size > 1 and _size(products[start : start + size]) > MAX_MESSAGE_BYTES * 3 // 4:
            size //= 2
        yield products[start : start + size]
        start += size


def _size(products: Sequence[Product]) -> int:
    return len(encode(CatalogSnapshotChunk(1, 0, 1, tuple(products)), max_bytes=2**31))
