"""The seq contract as properties, against the real apply code on SQLite and PostgreSQL.

A box goes through several stores (epochs), each a stream starting at its own seq. The bridge receives, in
any interleaving, batches of any of them: duplicates, reorders, batches with holes, replays of old ones, acks
the box had not yet seen (a stale `acked`). Then the box drains as it does (go-back-N from its last ack). At
every step no ack passes a seq that is not applied; at the end every entry is applied exactly once.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.journal import apply_batch
from cloud_bridge.streams import source_of
from tests.bridge_helpers import batch, database, postgres, sale

__all__ = ["database", "postgres"]  # fixtures

_BOXES = itertools.count()


@dataclass
class Store:
    """One store of the box: a stream of `size` entries from seq `start` + 1, and the acks it received."""

    epoch: str
    start: int
    size: int
    acks: list[int] = field(default_factory=list)

    @property
    def seqs(self) -> range:
        return range(self.start + 1, self.start + self.size + 1)

    @property
    def acked(self) -> int:
        return max([self.start, *self.acks])


stores = st.lists(
    st.tuples(st.sampled_from([0, 0, 1000, 40]), st.integers(1, 25)), min_size=1, max_size=3
).map(lambda specs: [Store(f"{n:016x}", start, size) for n, (start, size) in enumerate(specs, 1)])


def delivery(data: st.DataObject, boxes: list[Store]) -> tuple[Store, int, list[int]]:
    """A batch of any store: any strictly increasing choice of the seqs after an ack the box may have had
    (one the bridge sent, not always the newest: messages overtake each other).
    """
    store = data.draw(st.sampled_from(boxes))
    acked = data.draw(st.sampled_from([store.start, *store.acks]))
    later = [s for s in store.seqs if s > acked] or [store.start + store.size]
    chosen = data.draw(st.lists(st.sampled_from(later), min_size=1, max_size=8, unique=True))
    return store, min(acked, min(chosen) - 1), sorted(chosen)


class Box:
    def __init__(self, db: Database, stores: list[Store]) -> None:
        self.db, self.stores = db, stores
        self.name = f"prop-{next(_BOXES)}"

    def send(self, store: Store, acked: int, seqs: list[int]) -> None:
        entries = [sale(seq, "A", -seq) for seq in seqs]
        b, payload = batch(*entries, epoch=store.epoch, acked=acked)
        upto = apply_batch(self.db, "shop", self.name, b, payload, time.time()).upto
        if upto is not None:
            applied = self.applied(store)
            missing = [s for s in range(store.start + 1, upto + 1) if s not in applied]
            assert not missing, f"ack {upto} passes unapplied seqs {missing}"
            store.acks.append(upto)

    def applied(self, store: Store) -> set[int]:
        prefix = source_of(self.name, store.epoch, 0)[:-1]
        query = m.Movement.select(m.Movement.source).where(m.Movement.source.startswith(prefix))
        return {int(row.source.rsplit("/", 1)[1]) for row in query}

    def drain(self, store: Store) -> None:
        """The box's own resend: everything after its last ack, in batches of 10, until all is acked."""
        for _ in range(store.size + 2):
            if store.acked >= store.start + store.size:
                return
            later = [s for s in store.seqs if s > store.acked]
            self.send(store, store.acked, later[:10])
        raise AssertionError(f"store {store.epoch} never fully acked: {store.acked}")


@given(data=st.data(), boxes=stores)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_entry_applied_once_and_no_ack_passes_a_hole(
    database: Database, data: st.DataObject, boxes: list[Store]
) -> None:
    box = Box(database, boxes)
    for _ in range(data.draw(st.integers(0, 25))):
        box.send(*delivery(data, boxes))
    for store in boxes:
        box.drain(store)
    for store in boxes:
        assert box.applied(store) == set(store.seqs)
        prefix = source_of(box.name, store.epoch, 0)[:-1]
        rows = m.Movement.select().where(m.Movement.source.startswith(prefix))
        assert sorted(-row.delta for row in rows) == list(store.seqs)  # each once, none twice
    current = m.Stream.select().where(m.Stream.box == box.name, m.Stream.current == True)  # noqa: E712
    assert current.count() == 1
