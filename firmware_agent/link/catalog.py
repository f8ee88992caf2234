"""The catalog from the cloud: snapshots staged as they stream in and switched in whole, deltas that must
follow the box's version.

`CatalogSync` is sans-IO: chunks and deltas in, decisions out (`StageChunk`, `ApplyDelta`, `RequestResync`).
Each chunk of a snapshot is written to the store's stage as it arrives (store/catalog_stage.py) and
acknowledged to the broker after that commit, so the box holds one chunk in memory, never the snapshot.
The chunk that completes the set also switches the staged snapshot in, in the same transaction: a till
never sells from half a catalog, and until then it sells from the old one. A restart or a broker drop
mid-stream loses nothing staged; when no chunk has come for `missing_after_s` while some are missing, the
box asks for exactly those (`CatalogRequest` with `version` and `missing`). A catalog's stock never replaces
the box's own unacknowledged movements (store/levels.py). The functions below `CatalogSync` run on the core
loop, inside its transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from firmware_agent.labels import note_price_changes, pending
from firmware_agent.store import ProductRecord, Store, catalog, catalog_stage, levels
from firmware_agent.store.catalog_stage import Staged
from wire import CatalogDelta, CatalogSnapshotChunk, Product
from wire.catalog import MAX_MISSING

log = logging.getLogger(__name__)

VERSION_KEY = "catalog_version"


@dataclass(frozen=True)
class StageChunk:
    """Write `chunk` to the stage (emptied first when `fresh`); `completes`: then switch the snapshot in."""

    chunk: CatalogSnapshotChunk
    fresh: bool
    completes: bool


@dataclass(frozen=True)
class ApplyDelta:
    delta: CatalogDelta


@dataclass(frozen=True)
class RequestResync:
    have_version: int | None
    reason: str  # "boot", "gap", "command", "missing"
    version: int | None = None  # with "missing": the snapshot being staged
    missing: tuple[int, ...] = ()


Decision = StageChunk | ApplyDelta | RequestResync


@dataclass
class _Staging:
    version: int
    chunks: int
    have: set[int] = field(default_factory=set)


class CatalogSync:
    """What to do with each catalog message, given the version the box has and the snapshot it stages."""

    def __init__(
        self,
        version: int | None,
        staged: Staged | None = None,
        *,
        resync_every_s: float = 30.0,
        missing_after_s: float = 10.0,
    ) -> None:
        self.version = version
        self.resync_every_s = resync_every_s
        self.missing_after_s = missing_after_s
        self.resync_wanted = version is None
        self._staging = _Staging(staged.version, staged.chunks, set(staged.have)) if staged else None
        self._requested_at: float | None = None
        self._progress_at: float | None = None  # the last chunk staged (or the connection that may bring one)

    @property
    def staging(self) -> tuple[int, int, int] | None:
        """(version, chunks staged, chunks) of the snapshot being staged, for status and logs."""
        s = self._staging
        return None if s is None else (s.version, len(s.have), s.chunks)

    def on_connected(self, now: float) -> RequestResync | None:
        """A box without a catalog asks for one whenever it (re)connects; one staging a snapshot gives the
        broker's queue `missing_after_s` to bring the rest before asking for what is missing."""
        self._progress_at = now
        if self.version is None and self._staging is None:
            return self._request("boot", now, force=True)
        return None

    def on_snapshot(self, chunk: CatalogSnapshotChunk, now: float = 0.0) -> StageChunk | None:
        staging = self._staging
        if staging is not None and chunk.version < staging.version:
            log.info("catalog chunk of old version %d ignored (staging %d)", chunk.version, staging.version)
            return None
        if staging is None and not self._wanted(chunk.version):
            log.info("catalog snapshot %d ignored: the box has version %s", chunk.version, self.version)
            return None
        fresh = staging is None or chunk.version > staging.version or chunk.chunks != staging.chunks
        have = set() if fresh or staging is None else staging.have
        self._progress_at = now
        return StageChunk(chunk, fresh, len(have | {chunk.chunk}) >= chunk.chunks)

    def staged(self, decision: StageChunk) -> None:
        """The stage committed `decision`; a completing one has switched the snapshot in."""
        chunk = decision.chunk
        if decision.fresh or self._staging is None:
            self._staging = _Staging(chunk.version, chunk.chunks)
        self._staging.have.add(chunk.chunk)
        if decision.completes:
            self._staging = None
            self.applied(chunk.version)

    def tick(self, now: float) -> RequestResync | None:
        """Asks for the chunks still missing once none has come for `missing_after_s`."""
        staging = self._staging
        if staging is None or self._progress_at is None or now - self._progress_at < self.missing_after_s:
            return None
        missing = tuple(index for index in range(staging.chunks) if index not in staging.have)
        self._progress_at = now  # the next ask, if still needed, after as long again
        if len(missing) > MAX_MISSING:  # more than one request may name: the whole snapshot again
            return RequestResync(self.version, "missing")
        return RequestResync(self.version, "missing", staging.version, missing)

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


def stage_chunk(store: Store, decision: StageChunk) -> int | None:
    """Stages the chunk; the one that completes the snapshot switches it in: returns its product count."""
    chunk = decision.chunk
    catalog_stage.stage(store, chunk.version, chunk.chunks, chunk.chunk, chunk.products, fresh=decision.fresh)
    if not decision.completes:
        return None
    return switch_staged(store, chunk.version)


def switch_staged(store: Store, version: int) -> int:
    """The staged snapshot replaces the catalog, as version `version`; price changes become shelf labels."""
    for changed in catalog_stage.repriced(store, list(pending(store)), catalog.SCAN_PAST):
        note_price_changes(store, changed)  # a few hundred lookups each, never the whole table at once
    count = catalog_stage.switch(store)
    store.set_setting(VERSION_KEY, str(version))
    return count


def replace_catalog(store: Store, products: Sequence[Product], version: int) -> int:
    """The whole catalog becomes `products` at once (a snapshot that is already whole: tests, tools): one
    chunk staged, then switched in like any streamed snapshot."""
    catalog_stage.stage(store, version, 1, 0, products, fresh=True)
    return switch_staged(store, version)


def apply_delta(store: Store, delta: CatalogDelta) -> None:
    note_price_changes(store, delta.upserts)
    catalog.delete_products(store, delta.deletes)
    local = catalog.stock_of(store, (p.sku for p in delta.upserts if p.stock is None))
    store.upsert_products(_records(delta.upserts, local, catalog.units_by_weight(store)))
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
    products: Iterable[Product], local: dict[str, int], units: dict[str, str]
) -> Iterable[tuple[ProductRecord, Sequence[str]]]:
    """A product without barcodes keeps the ones the box has (`Store.upsert_products`)."""
    for p in products:
        stock = p.stock if p.stock is not None else local.get(p.sku, 0)
        unit = p.unit if p.unit is not None else units.get(p.sku, "each")
        yield ProductRecord(p.sku, p.name, p.price_cents, unit, stock), p.barcodes
