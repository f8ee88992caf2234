"""`catalog`: snapshot chunks staged as they stream in and deltas applied, as the sans-IO `CatalogSync`
decides (link/catalog.py)."""

from __future__ import annotations

import logging
import time
from typing import Final, Protocol

from firmware_agent.errors import AgentError
from firmware_agent.link import catalog as cat
from firmware_agent.link.events import Received
from firmware_agent.link.inbound.common import CoreCalls, decoded
from wire import CatalogDelta, CatalogSnapshotChunk, Kind

log = logging.getLogger(__name__)

CATALOG_TIMEOUT_S: Final = 300.0  # the switch to a 50,000-product snapshot on an SD card
CHUNK_TIMEOUT_S: Final = 30.0  # one chunk staged


class CatalogSide(CoreCalls, Protocol):
    @property
    def catalog(self) -> cat.CatalogSync: ...

    def clock(self) -> float: ...

    def request_catalog(self, request: cat.RequestResync) -> None: ...


def on_catalog(link: CatalogSide, msg: Received) -> None:
    message = decoded(Kind.CATALOG, msg)
    if isinstance(message, CatalogSnapshotChunk):
        decision: cat.Decision | None = link.catalog.on_snapshot(message, link.clock())
    elif isinstance(message, CatalogDelta):
        decision = link.catalog.on_delta(message, link.clock())
    else:
        return
    if isinstance(decision, cat.RequestResync):
        link.request_catalog(decision)
    elif isinstance(decision, cat.StageChunk):
        stage(link, decision)
    elif decision is not None:
        apply_delta(link, decision)


def stage(link: CatalogSide, decision: cat.StageChunk) -> None:
    """Stages one chunk (and switches a complete snapshot in). A failure raises: the message stays
    unacknowledged and comes again (the dispatcher's retries), nothing staged is lost."""
    started = time.perf_counter()
    chunk = decision.chunk
    timeout = CATALOG_TIMEOUT_S if decision.completes else CHUNK_TIMEOUT_S
    count = link.call(lambda s: cat.stage_chunk(s, decision), timeout)
    link.catalog.staged(decision)
    if count is None:
        log.debug("catalog %d: chunk %d of %d staged", chunk.version, chunk.chunk + 1, chunk.chunks)
        return
    log.info(
        "catalog version %d live: %d products (the last chunk and the switch took %.2f s)",
        chunk.version,
        count,
        time.perf_counter() - started,
    )


def apply_delta(link: CatalogSide, decision: cat.ApplyDelta) -> None:
    started = time.perf_counter()
    delta = decision.delta
    try:
        link.call(lambda s: cat.apply_delta(s, delta), CATALOG_TIMEOUT_S)
    except (AgentError, TimeoutError) as exc:
        log.error("catalog could not be applied (%s): asking for a snapshot", exc)
        link.catalog.resync_wanted = True
        link.request_catalog(cat.RequestResync(link.catalog.version, "gap"))
        return
    link.catalog.applied(delta.version)
    count = len(delta.upserts) + len(delta.deletes)
    log.info(
        "catalog version %d live: %d changes in %.2f s", delta.version, count, time.perf_counter() - started
    )
