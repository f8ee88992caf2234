"""The box's store against what a box's owner or an attacker can do to its files and logs: secrets never in
the debug SQL log, a full disk and a read-only data folder reported as what they are."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from firmware_agent.store.orders import store_pickup_key
from tests.store_helpers import open_store

ROOT = Path(__file__).resolve().parent.parent
UNSHARE = ("unshare", "--mount", "--propagation", "private")
PICKUP_KEY = "5ec7e7" * 10 + "abcd"  # 64 hex characters: a shop's pickup key


def test_the_pickup_key_never_shows_in_the_debug_sql_log(tmp_path, caplog):
    store = open_store(tmp_path)
    with caplog.at_level(logging.DEBUG), store.transaction():
        store_pickup_key(store, 1, PICKUP_KEY)
    assert any("INSERT" in r.getMessage() for r in caplog.records)  # the SQL is still there to debug
    assert PICKUP_KEY not in caplog.text


def test_no_value_written_through_the_store_shows_in_the_debug_sql_log(tmp_path, caplog):
    """Values may be secrets or a customer's data: the SQL is logged at debug level, its parameters never."""
    store = open_store(tmp_path)
    with caplog.at_level(logging.DEBUG), store.transaction():
        store.set_setting("some.secret", PICKUP_KEY)
    assert any("setting" in r.getMessage() for r in caplog.records)
    assert PICKUP_KEY not in caplog.text


# ---- a full disk and a read-only data folder, for real: a tmpfs in a child's own mount namespace ---------


def in_small_disk(scenario: str, size: str = "1m") -> dict[str, Any]:
    """Runs `scenario` of this module (below) in a child with its own mount namespace, where the data folder
    is a tmpfs of `size`; returns what the child printed as JSON."""
    folder = Path(tempfile.mkdtemp(prefix="small-disk-"))
    try:
        done = subprocess.run(
            [*UNSHARE, sys.executable, "-m", "tests.test_store_hostile", scenario, str(folder), size],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_full_disk_refuses_each_scan_in_one_line_and_keeps_the_seq_count_right(tmp_path):
    seen = in_small_disk("full")
    assert seen["refused"] == 5 and seen["tracebacks"] == 0, seen
    assert len(seen["errors"]) == 5 and all("is full" in line for line in seen["errors"]), seen["errors"]
    assert seen["last_seq_during"] == seen["last_seq_before"] == seen["journal_max"], seen
    assert seen["after_freeing"] == seen["last_seq_before"] + 1, seen  # no gap, no number used twice


def test_a_read_only_data_folder_is_reported_as_such_and_nothing_is_moved_aside(tmp_path):
    seen = in_small_disk("read-only")
    assert "read-only" in seen["error"] and "corrupt" not in seen["error"], seen
    assert seen["files"] == seen["files_before"], seen  # the store was not moved aside


def _full(folder: Path) -> dict[str, Any]:
    from tests.core_helpers import running_core

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    logging.getLogger().addHandler(handler)
    with running_core(folder) as running:
        store = running.core.store
        running.scan("8410000000023")
        before = store.last_seq
        filler = folder / "filler"
        with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):  # nothing left to flush
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        results = [running.scan("8410000000023")[0] for _ in range(5)]  # one at a time, as a cashier scans
        during = store.last_seq
        journal_max = store.sql("SELECT MAX(seq) FROM journal").fetchone()[0]
        filler.unlink()
        running.scan("8410000000023")
        after = store.last_seq
    logging.getLogger().removeHandler(handler)
    return {
        "refused": sum(1 for r in results if r.error),
        "errors": [r.getMessage() for r in records],
        "tracebacks": sum(1 for r in records if r.exc_info),
        "last_seq_before": before,
        "last_seq_during": during,
        "journal_max": journal_max,
        "after_freeing": after,
    }


def _read_only(folder: Path) -> dict[str, Any]:
    from firmware_agent.errors import StoreError
    from firmware_agent.store import Store

    Store.open(folder / "tillbridge.db").close()
    files_before = sorted(p.name for p in folder.iterdir())
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    try:
        Store.open(folder / "tillbridge.db").close()
        error = "opened"
    except StoreError as exc:
        error = str(exc)
    return {"error": error, "files_before": files_before, "files": sorted(p.name for p in folder.iterdir())}


if __name__ == "__main__":
    scenario, where, size = sys.argv[1:4]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", where], check=True)
    run = {"full": _full, "read-only": _read_only}[scenario]
    print(json.dumps(run(Path(where))))
