"""The shop's catalog as the boxes get it: versioned deltas when products change, snapshots on request.

The version is per shop and moves by one per delta, so a box can tell a missed delta (its `from_version`
does not match) and ask for a snapshot. Deltas carry no stock: a price change must not overwrite the
box's own count with a number that may be older than its last sale. Snapshots carry the ledger's on-hand
quantity, since a box asking for one has no trustworthy catalog left.

Each product from a shop is checked on its own before it joins a delta (`accept`): a sku, barcode or name
past the wire's limits, a barcode that is no GTIN or has a wrong check digit, one barcode on two skus, a
negative or unreadable price, an unknown unit. Such a product is parked under `product/<shop id>` with its
reason (the fleet view lists it) and the rest of the catalog goes out; once the shop sends it fixed, it
goes out too and leaves the parked list.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.parking import park, resolve
from cloud_bridge.state import Counter, count, set_count
from wire import (
    MAX_MESSAGE_BYTES,
    QTY_MAX,
    UNITS,
    CatalogDelta,
    CatalogRequest,
    CatalogSnapshotChunk,
    MalformedMessage,
    Message,
    Product,
    encode,
)
from wire.barcodes import catalog_barcode

CHUNK_PRODUCTS: Final = 1000
PARKED_PREFIX: Final = "product/"


@dataclass(frozen=True)
class CatalogFact:
    """What the bridge keeps of one product (a connector's `ShopProduct`, or a test's).

    `ref` is the shop's own id of the item (a parked product is named by it, since its sku may be the
    problem); `problem` is what the connector could not read in it (an unreadable price).
    """

    sku: str
    name: str
    price_cents: int
    barcodes: tuple[str, ...] = ()
    ref: str = ""
    problem: str | None = None
    unit: str | None = None


def accept(shop: str, facts: Sequence[CatalogFact], now: float) -> list[CatalogFact]:
    """The facts that may go to the boxes, barcodes in the catalog's spelling; every other one is parked
    with its reason. Products that pass and were parked before leave the parked list.
    """
    good, bad = judge(shop, facts)
    for fact, problem in bad:
        key = PARKED_PREFIX + (fact.ref or fact.sku)[:200]
        park(shop, key, "product", f"{problem}; not sent to the boxes", now)
    _resolve_fixed(shop, good)
    return good


def judge(shop: str, facts: Sequence[CatalogFact]) -> tuple[list[CatalogFact], list[tuple[CatalogFact, str]]]:
    """The facts that may go to the boxes (barcodes in the catalog's spelling), and the others with why."""
    taken = _barcode_owners(shop, {f.sku for f in facts}) if any(f.barcodes for f in facts) else {}
    good: list[CatalogFact] = []
    bad: list[tuple[CatalogFact, str]] = []
    for fact in facts:
        try:
            fact = _checked(fact, taken)
        except MalformedMessage as exc:
            bad.append((fact, f"sku {show_sku(fact.sku)}: {exc}"))
            continue
        taken.update(dict.fromkeys(fact.barcodes, fact.sku))
        good.append(fact)
    return good, bad


def changes(shop: str, facts: Sequence[CatalogFact]) -> dict[str, str]:
    """sku → "new", "changed" or "same" against the shop's catalog (for a dry run's preview)."""
    rows = {row.sku: row for row in m.CatalogItem.select().where(m.CatalogItem.shop == shop)}
    verdicts: dict[str, str] = {}
    for fact in facts:
        row = rows.get(fact.sku)
        same = (
            row is not None
            and not row.deleted
            and (row.name, row.price_cents, row.unit)
            == (
                fact.name,
                fact.price_cents,
                fact.unit or "each",
            )
        )
        verdicts[fact.sku] = "new" if row is None else "same" if same else "changed"
    return verdicts


def _checked(fact: CatalogFact, taken: dict[str, str]) -> CatalogFact:
    if fact.problem:
        raise MalformedMessage("", fact.problem)
    if fact.unit is not None and fact.unit not in UNITS:
        raise MalformedMessage("unit", f"{fact.unit[:20]!r} is not one of {', '.join(sorted(UNITS))}")
    codes = tuple(dict.fromkeys(catalog_barcode(code) for code in fact.barcodes))
    for code in codes:
        owner = taken.get(code)
        if owner is not None and owner != fact.sku:
            raise MalformedMessage("barcode", f"{code} belongs to sku {show_sku(owner)} already")
    checked = CatalogFact(fact.sku, fact.name, fact.price_cents, codes, fact.ref, None, fact.unit)
    try:
        encode(CatalogDelta(0, 1, (_product(checked),)))
    except MalformedMessage as exc:
        raise MalformedMessage(exc.path.removeprefix("catalog.upserts[0]."), exc.problem) from exc
    return checked


def show_sku(sku: str) -> str:
    """A sku for a message: quoted, and clipped when it is the problem (a 5,000-character sku)."""
    return repr(sku if len(sku) <= 64 else sku[:64] + "…")


def _barcode_owners(shop: str, changing: set[str]) -> dict[str, str]:
    """barcode → sku in the shop's current catalog, leaving out skus about to change (theirs may move)."""
    query = m.CatalogItem.select(m.CatalogItem.sku, m.CatalogItem.barcodes).where(
        m.CatalogItem.shop == shop,
        m.CatalogItem.deleted == False,  # noqa: E712
        m.CatalogItem.barcodes != "[]",
    )
    return {code: sku for sku, codes in query.tuples() if sku not in changing for code in json.loads(codes)}


def _resolve_fixed(shop: str, good: Sequence[CatalogFact]) -> None:
    query = m.Parked.select(m.Parked.key).where(
        m.Parked.shop == shop,
        m.Parked.resolved == False,  # noqa: E712
        m.Parked.key.startswith(PARKED_PREFIX),
    )
    parked = {row.key for row in query}
    for fact in good if parked else ():
        for key in {PARKED_PREFIX + fact.ref[:200], PARKED_PREFIX + fact.sku[:200]} & parked:
            resolve(shop, key)


def apply_products(shop: str, facts: Iterable[CatalogFact], boxes: Sequence[str], now: float) -> int | None:
    """Records changed products; if any changed, queues deltas for every box and returns the new version."""
    version = count(shop, Counter.CATALOG_VERSION)
    upserts: list[Product] = []
    for fact in facts:
        row = m.CatalogItem.get_or_none(m.CatalogItem.shop == shop, m.CatalogItem.sku == fact.sku)
        barcodes = fact.barcodes or (tuple(json.loads(row.barcodes)) if row is not None else ())
        if (
            row is not None
            and not row.deleted
            and (row.name, row.price_cents, row.unit) == (fact.name, fact.price_cents, fact.unit or "each")
        ) and tuple(json.loads(row.barcodes)) == barcodes:
            continue
        upserts.append(_product(CatalogFact(fact.sku, fact.name, fact.price_cents, barcodes, unit=fact.unit)))
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
                m.CatalogItem.unit,
                m.CatalogItem.version,
                m.CatalogItem.deleted,
            ],
        ).execute()
        queue_for_boxes(shop, boxes, CatalogDelta(version - 1, version, tuple(chunk)), now)
    set_count(shop, Counter.CATALOG_VERSION, version)
    return version


