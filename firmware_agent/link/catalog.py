"""The catalog from the cloud: snapshots that go live whole, deltas that must follow the box's version.

`CatalogSync` is sans-IO: chunks and deltas in, decisions out (`ApplySnapshot`, `ApplyDelta`,
`RequestResync`). Chunks of a snapshot are staged in memory and only a complete set is applied, in one
transaction that replaces the catalog, so a till never sells from half a catalog. Staged chunks are
acknowledged on arrival (the broker would stop sending after its in-flight window otherwise); a box that
restarts with a half-staged snapshot still has its previous catalog and asks again at the next gap.
A catalog's stock never replaces the box's own unacknowledged movements (`_keep_own_movements`).
The functions below them run on the core loop, inside its transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from firmware_agent.labels import note_price_changes
from firmware_agent.store import ProductRecord, Store, catalog, levels
from wire import CatalogDelta, CatalogSnapshotChunk, Product

log = logging.getLogger(__name__)

VERSION_KEY = "catalog_version"


@dataclass(frozen=True)
class ApplySnapshot:
    version: int
    products: tuple[Product, ...]


@dataclass(frozen=True)
class ApplyDelta:
    delta: CatalogDelta


@dataclass(frozen=True)
class RequestResync:
    have_version: int | None
    reason: str  # "boot", "gap", "command"


Decision = ApplySnapshot | ApplyDelta | RequestResync


@dataclass
class _Staging:
    version: int
    chunks: int
    parts: dict[int, tuple[Product, ...]] = field(default_factory=dict)


class CatalogSync:
    """What to do with each catalog message, given the version the box has."""

    def __init__(self, version: int | None, *, resync_every_s: float = 30.0) -> None:
        self.version = version
        self.resync_every_s = resync_every_s
        self.resync_wanted = version is None
        self._staging: _Staging | None = None
        self._requested_at: float | None = None

    def on_connected(self, now: float) -> RequestResync | None:
        """A box without a catalog asks for one whenever it (re)connects."""
        if self.version is None and self._staging is None:
            return self._request("boot", now, force=True)
        return None

    def on_snapshot(self, chunk: CatalogSnapshotChunk) -> ApplySnapshot | None:
        staging = self._staging
        if staging is None or chunk.version > staging.version or chunk.chunks != staging.chunks:
            if staging is not None and chunk.version < staging.version:
                log.info(
                    "catalog chunk of old version %d ignored (staging %d)", chunk.version, staging.version
                )
                return None
            staging = self._staging = _Staging(chunk.version, chunk.chunks)
        elif chunk.version < staging.version:
            return None
        staging.parts[chunk.chunk] = chunk.products
        if len(staging.parts) < staging.chunks:
            return None
        self._staging = None
        if not self._wanted(staging.version):
            log.info("catalog snapshot %d ignored: the box has version %s", staging.version, self.version)
            return None
        products = tuple(p for index in range(staging.chunks) for p in staging.parts[index])
        return ApplySnapshot(staging.version, products)

    def on_delta(self, delta: CatalogDelta, now: float) -> ApplyDelta | RequestResync | None:
        if self.version is not None and delta.version <= self.version:
            return None  # already applied (a redelivery)
        if delta.from_version == self.version:
            return ApplyDelta(delta)
        log.warning(
            "catalog delta %d→%d does not follow this box's version %s: asking for a snapshot",
            delta.from_version,
            delta.version,
            self.version,
        )
        return self._request("gap", now)

    def on_command(self, now: float) -> RequestResync:
        request = self._request("command", now, force=True)
        assert request is not None  # forced requests are always made
        return request

    def applied(self, version: int) -> None:
        self.version = version
        self.resync_wanted = False
        self._requested_at = None

    def _wanted(self, version: int) -> bool:
        return self.resync_wanted or self.version is None or version > self.version

    def _request(self, reason: str, now: float, *, force: bool = False) -> RequestResync | None:
        """Asks at most once per `resync_every_s` (a burst of out-of-order deltas asks once)."""
        self.resync_wanted = True
        if not force and self._requested_at is not None and now - self._requested_at < self.resync_every_s:
            return None
        self._requested_at = now
        return RequestResync(self.version, reason)


# ---- on the core loop ---------------------------------------------------------------------------------


def stored_version(store: Store) -> int | None:
    text = store.setting(VERSION_KEY)
    return int(text) if text else None


def replace_catalog(store: Store, products: Sequence[Product], version: int) -> int:
    """The whole catalog becomes `products`; local stock survives for products the shop does not track,
    local barcodes for products the shop sends without any (many shops keep no barcodes at all), and the
    box's own unit for products whose unit the shop does not say (shops have no notion of "sold by weight"
    unless the bridge is told where they keep it)."""
    note_price_changes(store, products)
    local = catalog.stock_of(store, (p.sku for p in products if p.stock is None), everything=True)
    codes = catalog.barcodes_by_sku(store) if any(not p.barcodes for p in products) else {}
    units = catalog.units_by_weight(store)
    catalog.clear(store)
    count = store.upsert_products(_records(products, local, codes, units))
    _keep_own_movements(store, products)
    store.set_setting(VERSION_KEY, str(version))
    return count


def apply_delta(store: Store, delta: CatalogDelta) -> None:
    note_price_changes(store, delta.upserts)
    catalog.delete_products(store, delta.deletes)
    local = catalog.stock_of(store, (p.sku for p in delta.upserts if p.stock is None))
    store.upsert_products(_records(delta.upserts, local, units=catalog.units_by_weight(store)))
    _keep_own_movements(store, delta.upserts)
    store.set_setting(VERSION_KEY, str(delta.version))


def _keep_own_movements(store: Store, products: Sequence[Product]) -> None:
    """The catalog's stock never wipes out what the box knows better (see store/levels.py): a sku with a
    cloud level shows that level plus the box's later movements; a sku without one gets the box's
    not-yet-acknowledged movements added back to the catalog's number, which cannot contain them yet.
    """
    levels.add_back_unsettled(store, [p.sku for p in products if p.stock is not None])
    levels.refresh_stock(store, [p.sku for p in products])  # those with a level, even one sent before them


def _records(
    products: Iterable[Product],
    local: dict[str, int],
    codes: dict[str, list[str]] | None = None,
    units: dict[str, str] | None = None,
) -> Iterable[tuple[ProductRecord, Sequence[str]]]:
    for p in products:
        stock = p.stock if p.stock is not None else local.get(p.sku, 0)
        barcodes = p.barcodes or (codes or {}).get(p.sku, ())
        unit = p.unit if p.unit is not None else (units or {}).get(p.sku, "each")
        yield ProductRecord(p.sku, p.name, p.price_cents, unit, stock), barcodes
