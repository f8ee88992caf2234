"""The catalog, cloud → box as versioned snapshots and deltas, and the box's request for a resync.

Both catalog messages share the `catalog` topic and are told apart by `"type"`. A box applies a delta only
on top of `from_version`; anything else (a gap, a corrupt store, a first boot) makes it send a
`CatalogRequest` on `catalog/request`, and the cloud answers with a full snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from wire._fields import (
    Obj,
    as_choice,
    as_count,
    as_id,
    as_int,
    as_str,
    as_tuple,
    compact,
    nested,
    no_duplicates,
    opt,
    req,
)
from wire.errors import MalformedMessage
from wire.topics import Kind

UNITS: Final = frozenset({"each", "kg", "l", "m"})
BASE_UNITS: Final = {"each": "", "kg": "g", "l": "ml", "m": "mm"}  # what `stock` and a journal delta count
MAX_PRODUCTS: Final = 20_000  # per message; the byte limit usually binds first
MAX_BARCODES: Final = 32
MAX_CHUNKS: Final = 100_000  # chunks of one snapshot
MAX_MISSING: Final = 1_000  # chunk numbers one request may name; a box missing more asks for them all


@dataclass(frozen=True, slots=True)
class Product:
    """A sellable item. Sold by measure, `price_cents` is per kilogram, litre or metre (`unit` "kg", "l",
    "m") and `stock` counts grams, millilitres or millimetres (`BASE_UNITS`).

    `stock` None means the shop does not track stock for it. `unit` None means the shop does not say how it
    is sold: the box keeps its own unit for it ("each" for a product it does not know).
    """

    sku: str
    name: str
    price_cents: int
    barcodes: tuple[str, ...] = ()
    stock: int | None = None
    unit: str | None = None

    @classmethod
    def from_json(cls, obj: Obj) -> Product:
        return cls(
            sku=req(obj, "sku", as_id),
            name=req(obj, "name", as_str),
            price_cents=req(obj, "price_cents", as_count),
            barcodes=opt(obj, "barcodes", as_tuple, item=as_id, max_items=MAX_BARCODES) or (),
            stock=opt(obj, "stock", as_int),
            unit=opt(obj, "unit", as_choice, choices=UNITS),
        )

    def to_json(self) -> Obj:
        return compact(
            {
                "sku": self.sku,
                "name": self.name,
                "price_cents": self.price_cents,
                "barcodes": list(self.barcodes),
                "stock": self.stock,
                "unit": self.unit,
            }
        )


_PRODUCT: Final = nested(Product.from_json)


@dataclass(frozen=True, slots=True)
class CatalogSnapshotChunk:
    """Chunk `chunk` (0-based) of `chunks` of the full catalog at `version`; the box swaps it in whole."""

    KIND: ClassVar[Kind] = Kind.CATALOG
    TYPE: ClassVar[str] = "snapshot"

    version: int
    chunk: int
    chunks: int
    products: tuple[Product, ...]

    @classmethod
    def from_json(cls, obj: Obj) -> CatalogSnapshotChunk:
        version = req(obj, "version", as_int, lo=1)
        chunks = req(obj, "chunks", as_int, lo=1, hi=MAX_CHUNKS)
        chunk = req(obj, "chunk", as_int, lo=0, hi=chunks - 1)
        products = req(obj, "products", as_tuple, item=_PRODUCT, max_items=MAX_PRODUCTS)
        no_duplicates("products", [product.sku for product in products])
        return cls(version, chunk, chunks, products)

    def to_json(self) -> Obj:
        return {
            "type": self.TYPE,
            "version": self.version,
            "chunk": self.chunk,
            "chunks": self.chunks,
            "products": [product.to_json() for product in self.products],
        }


@dataclass(frozen=True, slots=True)
class CatalogDelta:
    """Turns catalog `from_version` into `version`: upsert these products, delete these skus."""

    KIND: ClassVar[Kind] = Kind.CATALOG
    TYPE: ClassVar[str] = "delta"

    from_version: int
    version: int
    upserts: tuple[Product, ...] = ()
    deletes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: Obj) -> CatalogDelta:
        from_version = req(obj, "from_version", as_count)
        if from_version == 2**63 - 1:
            raise MalformedMessage("from_version", "no version can follow it")
        version = req(obj, "version", as_int, lo=from_version + 1)
        upserts = opt(obj, "upserts", as_tuple, item=_PRODUCT, max_items=MAX_PRODUCTS) or ()
        deletes = opt(obj, "deletes", as_tuple, item=as_id, max_items=MAX_PRODUCTS) or ()
        skus = [product.sku for product in upserts]
        no_duplicates("upserts", skus)
        no_duplicates("deletes", skus + list(deletes), " (in upserts and deletes together)")
        return cls(from_version, version, upserts, deletes)

    def to_json(self) -> Obj:
        return {
            "type": self.TYPE,
            "from_version": self.from_version,
            "version": self.version,
            "upserts": [product.to_json() for product in self.upserts],
            "deletes": list(self.deletes),
        }


@dataclass(frozen=True, slots=True)
class CatalogRequest:
    """The box asks for a full snapshot; `have_version` None means it has no usable catalog at all.

    `reason` is for the fleet view: `boot`, `gap` (a delta did not follow the box's version), `corrupt`,
    `command` (support asked for `catalog.resync`), `missing` (a snapshot the box is staging lacks chunks).
    With `missing`, `version` names the snapshot being staged and `missing` its chunks that never came: a
    bridge whose catalog is still at that version sends only those; any other bridge (one older than these
    fields ignores them) sends the whole snapshot of its current version, which the box stages afresh.
    """

    KIND: ClassVar[Kind] = Kind.CATALOG_REQUEST

    have_version: int | None
    reason: str
    version: int | None = None
    missing: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, obj: Obj) -> CatalogRequest:
        version = opt(obj, "version", as_int, lo=1)
        missing = opt(obj, "missing", as_tuple, item=_chunk_number, max_items=MAX_MISSING) or ()
        if missing and version is None:
            raise MalformedMessage("missing", "names chunks without the snapshot's `version`")
        if len(set(missing)) != len(missing):
            raise MalformedMessage("missing", "names a chunk more than once")
        return cls(opt(obj, "have_version", as_count), req(obj, "reason", as_id), version, missing)

    def to_json(self) -> Obj:
        return compact(
            {
                "have_version": self.have_version,
                "reason": self.reason,
                "version": self.version,
                "missing": list(self.missing) or None,
            }
        )


def _chunk_number(value: Any, path: str) -> int:
    return as_int(value, path, lo=0, hi=MAX_CHUNKS - 1)
