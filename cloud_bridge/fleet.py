"""The fleet registry: what each box last said about itself (`state`, `telemetry`), for the fleet view.

Every worker receives every retained `state` (that subscription is not shared), so these writes are
idempotent. A birth names the epoch of the box's store: a stream the bridge has not seen becomes the box's
current journal stream (`streams.announce`, under the box's lock), and the one it replaces is reported.
They touch only the fleet's columns of the box row: the journal position in the same row is
being moved by whichever worker applies that box's journal. A Last Will is paired with its birth by the boot
counter: a late Will from an earlier boot does not mark a box that has already come back as offline.
"""

from __future__ import annotations

import json
from typing import Any

from cloud_bridge import models as m
from cloud_bridge.streams import announce
from wire import State, Telemetry


def on_state(shop: str, box: str, state: State, now: float) -> bool:
    """Records a birth or a Will; True for a birth that brings the box back (first seen, after its Will,
    or a new boot), which then gets every level it may have missed. One worker only gets True for it: the
    update that flips the row is the test.
    """
    row = _box(shop, box)
    back = False
    if state.online:
        away = m.Box.online.is_null() | (m.Box.online == False) | m.Box.boot.is_null()  # noqa: E712
        back = bool(
            m.Box.update({m.Box.online: True, m.Box.boot: state.boot})
            .where(row & (away | (m.Box.boot != state.boot)))
            .execute()
        )
        changes = {
            m.Box.online: True,
            m.Box.boot: state.boot,
            m.Box.version: state.version,
            m.Box.config_hash: state.config_hash,
            m.Box.state_ts: state.ts,
        }
        m.Box.update(changes).where(row).execute()
        announce(shop, box, state.epoch, now)
    elif state.boot is None:
        m.Box.update({m.Box.online: False}).where(row).execute()
    else:  # a Will from an earlier boot than the last birth is stale
        current = m.Box.boot.is_null() | (m.Box.boot <= state.boot)
        m.Box.update({m.Box.online: False}).where(row & current).execute()
    m.Box.update({m.Box.seen_at: now}).where(row).execute()
    return back


def on_telemetry(shop: str, box: str, telemetry: Telemetry, now: float) -> None:
    payload = json.dumps(telemetry.to_json(), ensure_ascii=False)
    changes = {m.Box.telemetry: payload, m.Box.telemetry_at: now, m.Box.seen_at: now}
    m.Box.update(changes).where(_box(shop, box)).execute()


def _box(shop: str, box: str) -> Any:
    m.Box.insert(shop=shop, box=box).on_conflict_ignore().execute()
    return (m.Box.shop == shop) & (m.Box.box == box)
