"""`catalog`: snapshots and deltas from the cloud, applied as the sans-IO `CatalogSync` decides
(link/catalog.py)."""

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

CATALOG_TIMEOUT_S: Final = 300.0  # a 50,000-product snapshot on an SD card


class CatalogSide(CoreCalls, Protocol):
    @property
    def catalog(self) -> cat.CatalogSync: ...

    def clock(self) -> float: ...

    def request_catalog(self, request: cat.RequestResync) -> None: ...


def on_catalog(link: CatalogSide, msg: Received) -> None:
    message = decoded(Kind.CATALOG, msg)
    if isinstance(message, CatalogSnapshotChunk):
        decision: cat.Decision | None = link.catalog.on_snapshot(message)
    elif isinstance(message, CatalogDelta):
        decision = link.catalog.on_delta(message, link.clock())
    else:
        return
    if isinstance(decision, cat.RequestResync):
        link.request_catalog(decision)
    elif decision is not None:
        apply(link, decision)


def apply(link: CatalogSide, decision: cat.ApplySnapshot | cat.ApplyDelta) -> None:
    started = time.perf_counter()
    try:
        if isinstance(decision, cat.ApplySnapshot):
            version = decision.version
            count = link.call(lambda s: cat.replace_catalog(s, decision.products, version), CATALOG_TIMEOUT_S)
        else:
            version, count = (
                decision.delta.version,
                len(decision.delta.upserts) + len(decision.delta.deletes),
            )
            link.call(lambda s: cat.apply_delta(s, decision.delta), CATALOG_TIMEOUT_S)
    except (AgentError, TimeoutError) as exc:
        log.error("catalog could not be applied (%s): asking for a snapshot", exc)
        link.catalog.resync_wanted = True
        link.request_catalog(cat.RequestResync(link.catalog.version, "gap"))
        return
    link.catalog.applied(version)
    log.info("catalog version %d live: %d products in %.2f s", version, count, time.perf_counter() - started)
