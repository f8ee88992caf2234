"""The fleet registry: what each box last said about itself (`state`, `telemetry`), for the fleet view.

Every worker receives every retained `state` (that subscription is not shared), so these writes are
idempotent upserts. A Last Will is paired with its birth by the boot counter: a late Will from an earlier
boot does not mark a box that has already come back as offline.
"""

from __future__ import annotations

import json
from typing import Any

from cloud_bridge import models as m
from wire import State, Telemetry


def on_state(shop: str, box: str, state: State, now: float) -> None:
    row = _row(shop, box)
    if state.online:
        row.online, row.boot, row.version = True, state.boot, state.version
        row.config_hash, row.state_ts = state.config_hash, state.ts
    elif state.boot is None or row.boot is None or state.boot >= row.boot:
        row.online = False
        row.state_ts = state.ts or row.state_ts
    row.seen_at = now
    row.save()


def on_telemetry(shop: str, box: str, telemetry: Telemetry, now: float) -> None:
    row = _row(shop, box)
    row.telemetry = json.dumps(telemetry.to_json(), ensure_ascii=False)
    row.telemetry_at = now
    row.seen_at = now
    row.save()


def _row(shop: str, box: str) -> Any:
    m.Box.insert(shop=shop, box=box).on_conflict_ignore().execute()
    return m.Box.get(m.Box.shop == shop, m.Box.box == box)
