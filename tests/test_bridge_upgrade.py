"""A bridge database made by the previous release opens with this one, on SQLite and PostgreSQL.

The schema is the one release cd262a0 created (captured in tests/data/), holding what that release wrote: a
shop's baseline, a till's sale not yet sent to the boxes, its running balance. Opening it with this release
adds what this release added (the balances' compacted part, the floor's order notices, the levels
watermark in place of the index of unsent movements) without losing anything, the ledger reads the same
levels, the sale reaches the boxes once, and the new code paths that use the new parts work on it; a second
open changes nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2  # type: ignore[import-untyped]
import pytest

from cloud_bridge import ledger, levels, state
from cloud_bridge import models as m
from cloud_bridge.core.shopstate import ShopState
from cloud_bridge.db import Database
from tests.bridge_helpers import PostgresServer

DATA = Path(__file__).parent / "data"
T0 = time.time() - 3600
# What the previous release held: a baseline of 10 for SKU-1, then a till's sale of 2, its balance moved.
ROWS = (
    "INSERT INTO meta (key, value) VALUES ('schema', '1')",
    "INSERT INTO stock (shop, sku, baseline, baseline_at, dirty) VALUES ('corner', 'SKU-1', 10, {t0}, {no})",
    "INSERT INTO movement (shop, sku, source, kind, delta, at, push) "
    "VALUES ('corner', 'SKU-1', 'b/till-1/1', 'sale', -2, '2026-12-06T09:00:00.000Z', {yes})",
    "INSERT INTO balance (shop, sku, moved) VALUES ('corner', 'SKU-1', -2)",
    # the shop's small state as that release stored it: text values under their names
    "INSERT INTO shop_state (shop, name, value) VALUES ('corner', 'initialised', '1765000000.25'), "
    "('corner', 'orders_cursor', '2026-12-06T09:00:00Z'), ('corner', 'failures', '3'), "
    "('corner', 'orders_due', '0'), ('corner', 'writes_open', '1765000100.5'), "
    "('corner', 'catalog_version', '12'), ('', 'pickup_secret', 'kept')",
)


def _statements(yes: str, no: str) -> list[str]:
    return [sql.format(t0=T0, yes=yes, no=no) for sql in ROWS]


@contextlib.contextmanager
def previous_release(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database of `kind` made from the previous release's schema and holding its data; yields its URL."""
    schema = (DATA / f"bridge-schema-cd262a0.{kind}.sql").read_text()
    if kind == "sqlite":
        path = tmp_path / "bridge.db"
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.executescript(schema)
            for sql in _statements("1", "0"):
                conn.execute(sql)
            conn.commit()
        yield f"sqlite:///{path}"
        return
    server = PostgresServer()
    try:
        with contextlib.closing(psycopg2.connect(server.url)) as conn:
            with conn.cursor() as cur:
                cur.execute(schema)
                for sql in _statements("true", "false"):
                    cur.execute(sql)
            conn.commit()
        yield server.url
    finally:
        server.drop()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_database_of_the_previous_release_opens_keeps_its_ledger_and_takes_the_new_work(
    kind: str, tmp_path: Path
) -> None:
    with previous_release(kind, tmp_path) as url:
        db = Database(url).open()
        try:
            with db.db.connection_context():
                assert ledger.levels("corner", ["SKU-1"])["SKU-1"].on_hand == 8  # nothing lost
                assert m.Meta.get(m.Meta.key == "schema").value == str(m.SCHEMA_VERSION)
                assert m.Balance.get().compacted == 0  # the new column, on the old row
                assert state.load("corner") == ShopState(  # read typed, as it was stored
                    "corner", initialised_at=1765000000.25, orders_cursor="2026-12-06T09:00:00Z", failures=3,
                    orders_due=0.0, writes_open=1765000100.5, catalog_version=12,
                    levels_pushed=1,  # the levels watermark starts at the newest movement
                )  # fmt: skip
                assert state.once(state.Key.PICKUP_SECRET, "new") == "kept"
                indexes = {index.name for index in db.db.get_indexes("movement")}
                assert "movement_unsent" not in indexes  # the watermark finds unsent movements now
                assert levels.push_due(db, "corner", ["till-1"], time.time()) == 1  # the sale, once
                assert levels.push_due(db, "corner", ["till-1"], time.time()) == 0
                with db.write():  # the floor's order notices: a table the previous release did not have
                    m.OrderNotice.create(
                        shop="corner", order_id="1042", stage="ready", text="", source="bridge",
                        created_at=time.time(),
                    )  # fmt: skip
                    at = "2026-12-06T10:00:00.000Z"
                    ledger.add_movements(
                        [ledger.movement_row("corner", "SKU-1", "b/till-1/2", "sale", -1, at, push=True)]
                    )
                assert ledger.levels("corner", ["SKU-1"])["SKU-1"].on_hand == 7
                assert levels.push_due(db, "corner", ["till-1"], time.time()) == 1  # the new sale
        finally:
            db.close()
        again = Database(url).open()  # a second start of the new release: nothing to do, nothing lost
        try:
            with again.db.connection_context():
                assert ledger.levels("corner", ["SKU-1"])["SKU-1"].on_hand == 7
                assert m.OrderNotice.select().count() == 1
        finally:
            again.close()
