"""A catalog snapshot staged chunk by chunk beside the live catalog, then switched in whole.

A 50,000-product snapshot arrives as some fifty messages. Each chunk is written here as it arrives (one
transaction, acknowledged to the broker only after its commit), so the box never holds the snapshot in
memory and a restart or a broker drop mid-stream resumes where it was: what is staged stays staged, and the
link asks for the chunks still missing. The live catalog (`product`, `barcode`) stays as it is for the
scans until the last chunk is in; then one transaction replaces it with the staged one, in SQL, and empties
the stage. A newer snapshot, or the same version cut differently, starts the stage afresh.

Every function runs on the core loop inside its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from firmware_agent.store import levels
from firmware_agent.store.database import Store
from wire import Product


@dataclass(frozen=True)
class Staged:
    """The snapshot being staged: its version, how many chunks it has and which of them are in."""

    version: int
    chunks: int
    have: frozenset[int]

    @property
    def missing(self) -> list[int]:
        return [index for index in range(self.chunks) if index not in self.have]

    @property
    def complete(self) -> bool:
        return len(self.have) >= self.chunks


def staged(store: Store) -> Staged | None:
    rows = store.sql("SELECT version, chunks, chunk FROM catalog_stage_chunk").fetchall()
    if not rows:
        return None
    version, chunks = rows[0][0], rows[0][1]
    return Staged(version, chunks, frozenset(chunk for v, n, chunk in rows if (v, n) == (version, chunks)))


def clear(store: Store) -> None:
    store.sql("DELETE FROM catalog_stage")
    store.sql("DELETE FROM catalog_stage_chunk")


def stage(
    store: Store, version: int, chunks: int, chunk: int, products: Sequence[Product], *, fresh: bool
) -> None:
    """Chunk `chunk` of `chunks` of snapshot `version`; `fresh` empties the stage first."""
    if fresh:
        clear(store)
    store.sql_many(
        "INSERT OR REPLACE INTO catalog_stage (sku, name, price_cents, barcodes, stock, unit) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(p.sku, p.name, p.price_cents, json.dumps(list(p.barcodes)), p.stock, p.unit) for p in products],
    )
    store.sql(
        "INSERT OR REPLACE INTO catalog_stage_chunk (chunk, version, chunks) VALUES (?, ?, ?)",
        (chunk, version, chunks),
    )


def repriced(store: Store, pending: Sequence[str] = (), batch: int = 500) -> Iterator[list[Product]]:
    """Staged products whose price differs from the live one, and those among `pending` (skus with a shelf
    label waiting): the only ones the label list needs to see. In lists of at most `batch`, read as they
    are needed: a snapshot that changes every price never has 50,000 products in memory at once."""
    wanted = set(pending)
    rows = store.sql(
        "SELECT s.sku, s.name, s.price_cents, s.barcodes, p.price_cents FROM catalog_stage s "
        "JOIN product p ON p.sku = s.sku"
    )
    while part := rows.fetchmany(batch * 4):
        changed = [
            Product(sku, name, price, tuple(json.loads(codes)))
            for sku, name, price, codes, live in part
            if price != live or sku in wanted
        ]
        for start in range(0, len(changed), batch):
            yield changed[start : start + batch]


def switch(store: Store) -> int:
    """The staged snapshot becomes the catalog; returns how many products it has.

    What the shop does not say, the box keeps: local stock for a product staged without stock, local
    barcodes for one staged without any (many shops keep none), the box's unit for one staged without a
    unit. The box's own unacknowledged movements are added back to the snapshot's stock (store/levels.py).
    """
    sql = store.sql
    sql("DELETE FROM product WHERE sku NOT IN (SELECT sku FROM catalog_stage)")  # barcodes cascade
    sql(
        "UPDATE product SET name = s.name, price_cents = s.price_cents, "
        "unit = COALESCE(s.unit, product.unit), stock = COALESCE(s.stock, product.stock) "
        "FROM catalog_stage s WHERE s.sku = product.sku"
    )
    sql(
        "INSERT INTO product (sku, name, price_cents, unit, stock) "
        "SELECT sku, name, price_cents, COALESCE(unit, 'each'), COALESCE(stock, 0) FROM catalog_stage "
        "WHERE sku NOT IN (SELECT sku FROM product)"
    )
    sql("DELETE FROM barcode WHERE sku IN (SELECT sku FROM catalog_stage WHERE barcodes != '[]')")
    sql(
        "INSERT OR REPLACE INTO barcode (code, sku) "
        "SELECT j.value, s.sku FROM catalog_stage s, json_each(s.barcodes) j WHERE s.barcodes != '[]'"
    )
    levels.add_back_unsettled_selected(store, "SELECT sku FROM catalog_stage WHERE stock IS NOT NULL")
    levels.refresh_stock(store)  # every sku with a level: the whole catalog is new
    count = int(sql("SELECT COUNT(*) FROM catalog_stage").fetchone()[0])
    clear(store)
    return count
