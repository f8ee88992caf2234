"""Journal batches applied in groups (one transaction for the batches waiting in a worker's queue) end
exactly as applied one by one: the same acks, the same movements, the same stream positions and held
batches, on SQLite and PostgreSQL, whatever the batches hold (duplicates, holes, new epochs, counts, stale
acks). And two workers taking overlapping groups of boxes never deadlock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_bridge import delivery, fleet
from cloud_bridge import models as m
from cloud_bridge.births import Birth, Presence
from cloud_bridge.db import Database
from cloud_bridge.grouped import Item, apply_group
from cloud_bridge.journal import Applied, apply_batch
from tests.bridge_helpers import PostgresServer, batch, database, postgres, sale
from wire import JSON, JournalEntry, State, now_ts

__all__ = ["database", "postgres"]  # fixtures

EPOCHS = ["a" * 16, "b" * 16]


@st.composite
def deliveries(draw: st.DrawFn) -> list[tuple[str, Item]]:
    """Batches of two boxes as the broker may hand them over: mostly the next seqs, sometimes a duplicate,
    a batch past a hole, a count, a new store's epoch, an `acked` the bridge has not applied.
    """
    out = []
    next_seq = {("t1", EPOCHS[0]): 1, ("t2", EPOCHS[0]): 1, ("t1", EPOCHS[1]): 1, ("t2", EPOCHS[1]): 1}
    for _ in range(draw(st.integers(1, 30))):
        box = draw(st.sampled_from(["t1", "t2"]))
        epoch = draw(st.sampled_from(EPOCHS))
        start = next_seq[(box, epoch)] + draw(st.sampled_from([0, 0, 0, 0, -1, 1, 2]))
        size = draw(st.integers(1, 3))
        entries: list[JournalEntry] = []
        for seq in range(max(1, start), max(1, start) + size):
            kind = draw(st.sampled_from(["sale", "sale", "sale", "return", "count", "unknown_barcode"]))
            if kind == "count":
                fields: dict[str, JSON] = {"sku": "A", "delta": 2, "stock_after": 7, "counted": 7}
                entries.append(JournalEntry(seq, "count", now_ts(), fields))
            elif kind == "unknown_barcode":
                entries.append(JournalEntry(seq, kind, now_ts(), {"raw": "123", "mode": "sale"}))
            else:
                entries.append(sale(seq, draw(st.sampled_from("ABC")), -1 if kind == "sale" else 1, kind))
        next_seq[(box, epoch)] = max(next_seq[(box, epoch)], entries[-1].seq + 1)
        acked = draw(st.sampled_from([None, entries[0].seq - 1]))  # past what was applied after a jump
        b, payload = batch(*entries, epoch=epoch, acked=acked)
        out.append((box, Item("", box, b, payload)))
    return out


def _state(shop: str) -> dict[str, Any]:
    """Everything the apply writes for a shop, comparable across shops."""
    movements = sorted(
        (r.sku, r.source, r.kind, r.delta) for r in m.Movement.select().where(m.Movement.shop == shop)
    )
    streams = sorted(
        (r.box, r.epoch, r.last_seq, r.first_seq, r.pending, r.applied, r.current)
        for r in m.Stream.select().where(m.Stream.shop == shop)
    )
    boxes = sorted(
        (r.box, r.last_seq, r.pending, r.applied, r.online, r.boot, r.version, r.seen_at)
        for r in m.Box.select().where(m.Box.shop == shop)
    )
    presence = sorted((r.box, r.online, r.since) for r in m.Presence.select().where(m.Presence.shop == shop))
    held = sorted(
        (r.box, r.epoch, r.first_seq, r.last_seq)
        for r in m.HeldBatch.select().where(m.HeldBatch.shop == shop)
    )
    losses = m.LossWindow.select().where(m.LossWindow.shop == shop).count()
    return {
        "movements": movements,
        "streams": streams,
        "boxes": boxes,
        "presence": presence,
        "held": held,
        "losses": losses,
    }


_RUNS = iter(range(10**9))


@given(
    items=deliveries(),
    cuts=st.lists(st.integers(1, 8), min_size=1, max_size=10),
    births=st.lists(st.tuples(st.sampled_from(["t1", "t2"]), st.sampled_from(EPOCHS)), max_size=2),
    later=st.lists(
        st.tuples(
            st.integers(0, 30),
            st.sampled_from(["t1", "t2"]),
            st.sampled_from([*EPOCHS, None]),
            st.sampled_from([1, 2, None]),  # the boot: the same again, the next, a Will (offline)
        ),
        max_size=4,
    ),
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_grouped_apply_ends_as_one_by_one(
    database: Database,
    items: list[tuple[str, Item]],
    cuts: list[int],
    births: list[tuple[str, str]],
    later: list[tuple[int, str, str | None, int | None]],
) -> None:
    """Births come before a box's first batch, or among its batches (a box restarted on a new store, the
    same birth again, a Will): applied alone each in its own transaction, or in runs inside a group.
    """
    run = next(_RUNS)
    alone, grouped = f"alone-{run}", f"grouped-{run}"
    now = time.time()
    for shop in (alone, grouped):  # a birth names a store before its first batch comes (or not at all)
        for box, epoch in births:
            with database.box_transaction(shop, box):
                fleet.on_state(shop, box, State(True, "1.0", 1, "cafe", now_ts(), epoch=epoch), now)
    events: list[tuple[str, Item | State]] = [(box, item) for box, item in items]
    for at, box, named, boot in sorted(later, key=lambda one: one[0], reverse=True):
        state = State.offline(1) if boot is None else State(True, "1.0", boot, "cafe", now_ts(), epoch=named)
        events.insert(min(at, len(events)), (box, state))
    one_by_one: list[Applied | Presence] = []
    for box, event in events:
        if isinstance(event, State):
            with database.box_transaction(alone, box):
                back = fleet.on_state(alone, box, event, now)
                one_by_one.append(Presence(back, delivery.sync_presence(alone, box, now)))
        else:
            one_by_one.append(apply_batch(database, alone, box, event.batch, event.payload, now))
    mine = [
        Birth(grouped, box, e) if isinstance(e, State) else Item(grouped, box, e.batch, e.payload)
        for box, e in events
    ]
    together: list[Applied | Presence] = []
    start, n = 0, 0
    while start < len(mine):
        size = cuts[n % len(cuts)]
        together += apply_group(database, mine[start : start + size], now)
        start, n = start + size, n + 1
    assert together == one_by_one
    with database.db.connection_context():
        assert _state(grouped) == _state(alone)


def test_two_workers_with_overlapping_groups_of_boxes_never_deadlock(postgres: PostgresServer) -> None:
    postgres.truncate()
    boxes = [f"till-{n}" for n in range(8)]
    setup = Database(postgres.url).open()
    for box in boxes:
        b, payload = batch(sale(1, "A"))
        apply_batch(setup, "shop", box, b, payload, time.time())
    setup.close()
    failures: list[BaseException] = []

    def work(order: list[str], first_seq: int) -> None:
        db = Database(postgres.url)
        try:
            for seq in range(first_seq, first_seq + 40, 2):
                group = []
                for box in order:
                    b, payload = batch(sale(seq, "A"), sale(seq + 1, "B"))
                    group.append(Item("shop", box, b, payload))
                apply_group(db, group, time.time())
        except BaseException as exc:
            failures.append(exc)
        finally:
            db.close()

    # Both workers take every box, in opposite orders, each applying the same seqs (one wins, one skips).
    threads = [
        threading.Thread(target=work, args=(boxes, 2)),
        threading.Thread(target=work, args=(boxes[::-1], 2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    check = Database(postgres.url).open()
    with check.db.connection_context():
        for box in boxes:
            row = m.Stream.get(m.Stream.shop == "shop", m.Stream.box == box)
            assert row.last_seq == 41
            moved = m.Movement.select().where(m.Movement.source.startswith(f"b/{box}/"))
            assert moved.count() == 41  # each seq once, whichever worker applied it
    check.close()
