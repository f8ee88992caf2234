"""Times the bridge keeps are exact to well under a second on both databases.

peewee's FloatField is a 4-byte REAL on PostgreSQL: a Unix time in it is off by up to a minute, so a box seen
a second ago could show as seen a minute ago (or in the future), and every timer the bridge keeps in the
database (order failover, parked retries, resends) fired up to a minute early or late.
"""

from __future__ import annotations

import time

import peewee as pw
import pytest

from cloud_bridge import models as m
from cloud_bridge.db import Database
from tests.bridge_helpers import PostgresServer, database, postgres

__all__ = ["database", "postgres"]  # fixtures


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_box_last_seen_a_moment_ago_reads_back_to_the_millisecond(database: Database) -> None:
    seen = 1_765_000_123.456  # a Unix time in December 2025
    with database.write():
        m.Box.create(shop="corner", box="till-1", seen_at=seen, telemetry_at=seen)
    row = m.Box.get(m.Box.box == "till-1")
    assert abs(row.seen_at - seen) < 0.001 and abs(row.telemetry_at - seen) < 0.001


def test_no_time_column_of_the_bridge_is_a_4_byte_float() -> None:
    floats = [
        f"{model._meta.table_name}.{field.name}"
        for model in m.MODELS
        for field in model._meta.sorted_fields
        if type(field) is pw.FloatField
    ]
    assert floats == []


def test_a_database_made_with_4_byte_times_is_widened_when_opened(postgres: PostgresServer) -> None:
    postgres.truncate()
    db = Database(postgres.url).open()
    db.db.execute_sql('ALTER TABLE "box" ALTER COLUMN "seen_at" TYPE real')  # as an older bridge made it
    db.close()
    db = Database(postgres.url).open()
    try:
        (kind,) = db.db.execute_sql(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'box' AND column_name = 'seen_at'"
        ).fetchone()
        assert kind == "double precision"
        now = time.time()
        with db.write():
            m.Box.create(shop="corner", box="till-2", seen_at=now)
        assert abs(m.Box.get(m.Box.box == "till-2").seen_at - now) < 0.001
    finally:
        db.close()
