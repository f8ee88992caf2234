"""A box's journal streams in the database: the stream a batch or a birth names, which one is the box's
current stream, and the loss windows reported when one is replaced. Every function runs inside the caller's
transaction, under the box's lock.

A stream is keyed by the box store's epoch. A box older than epochs sends none, and a store made before
epochs existed has the all-zero epoch (`wire.LEGACY_EPOCH`): both are the box's unnamed stream `""`, so a box
upgraded in place goes on with the stream it had. A stream the bridge has never seen is recorded when a
batch or a birth first names it, and it becomes the box's current stream: the one it replaces is reported as
a loss window, since whatever its store held and never sent is gone. Nothing is lost silently.
"""

from __future__ import annotations

import logging
from typing import Any

from cloud_bridge import models as m
from cloud_bridge.parking import park
from wire import LEGACY_EPOCH

log = logging.getLogger(__name__)

UNNAMED = ""


def stream_key(epoch: str | None) -> str:
    return UNNAMED if epoch is None or epoch == LEGACY_EPOCH else epoch


def source_of(box: str, key: str, seq: int) -> str:
    """A box entry's movement source: `b/<box>/<seq>` for the unnamed stream, `b/<box>/<epoch>/<seq>`."""
    return f"b/{box}/{key}/{seq}" if key else f"b/{box}/{seq}"


def entry_ref(box: str, key: str, seq: int) -> str:
    """An entry's parking key (`entry/<box>[/<epoch>]/<seq>`)."""
    return f"entry/{box}/{key}/{seq}" if key else f"entry/{box}/{seq}"


def stream_for(shop: str, box: str, key: str, now: float) -> Any:
    """The stream `key` of a box; one never seen before is recorded as the box's current stream."""
    row = _get(shop, box, key)
    if row is None:
        _adopt_box_position(shop, box, now)
        row = _get(shop, box, key) or _start(shop, box, key, now)
    return row


def announce(shop: str, box: str, epoch: str | None, now: float) -> None:
    """A birth names the box's store: that stream is the box's current one from now on."""
    if epoch is None:
        return
    key = stream_key(epoch)
    row = stream_for(shop, box, key, now)
    if not row.current:
        mine = (m.Stream.shop == shop) & (m.Stream.box == box)
        m.Stream.update(current=False).where(mine).execute()
        m.Stream.update(current=True).where(mine & (m.Stream.epoch == key)).execute()
        _mirror(shop, box, row)


def _mirror(shop: str, box: str, row: Any) -> None:
    """The fleet view's copy of the box's position and held batches follows the stream that is current now
    (a box back on an earlier store showed the other store's until its next batch)."""
    copy: dict[Any, Any] = {m.Box.pending: row.pending}
    if row.last_seq is not None:  # announced only: no position yet
        copy[m.Box.last_seq] = row.last_seq
    m.Box.update(copy).where(m.Box.shop == shop, m.Box.box == box).execute()


def record_loss(
    shop: str,
    box: str,
    key: str,
    after: int | None,
    upto: int | None,
    reason: str,
    now: float,
    *,
    new_key: str | None = None,
) -> None:
    """Keeps a loss window for `bridge status` and parks it where a person sees it."""
    log.error("box %s/%s: %s", shop, box, reason)
    m.LossWindow.create(
        shop=shop,
        box=box,
        epoch=key,
        after_seq=after,
        upto_seq=upto,
        new_epoch=new_key,
        reason=reason,
        at=now,
    )
    park(shop, f"loss/{box}/{key or '-'}/{after or 0}", "journal", reason, now, box=box)


def _get(shop: str, box: str, key: str) -> Any:
    return m.Stream.get_or_none(m.Stream.shop == shop, m.Stream.box == box, m.Stream.epoch == key)


def _start(shop: str, box: str, key: str, now: float) -> Any:
    mine = (m.Stream.shop == shop) & (m.Stream.box == box)
    replaced = list(m.Stream.select().where(mine & (m.Stream.current == True)))  # noqa: E712
    m.Stream.update(current=False).where(mine).execute()
    m.Stream.insert(shop=shop, box=box, epoch=key, current=True, started_at=now).execute()
    for old in replaced:
        after = old.last_seq
        held = f"; it was applied up to seq {after}" if after is not None else "; it never sent an entry"
        reason = (
            f"the box's store changed (epoch {old.epoch or 'none'} → {key or 'none'}){held}: "
            "whatever the old store held after that and never sent is lost"
        )
        record_loss(shop, box, old.epoch, after, None, reason, now, new_key=key)
    if not replaced:
        log.info("box %s/%s: first journal stream recorded (epoch %s)", shop, box, key or "none")
    return _get(shop, box, key)


def _adopt_box_position(shop: str, box: str, now: float) -> None:
    """A database from before streams kept one position per box: it becomes the box's unnamed stream."""
    if m.Stream.select().where(m.Stream.shop == shop, m.Stream.box == box).exists():
        return
    row = m.Box.get_or_none(m.Box.shop == shop, m.Box.box == box)
    if row is not None and row.last_seq > 0:
        m.Stream.insert(
            shop=shop,
            box=box,
            epoch=UNNAMED,
            last_seq=row.last_seq,
            first_seq=1,
            applied=row.applied,
            current=True,
            started_at=now,
        ).execute()
