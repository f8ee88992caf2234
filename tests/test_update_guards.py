"""When an update must wait: a sale being scanned (a fresh journal entry or scan marker) or a backlog the
cloud has not acknowledged yet. Read from the store on disk, read-only, as the root updater does."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from firmware_agent.updates import ActivityMarker, GuardPolicy, UpdateDeferred
from firmware_agent.updates.guards import check, read_journal
from tests.core_helpers import running_core
from tests.store_helpers import open_store

OIL = "8410000000016"
POLICY = GuardPolicy(quiet_s=120, max_backlog=3)


def later(seconds):
    return lambda: time.time() + seconds


def test_a_box_that_never_ran_may_be_updated(tmp_path):
    check(tmp_path, POLICY)  # no store, no marker
    open_store(tmp_path).close()
    check(tmp_path, POLICY)  # a store with an empty journal


def test_a_fresh_sale_defers_the_update_until_the_till_has_been_quiet(tmp_path):
    with running_core(tmp_path) as box:
        box.scan(OIL)
    with pytest.raises(UpdateDeferred, match=r"a sale is being scanned \(newest journal entry 0 s old\)"):
        check(tmp_path, POLICY)
    check(tmp_path, POLICY, now=later(121))


def test_a_backlog_above_the_threshold_defers_the_update_until_it_drains(tmp_path):
    with running_core(tmp_path) as box:
        box.scan(OIL, OIL, OIL, OIL)
    with pytest.raises(UpdateDeferred, match="4 entries the cloud has not acknowledged"):
        check(tmp_path, POLICY, now=later(3600))
    with sqlite3.connect(tmp_path / "tillbridge.db") as db:
        db.execute("DELETE FROM journal WHERE seq <= 1")  # what an ack from the cloud does
    check(tmp_path, POLICY, now=later(3600))


def test_a_scan_is_seen_through_the_marker_even_once_its_entry_was_acknowledged(tmp_path):
    with running_core(tmp_path, ActivityMarker(tmp_path)) as box:
        box.scan(OIL)
    with sqlite3.connect(tmp_path / "tillbridge.db") as db:
        db.execute("DELETE FROM journal")
    assert read_journal(tmp_path / "tillbridge.db").newest_ts is None
    with pytest.raises(UpdateDeferred, match="last scan 0 s ago"):
        check(tmp_path, POLICY)
    check(tmp_path, POLICY, now=later(121))


def test_the_marker_is_touched_at_most_once_per_interval(tmp_path):
    clock = [100.0]
    marker = ActivityMarker(tmp_path, every_s=5, clock=lambda: clock[0])
    with running_core(tmp_path, marker) as box:
        box.scan(OIL)
        os.utime(marker.path, (0, 0))  # so that any later touch shows
        box.scan(OIL)
        assert marker.path.stat().st_mtime == 0  # the same instant on its clock: one write saved
        clock[0] += 5
        box.scan(OIL)
        assert marker.path.stat().st_mtime > 0


def test_an_unreadable_store_defers_rather_than_updating_blind(tmp_path):
    (tmp_path / "tillbridge.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UpdateDeferred, match="cannot read the journal"):
        check(tmp_path, POLICY)
