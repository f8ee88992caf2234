"""Many boxes' births in a handful of statements: what a fleet coming online at once costs the bridge.

A birth applied alone is about fifteen statements: its box row, its stream, its presence, its orders. A
thousand boxes coming online together (after a broker restart, or a fleet starting against a new bridge)
send a thousand births in their first seconds, and every worker applies every birth (that subscription is
not shared). At about 36 ms a birth, the journal batches queued behind them were acked a minute late.
Here the births of a group are applied together: their boxes read in three statements, written in three.

Nearly every birth is one of two kinds, and only those take this path: a box whose stream for the epoch it
names is already its current one (a box coming back), and a box the bridge knows nothing of (its first
stream is recorded). A Will, a box's next store, or a box with a position from before streams is applied
by `fleet.on_state` and `delivery.sync_presence`, one at a time, the one set of rules. Both paths leave the
same rows; a property test compares them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from cloud_bridge import delivery, fleet
from cloud_bridge import models as m
from cloud_bridge.sqlrows import chunks, values
from cloud_bridge.streams import stream_key
from wire import State

log = logging.getLogger(__name__)

_Box = tuple[str, str]  # shop, box


@dataclass(frozen=True)
class Birth:
    """A listed box's `state` message: its birth or its Will."""

    shop: str
    box: str
    state: State


@dataclass(frozen=True)
class Presence:
    """What a `Birth` changed: `back`, the box gets every level; `returned`, the orders waiting go out."""

    back: bool
    returned: bool


@dataclass
class _Known:
    """What the database holds of a box before its birth."""

    online: bool | None = None
    boot: int | None = None
    last_seq: int = 0
    streams: dict[str, bool] = field(default_factory=dict)  # epoch key → current
    present: bool | None = None  # its presence row's online flag; None: no row


def apply_births(births: Sequence[Birth], now: float) -> list[Presence]:
    """Applies births and Wills of distinct boxes, in the caller's transaction holding their locks; one
    `Presence` each, in order.
    """
    boxes = [(birth.shop, birth.box) for birth in births]
    assert len(set(boxes)) == len(boxes), "one birth per box: a box's second one must see its first"
    known = _read(boxes)
    out: dict[int, Presence] = {}
    plain: list[tuple[Birth, _Known | None]] = []
    for n, birth in enumerate(births):
        box = known.get((birth.shop, birth.box))
        if _plain(birth, box):
            plain.append((birth, box))
            back = box is None or box.online is not True or box.boot is None or box.boot != birth.state.boot
            out[n] = Presence(back, box is None or box.present is not True)
        else:
            out[n] = _alone(birth, now)
    _write(plain, now)
    return [out[n] for n in range(len(births))]


def _alone(birth: Birth, now: float) -> Presence:
    """A birth or Will by the rules for one box (`fleet.on_state`, then `delivery.sync_presence`)."""
    back = fleet.on_state(birth.shop, birth.box, birth.state, now)
    returned = delivery.sync_presence(birth.shop, birth.box, now)
    return Presence(back, returned)


def _plain(birth: Birth, box: _Known | None) -> bool:
    """An online box that names no store, or names its current one, or is new to the bridge."""
    if not birth.state.online:
        return False
    if birth.state.epoch is None or box is None:
        return True
    if box.streams:
        return box.streams.get(stream_key(birth.state.epoch)) is True
    return box.last_seq == 0  # a position from before streams is adopted by `streams.stream_for`


def _read(boxes: Sequence[_Box]) -> dict[_Box, _Known]:
    db = m.database.obj
    known: dict[_Box, _Known] = {}
    for chunk in chunks(sorted(boxes)):
        where = f'WHERE ("shop", "box") IN (VALUES {values(db, 2, len(chunk))})'
        params = [part for box in chunk for part in box]
        rows = db.execute_sql(
            f'SELECT "shop", "box", "online", "boot", "last_seq" FROM "box" {where}', params
        )
        for shop, box, online, boot, last_seq in rows.fetchall():
            found = known.setdefault((shop, box), _Known())
            found.online = None if online is None else bool(online)
            found.boot, found.last_seq = boot, int(last_seq)
        rows = db.execute_sql(f'SELECT "shop", "box", "epoch", "current" FROM "stream" {where}', params)
        for shop, box, epoch, current in rows.fetchall():
            known.setdefault((shop, box), _Known()).streams[epoch] = bool(current)
        rows = db.execute_sql(f'SELECT "shop", "box", "online" FROM "presence" {where}', params)
        for shop, box, online in rows.fetchall():
            known.setdefault((shop, box), _Known()).present = bool(online)
    return known


def _write(plain: Sequence[tuple[Birth, _Known | None]], now: float) -> None:
    """The fleet view's row of each box, the first stream of each new one, presence and orders."""
    states = [
        {
            "shop": birth.shop,
            "box": birth.box,
            "online": True,
            "boot": birth.state.boot,
            "version": birth.state.version,
            "config_hash": birth.state.config_hash,
            "state_ts": birth.state.ts,
            "seen_at": now,
        }
        for birth, _ in plain
    ]
    fleet_view = [m.Box.online, m.Box.boot, m.Box.version, m.Box.config_hash, m.Box.state_ts, m.Box.seen_at]
    for rows in chunks(states):
        m.Box.insert_many(rows).on_conflict(
            conflict_target=[m.Box.shop, m.Box.box], preserve=fleet_view
        ).execute()
    first = [
        (birth.shop, birth.box, stream_key(birth.state.epoch))
        for birth, box in plain
        if birth.state.epoch is not None and (box is None or not box.streams)
    ]
    for streams in chunks(first):
        m.Stream.insert_many(
            [{"shop": s, "box": b, "epoch": e, "current": True, "started_at": now} for s, b, e in streams]
        ).execute()
    for shop, box, epoch in first:
        log.info("box %s/%s: first journal stream recorded (epoch %s)", shop, box, epoch or "none")
    returned = [(birth.shop, birth.box) for birth, box in plain if box is None or box.present is not True]
    for boxes in chunks(returned):
        m.Presence.insert_many(
            [{"shop": s, "box": b, "online": True, "since": now} for s, b in boxes]
        ).on_conflict(
            conflict_target=[m.Presence.shop, m.Presence.box], preserve=[m.Presence.online, m.Presence.since]
        ).execute()
    db = m.database.obj
    for chunk in chunks(returned):  # what they have not acked goes out at once (`delivery.sync_presence`)
        db.execute_sql(
            'UPDATE "delivery" SET "sent" = 0 WHERE ("shop", "box") IN '
            f'(VALUES {values(db, 2, len(chunk))}) AND "acked" < "rev"',
            [part for box in chunk for part in box],
        )
