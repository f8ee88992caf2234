"""Running balances: a sku's level comes from one row, not its whole history, and says exactly what the
history says (duplicates skipped, every channel counted), also on a database upgraded from before balances.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.db import Database
from tests.bridge_helpers import database, postgres

__all__ = ["database", "postgres"]  # fixtures

_SHOPS = iter(range(10**9))

movements = st.lists(
    st.tuples(st.sampled_from("ABC"), st.integers(0, 30), st.integers(-5, 5)), min_size=1, max_size=40
)


@given(groups=st.lists(movements, min_size=1, max_size=5))
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_level_is_the_baseline_plus_every_movement_once_whatever_is_sent_twice(
    database: Database, groups: list[list[tuple[str, int, int]]]
) -> None:
    shop = f"shop-{next(_SHOPS)}"
    history: dict[str, int] = {}  # source → delta, the first insert of a source wins
    with database.write():
        for sku in "ABC":
            m.Stock.insert(shop=shop, sku=sku, baseline=100, baseline_at=0).execute()
        for group in groups:  # each group one add_movements call, sources repeating within and across
            rows = [
                ledger.movement_row(shop, sku, f"b/till/{seq}/{sku}", "sale", delta, "t", push=True)
                for sku, seq, delta in group
            ]
            ledger.add_movements(rows)
            for sku, seq, delta in group:
                history.setdefault(f"b/till/{seq}/{sku}", delta)
        found = ledger.levels(shop, "ABC")
    for sku in "ABC":
        expected = 100 + sum(d for source, d in history.items() if source.endswith(f"/{sku}"))
        assert found[sku].on_hand == expected


def test_a_database_from_before_balances_shows_the_same_levels_after_the_upgrade(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url).open()
    with db.write():
        m.Stock.insert(shop="s", sku="MILK", baseline=24, baseline_at=time.time()).execute()
        ledger.add_movements(
            [ledger.movement_row("s", "MILK", f"b/till/{n}", "sale", -1, "t", push=True) for n in range(1, 6)]
        )
        m.database.obj.execute_sql('DROP TABLE "balance"')  # as a release without balances left it
    db.close()
    upgraded = Database(url).open()
    with upgraded.write():
        assert ledger.levels("s", ["MILK"])["MILK"].on_hand == 19  # not 24: the history is in the balance
        ledger.add_movements([ledger.movement_row("s", "MILK", "b/till/6", "sale", -2, "t", push=True)])
        assert ledger.levels("s", ["MILK"])["MILK"].on_hand == 17
    upgraded.close()
