"""The box's stock under any interleaving of its own sales, the cloud's levels and acks, in any order.

A model cloud applies a prefix of the box's sales at each push, adds what other channels did, and sends a
level (with the box's position) and an ack for that prefix. Levels and acks reach the box late, twice, in any
order. Once everything has arrived, the box must show the newest level plus exactly its own sales that level
does not include: no sale lost, none counted twice.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_agent.domain import StockMove
from firmware_agent.facts import apply_fact
from firmware_agent.store import Store, levels
from tests.store_helpers import open_store
from wire import EntryKind, Levels, SkuLevel

START = 24  # MILK in the sample catalog

steps = st.lists(
    st.one_of(
        st.just(("sale", 0)),
        st.tuples(st.just("other"), st.integers(-5, 5)),  # another till, an online order, a shop edit
        st.tuples(st.just("push"), st.integers(0, 100)),  # how much of the box's journal the cloud applied
    ),
    max_size=25,
)


@dataclass
class Cloud:
    sales: list[int] = field(default_factory=list)  # the box's sale seqs, in order
    applied: int = 0  # how many of them the cloud has applied
    others: int = 0
    version: int = 0
    reserved: int = 0
    sent: list[Levels | int] = field(default_factory=list)  # levels and acks, in the order sent

    def push(self, share: int) -> None:
        self.applied = max(self.applied, min(len(self.sales), self.applied + share % 4))
        upto = self.sales[self.applied - 1] if self.applied else 0
        self.version += 1
        on_hand = START + self.others - self.applied
        self.sent += [upto, Levels(self.version, (SkuLevel("MILK", on_hand, self.reserved),), upto)]


def deliver(store: Store, message: Levels | int) -> None:
    with store.transaction():
        if isinstance(message, Levels):
            levels.apply_levels(store, message)
        else:
            store.forget_upto(message)
            levels.forget_acked(store, message)


@given(steps, st.data())
@settings(max_examples=80, deadline=None)
def test_the_box_shows_the_newest_level_plus_its_own_sales_it_does_not_include(script, data) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder))
        try:
            cloud = Cloud(reserved=data.draw(st.integers(0, 3)))
            for kind, value in script:
                if kind == "sale":
                    with store.transaction():
                        cloud.sales.append(apply_fact(store, StockMove(EntryKind.SALE, "MILK", -1, "x")).seq)
                elif kind == "other":
                    cloud.others += value
                else:
                    cloud.push(value)
                late = data.draw(st.lists(st.sampled_from(cloud.sent), max_size=2)) if cloud.sent else []
                for message in late:  # some arrive now, out of order, possibly again later
                    deliver(store, message)
            for message in data.draw(st.permutations(cloud.sent)):
                deliver(store, message)
            newest = max(
                (m for m in cloud.sent if isinstance(m, Levels)), key=lambda m: m.version, default=None
            )
            if newest is None:
                expected = START - len(cloud.sales)
            else:
                level = newest.levels[0]
                expected = level.available - sum(1 for seq in cloud.sales if seq > newest.upto)
            milk = store.product("MILK")
            assert milk is not None and milk.stock == expected
        finally:
            store.close()
