"""One worker per SQLite file: a lock file beside the database that a second worker cannot take.

SQLite serialises writes, so two worker processes on one file apply every journal correctly, but each drives
every shop: each writes the same sale to the shop, and the shop's stock goes down twice. PostgreSQL workers
share a shop through an advisory lock; SQLite has no such lock across processes, so a SQLite bridge runs
one worker, and this lock makes that a rule instead of advice. It is `flock` on `<database>.worker`, which
the kernel releases when the process dies (kill -9 included), so a crashed worker never blocks the next
one; the file says which worker holds it, for the error the second one gives.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from cloud_bridge.errors import BridgeDatabaseError


class WorkerLock:
    """Held by the one worker running on a SQLite file, from `acquire` to `release`."""

    def __init__(self, database: Path, worker_id: str) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".worker")
        self.worker_id = worker_id
        self._fd: int | None = None

    def acquire(self) -> WorkerLock:
        """Takes the lock, or raises `BridgeDatabaseError` naming the file and the worker that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise BridgeDatabaseError(
                f"database {self.database}: another bridge worker already runs on this SQLite file "
                f"({holder}); a SQLite bridge runs one worker (two would write every sale to the shops "
                "twice). Stop the other worker, or use PostgreSQL to run several."
            ) from None
        host = socket.gethostname()
        me = {"worker": self.worker_id, "pid": os.getpid(), "host": host, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL; None for PostgreSQL or an in-memory database."""
    if not url.startswith("sqlite://"):
        return None
    path = url[len("sqlite:///") :]
    return Path(path) if path and path != ":memory:" else None


def _holder(fd: int) -> str:
    """Who holds the lock, as its file says (it may not have written it yet)."""
    try:
        raw = os.pread(fd, 4096, 0)
        who = json.loads(raw) if raw else None
    except (OSError, ValueError):
        who = None
    if not isinstance(who, dict):
        return "a worker that has not said its name yet"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(who.get("since", 0))))
    return f"worker {who.get('worker')!r}, pid {who.get('pid')} on {who.get('host')}, since {since}"


__all__ = ["WorkerLock", "sqlite_path"]