def snapshot(shop: str) -> list[CatalogSnapshotChunk]:
    """The whole catalog at its current version, in chunks that each fit one message."""
    version = max(1, count(shop, Counter.CATALOG_VERSION))
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
            None if item.unit == "each" else item.unit,  # "each" is also what a shop that says nothing gets
        )
        for item in items
    ]
    chunks = list(_split(products)) or [[]]
    return [CatalogSnapshotChunk(version, i, len(chunks), tuple(chunk)) for i, chunk in enumerate(chunks)]


def queue_snapshot(shop: str, boxes: Iterable[str], now: float) -> None:
    """The whole catalog for `boxes`: to a box that asked, and to every box once the shop is first learned
    (a box that asked before then was not answered, since an empty snapshot would have claimed a version).
    """
    for chunk in snapshot(shop):
        queue_for_boxes(shop, boxes, chunk, now)


def answer_requests(shop: str, requests: Mapping[str, CatalogRequest], now: float) -> None:
    """One snapshot built for every box that asked: a box staging this very version that names the chunks
    it misses gets only those (a box resuming after a restart or a broker drop); any other, all of them.
    The chunks of one version are cut the same way every time (`_split` ignores stock), so chunk 7 sent
    now holds the same skus as chunk 7 sent before.
    """
    chunks = snapshot(shop)
    everything = [box for box, request in sorted(requests.items()) if not _resumes(request, chunks)]
    for chunk in chunks:
        boxes = everything + [
            box
            for box, request in sorted(requests.items())
            if _resumes(request, chunks) and chunk.chunk in request.missing
        ]
        queue_for_boxes(shop, boxes, chunk, now)


def _resumes(request: CatalogRequest, chunks: Sequence[CatalogSnapshotChunk]) -> bool:
    return (
        bool(request.missing)
        and request.version == chunks[0].version
        and all(index < chunks[0].chunks for index in request.missing)
    )


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


def _product(fact: CatalogFact) -> Product:
    return Product(fact.sku, fact.name, fact.price_cents, fact.barcodes, unit=fact.unit)


def _item(shop: str, product: Product, version: int) -> dict[str, Any]:
    return {
        "shop": shop,
        "sku": product.sku,
        "name": product.name,
        "price_cents": product.price_cents,
        "barcodes": json.dumps(list(product.barcodes)),
        "unit": product.unit or "each",
        "version": version,
        "deleted": False,
    }


def _split(products: Sequence[Product]) -> Iterable[Sequence[Product]]:
    """Runs of products whose message stays well under the wire's size limit. Sized as if every stock
    were the widest number there is, so the cut depends on the products, not on their stock of the moment."""
    start = 0
    while start < len(products):
        size = min(CHUNK_PRODUCTS, len(products) - start)
        while size > 1 and _size(products[start : start + size]) > MAX_MESSAGE_BYTES * 3 // 4:
            size //= 2
        yield products[start : start + size]
        start += size


def _size(products: Sequence[Product]) -> int:
    widest = tuple(replace(product, stock=-QTY_MAX) for product in products)
    return len(encode(CatalogSnapshotChunk(1, 0, 1, widest), max_bytes=2**31))
