"""When an update may not start: a sale is being scanned, or the journal is draining a large backlog.

Restarting the agent takes a few seconds during which scans wait; in the middle of a customer's basket that
is a visible hiccup at the till, so an update waits for a quiet till. Two signs of a sale in progress, both
read without the agent's help so they work while it is wedged:
- the newest journal entry is younger than `quiet_s` (entries stay until the cloud acknowledges them);
- the `busy` marker in the data folder was touched less than `quiet_s` ago. `ActivityMarker`, a core loop
  listener, touches it on every scan, so a scan is seen even after its entry was acknowledged and deleted.
A backlog of unacknowledged entries larger than `max_backlog` also defers the update: the restart would
interrupt the drain, and a release that never reconnects would strand it (it stays safe in the store).
The store is opened read-only (`store/peek.py`), never through the agent's Store, so nothing is migrated.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from firmware_agent.store.peek import read_only
from firmware_agent.updates.errors import UpdateDeferred

if TYPE_CHECKING:
    from firmware_agent.core import Applied

log = logging.getLogger(__name__)

DB_NAME = "tillbridge.db"  # firmware_agent.agent.DB_NAME, not imported: that module pulls in the devices
BUSY_MARKER = "busy"


@dataclass(frozen=True)
class GuardPolicy:
    quiet_s: float = 120.0
    max_backlog: int = 1000


@dataclass(frozen=True)
class JournalState:
    backlog: int
    newest_ts: float | None  # wall-clock seconds of the newest entry still in the journal


def check(data_dir: Path, policy: GuardPolicy, now: Callable[[], float] = time.time) -> None:
    """Return quietly when an update may start; UpdateDeferred naming the reason otherwise."""
    wall = now()
    busy = last_activity(data_dir)
    if busy is not None and wall - busy < policy.quiet_s:
        raise UpdateDeferred(
            f"a sale is being scanned (last scan {wall - busy:.0f} s ago, {data_dir / BUSY_MARKER}); "
            f"updates wait for {policy.quiet_s:.0f} s of quiet"
        )
    journal = read_journal(data_dir / DB_NAME)
    if journal.newest_ts is not None and wall - journal.newest_ts < policy.quiet_s:
        raise UpdateDeferred(
            f"a sale is being scanned (newest journal entry {wall - journal.newest_ts:.0f} s old); "
            f"updates wait for {policy.quiet_s:.0f} s of quiet"
        )
    if journal.backlog > policy.max_backlog:
        raise UpdateDeferred(
            f"the journal holds {journal.backlog} entries the cloud has not acknowledged "
            f"(more than {policy.max_backlog}); updates wait until it has drained"
        )


def last_activity(data_dir: Path) -> float | None:
    try:
        return (data_dir / BUSY_MARKER).stat().st_mtime
    except FileNotFoundError:
        return None


def read_journal(db: Path) -> JournalState:
    """Backlog and newest entry time; an absent store (a box that never started) has neither."""
    if not db.exists():
        return JournalState(0, None)
    try:
        with read_only(db) as store:
            count, newest = store.journal()
    except sqlite3.Error as exc:
        if "no such table" in str(exc):
            return JournalState(0, None)
        raise UpdateDeferred(f"{db}: cannot read the journal ({exc}); not updating blind") from exc
    return JournalState(count, _parse_ts(newest) if newest else None)


def schema_version(db: Path) -> int | None:
    """The store's `PRAGMA user_version`, or None when there is no readable store."""
    if not db.exists():
        return None
    try:
        with read_only(db) as store:
            return store.schema_version()
    except sqlite3.Error:
        return None


def _parse_ts(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None


class ActivityMarker:
    """A core-loop listener: touches `<data_dir>/busy` on every scan, at most once per `every_s`.

    Only the file's time changes, so the cost is one metadata write per scan burst. Wire it with
    `AgentSettings(listeners=[ActivityMarker(data_dir), ...])`.
    """

    def __init__(self, data_dir: Path, every_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.path = data_dir / BUSY_MARKER
        self.every_s = every_s
        self._clock = clock
        self._last: float | None = None

    def __call__(self, applied: Applied) -> None:
        if applied.barcode is None and not applied.records:
            return
        now = self._clock()
        if self._last is not None and now - self._last < self.every_s:
            return
        self._last = now
        try:
            self.path.touch()
        except OSError as exc:  # a marker must never stop a sale
            log.warning("cannot touch %s: %s", self.path, exc)
