"""Opening the store safely, and the operations the core loop performs on it.

Durability: WAL with `synchronous=FULL`, so a transaction that has committed survives `kill -9` and power
loss. The core loop is the only writer; everything a scan changes (stock, journal, count tally) is written
in the same transaction, so a crash leaves all of it or none of it.

A database that SQLite cannot read is moved aside, never deleted: the operator (or support) can still try to
recover it, and the fresh database starts with a `store_recovered` journal entry that marks the loss window.

The store has an `epoch` that names its journal stream. A store that was deleted, replaced by another file,
restored from an older copy (told by `EpochMark`) or recovered from corruption starts a new epoch, with a
`store_recovered` entry and the `store_lost` setting saying what was lost, so the cloud and the box's
telemetry both report it. Seqs go on above every seq handed out before (`SeqFloor`) all the same.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firmware_agent.errors import (
    DiskFullError,
    StoreError,
    StoreFullError,
    StoreTooNewError,
    StoreUnavailable,
)
from firmware_agent.store.epochmark import EpochMark, mark_path
from firmware_agent.store.migrations import LATEST, MIGRATIONS, READABLE_FROM
from firmware_agent.store.records import JournalRecord, PrintJobRecord, ProductRecord
from firmware_agent.store.seqfloor import SeqFloor
from wire import LEGACY_EPOCH, SPELLING, EntryBody, StoreRecoveredEntry, spell_data

log = logging.getLogger(__name__)


sql_log = logging.getLogger("firmware_agent.store.sql")
Run = Callable[..., sqlite3.Cursor]


def _logged(run: Run) -> Run:
    """Every statement is logged at debug level, its parameters never: they may be a pickup key, a password
    in a setting or a customer's name (issue 13, a low finding)."""

    def logged(statement: str, params: Any = ()) -> sqlite3.Cursor:
        if sql_log.isEnabledFor(logging.DEBUG):
            sql_log.debug("%s", statement)
        return run(statement, params)

    return logged


EPOCH_KEY = "epoch"
LOST_KEY = "store_lost"
PRAGMAS = {"journal_mode": "wal", "synchronous": "full", "foreign_keys": 1, "busy_timeout": 5000}
PRINT_COLUMNS = "id, kind, payload, created_at, expires_at, state, attempts, reprint, last_error"
PRINT_FINISHED = ("done", "expired", "withdrawn")  # a job in any other state may still print
PRINT_PRUNE_BATCH = 20
"""Finished jobs let go of per job queued: more than one, so the table shrinks back after a busy day;
few, and found by the (state, id) index, so queueing a ticket stays quick whatever piled up."""
ROW_OVERHEAD = 24  # bytes counted per journal row on top of its text, for the size bound


@dataclass(frozen=True)
class StoreLimits:
    journal_max_bytes: int = 256 * 1024 * 1024
    journal_warn_ratio: float = 0.8
    print_keep_s: float = 2 * 86400.0
    """How long a finished print job stays after it was queued: support's `print.reprint` by job id and
    the button's "last ticket again" want recent ones; an order's tickets reprint from the order, kept
    `[orders] keep_days` (store/orders.py)."""


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    """The box's SQLite database. Not thread-safe by design: the core loop owns it.

    The store package owns every statement: modules of `firmware_agent.store` run theirs through `sql` and
    `sql_many` (plain `sqlite3`, which the hot path needs; no ORM), callers elsewhere call named functions.
    tests/test_store_owns_sql.py fails when a statement shows up outside the package.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, limits: StoreLimits, floor: SeqFloor) -> None:
        self._conn = conn
        self.sql = self._sql = _logged(conn.execute)
        self.sql_many = _logged(conn.executemany)
        self._depth = 0
        self.path = path
        self.limits = limits
        self._floor = floor
        self._mark = EpochMark(mark_path(path))
        self._last_seq = self._scalar("SELECT seq FROM sqlite_sequence WHERE name = 'journal'") or 0
        self._journal_bytes = self._scalar(
            f"SELECT COALESCE(SUM(LENGTH(data) + LENGTH(kind) + LENGTH(ts) + {ROW_OVERHEAD}), 0) FROM journal"
        )
        self.epoch = self.setting(EPOCH_KEY) or self._first_epoch()

    # ---- opening -------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, limits: StoreLimits | None = None) -> Store:
        """Open (creating, migrating or recovering as needed) the store at `path`."""
        limits = limits or StoreLimits()
        path.parent.mkdir(parents=True, exist_ok=True)
        floor = SeqFloor(path.with_name(path.name + ".seq"))
        existed = path.exists() and path.stat().st_size > 0
        try:
            conn = _connect_checked(path)
        except _Corrupt as exc:
            return cls._recover(path, limits, floor, reason=str(exc))
        _migrate(conn, path)
        store = cls(conn, path, limits, floor)
        store._check_identity(existed)
        return store

    @classmethod
    def _recover(cls, path: Path, limits: StoreLimits, floor: SeqFloor, reason: str) -> Store:
        moved = _move_aside(path)
        lost_after = _best_effort_last_seq(moved)
        log.critical(
            "store %s is corrupt (%s): moved aside to %s; starting a fresh store. Journal entries after "
            "seq %s that were not yet acknowledged by the cloud may be lost.",
            path,
            reason,
            moved,
            lost_after,
        )
        conn = _connect_checked(path)
        _migrate(conn, path)
        store = cls(conn, path, limits, floor)
        # 0 when the old database reveals nothing: then every unacknowledged entry may be lost
        store._new_stream(f"the store was corrupt ({reason})", str(moved), lost_after or 0)
        return store

    # ---- identity ------------------------------------------------------------------------------------

    def _first_epoch(self) -> str:
        """A store whose schema came from a newer release that had no epoch yet: one is made now."""
        used = self._last_seq > 0 or self.setting("boot_counter") is not None
        epoch = LEGACY_EPOCH if used else secrets.token_hex(8)
        self._sql("INSERT OR IGNORE INTO setting (key, value) VALUES (?, ?)", (EPOCH_KEY, epoch))
        return epoch

    def _check_identity(self, existed: bool) -> None:
        """Starts a new epoch if this store is not the one the box last used (see `EpochMark`)."""
        mark = self._mark.read()
        if not existed and (mark is not None or self._floor.value > 0):
            lost_after = mark.acked if mark is not None else 0
            self._new_stream(
                "the store was missing at start (deleted?)", "nowhere (it was missing)", lost_after
            )
        elif mark is not None and mark.epoch != self.epoch:
            self._replace(f"the store file was replaced (epoch {self.epoch}, the box's was {mark.epoch})", 0)
        elif mark is not None and (self._last_seq < mark.acked or self._first_unacked() <= mark.acked):
            self._replace(
                f"the store is an older copy (it ends at seq {self._last_seq} or still holds entries the "
                f"cloud acknowledged up to seq {mark.acked})",
                mark.acked,
            )
        elif mark is None:
            self._mark.write(self.epoch, self._first_unacked() - 1)

    def _first_unacked(self) -> int:
        first = self._scalar("SELECT MIN(seq) FROM journal")
        return int(first) if first is not None else self._last_seq + 1

    def _replace(self, why: str, lost_after: int) -> None:
        """An existing store that is not the box's last one: a copy goes aside with its unacknowledged
        entries (which may be replays of entries the cloud has applied), and the journal starts a new epoch.
        """
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.replaced-{stamp}")
        self._sql("VACUUM INTO ?", (str(aside),))
        held = self.journal_count()
        with self.transaction():
            self._sql("DELETE FROM journal")
            self._journal_bytes = 0
        self._new_stream(f"{why}; its {held} unacknowledged entries were set aside", str(aside), lost_after)

    def _new_stream(self, why: str, moved_to: str, lost_after: int) -> None:
        """A new epoch, seqs above any handed out before, and a `store_recovered` entry marking the loss."""
        self.epoch = secrets.token_hex(8)
        resume_after = max(self._floor.value, self._last_seq, lost_after)
        lost = f"{why}: entries after seq {lost_after} that the cloud had not acknowledged are lost"
        log.critical("store %s: %s; a new journal stream starts (epoch %s)", self.path, lost, self.epoch)
        with self.transaction():
            self.set_setting(EPOCH_KEY, self.epoch)
            self.set_setting(LOST_KEY, lost)
            moved = self._sql("UPDATE sqlite_sequence SET seq = ? WHERE name = 'journal'", (resume_after,))
            if not moved.rowcount:
                self._sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('journal', ?)", (resume_after,))
            self._last_seq = resume_after
            self.append(
                StoreRecoveredEntry(moved_to=moved_to, lost_after_seq=lost_after, reason=why[:200]),
                enforce_limit=False,
            )
        self._mark.write(self.epoch, resume_after)

    def note_pruned(self, freed_bytes: int) -> None:
        """The link's `Outbox` deleted acknowledged entries of `freed_bytes`: the journal's bound follows."""
        self._journal_bytes = max(0, self._journal_bytes - freed_bytes)

    def note_acked(self, seq: int) -> None:
        """After the store committed `forget_upto(seq)`: the mark follows, so an older copy is told apart."""
        self._mark.write(self.epoch, seq)

    @property
    def store_lost(self) -> str | None:
        """What this store's epoch replaced and lost, for telemetry; None for a box's first store."""
        return self.setting(LOST_KEY)

    def close(self) -> None:
        self._conn.close()  # closing twice is harmless

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work: everything inside commits together or not at all.

        Nested calls are savepoints, so one bad event in a group commit rolls back alone.
        """
        saved = (self._last_seq, self._journal_bytes)
        depth = self._depth
        begin, commit, rollback = (
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
            if depth == 0
            else (f"SAVEPOINT s{depth}", f"RELEASE s{depth}", f"ROLLBACK TO s{depth}")
        )
        self._sql(begin)
        self._depth += 1
        try:
            yield
            self._sql(commit)  # inside the try: a commit that fails (a full disk) rolls back too
        except BaseException as exc:
            self._last_seq, self._journal_bytes = saved
            with suppress(sqlite3.Error):  # a failed COMMIT may have ended the transaction already
                self._sql(rollback)
                if depth:
                    self._sql(commit)  # a savepoint rolled back to still has to be released
            if _disk_full(exc):
                raise DiskFullError(f"the data partition of {self.path} is full: nothing recorded") from exc
            raise
        finally:
            self._depth = depth

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._sql(sql, params).fetchone()
        return None if row is None else row[0]

    # ---- catalog -------------------------------------------------------------------------------------

    def find_product(self, keys: Sequence[str]) -> ProductRecord | None:
        """The product behind the first of `keys` (barcode forms, most specific first) that is known."""
        if not keys:
            return None
        marks = ",".join("?" * len(keys))
        rows = self._sql(
            "SELECT b.code, p.sku, p.name, p.price_cents, p.unit, p.stock FROM barcode b "
            f"JOIN product p ON p.sku = b.sku WHERE b.code IN ({marks})",
            tuple(keys),
        ).fetchall()
        by_code = {row[0]: ProductRecord(*row[1:]) for row in rows}
        return next((by_code[k] for k in keys if k in by_code), None)

    def product(self, sku: str) -> ProductRecord | None:
        row = self._sql(
            "SELECT sku, name, price_cents, unit, stock FROM product WHERE sku = ?", (sku,)
        ).fetchone()
        return None if row is None else ProductRecord(*row)

    def product_named(self, name: str, min_prefix: int = 6) -> ProductRecord | None:
        """The product called `name` (case ignored); else the only one whose name starts with it, when it
        is at least `min_prefix` characters (receipts print names shortened). None when not one product."""
        columns = "SELECT sku, name, price_cents, unit, stock FROM product"
        wanted = name.strip()
        rows = self._sql(f"{columns} WHERE name = ? COLLATE NOCASE LIMIT 2", (wanted,)).fetchall()
        if not rows and len(wanted) >= min_prefix:
            pattern = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._sql(f"{columns} WHERE name LIKE ? ESCAPE '\\' LIMIT 2", (pattern,)).fetchall()
        return ProductRecord(*rows[0]) if len(rows) == 1 else None

    def search_products(self, text: str, limit: int = 20) -> list[tuple[ProductRecord, str]]:
        """Products whose name holds `text` (case ignored), or whose sku or a barcode is `text`, by name,
        each with its first barcode ("" without one): the box page's catalog search and phone orders.
        Control characters are ignored (SQLite's LIKE would end the pattern at a NUL and match everything)."""
        wanted = "".join(c for c in text if c.isprintable()).strip()
        if not wanted:
            return []
        pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._sql(
            "SELECT p.sku, p.name, p.price_cents, p.unit, p.stock, "
            "(SELECT MIN(code) FROM barcode WHERE sku = p.sku) FROM product p "
            "WHERE p.name LIKE ? ESCAPE '\\' OR p.sku = ? "
            "OR p.sku IN (SELECT sku FROM barcode WHERE code = ?) "
            "ORDER BY p.name COLLATE NOCASE LIMIT ?",
            (pattern, wanted, wanted, limit),
        ).fetchall()
        return [(ProductRecord(*row[:5]), row[5] or "") for row in rows]

    def change_stock(self, sku: str, delta: int) -> int:
        """Add `delta` to a product's stock and return the new stock (negative is allowed: the till sells)."""
        row = self._sql(
            "UPDATE product SET stock = stock + ? WHERE sku = ? RETURNING stock", (delta, sku)
        ).fetchone()
        if row is None:
            raise StoreError(f"product {sku!r} is not in the catalog")
        return int(row[0])

    def upsert_products(self, products: Iterable[tuple[ProductRecord, Sequence[str]]]) -> int:
        """Insert or update products with their barcodes; the catalog's stock replaces local stock.
        A product given without barcodes keeps the ones the box has (many shops keep none).

        Plain `executemany`: a 50,000-product snapshot is one of the few bulk jobs on the box.
        """
        items = list(products)
        self.sql_many(
            "INSERT INTO product (sku, name, price_cents, unit, stock) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents, "
            "unit = excluded.unit, stock = excluded.stock",
            [(p.sku, p.name, p.price_cents, p.unit, p.stock) for p, _ in items],
        )
        self.sql_many("DELETE FROM barcode WHERE sku = ?", [(p.sku,) for p, codes in items if codes])
        self.sql_many(
            "INSERT OR REPLACE INTO barcode (code, sku) VALUES (?, ?)",
            [(code, p.sku) for p, codes in items for code in codes],
        )
        return len(items)

    def product_count(self) -> int:
        return int(self._scalar("SELECT COUNT(*) FROM product"))

    # ---- journal -------------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return int(self._last_seq)

    @property
    def journal_bytes(self) -> int:
        return int(self._journal_bytes)

    def journal_level(self) -> str:
        """ "ok", "warning" (past the warning ratio: time to look at the link) or "full"."""
        used = self._journal_bytes / self.limits.journal_max_bytes
        if used >= 1:
            return "full"
        return "warning" if used >= self.limits.journal_warn_ratio else "ok"

    def append(self, body: EntryBody, *, enforce_limit: bool = True) -> JournalRecord:
        """Record one business fact. Call inside `transaction()` with the stock change it belongs to."""
        ts = utc_now_iso()
        kind, data = body.KIND.value, body.to_data()
        text, checked = spell_data(kind, ts, data)  # checked once here, not at every send
        size = len(text) + len(kind) + len(ts) + ROW_OVERHEAD
        if enforce_limit and self._journal_bytes + size > self.limits.journal_max_bytes:
            raise StoreFullError(
                f"journal is full ({self._journal_bytes} of {self.limits.journal_max_bytes} bytes): "
                "the cloud has not acknowledged entries for too long"
            )
        self._floor.ensure_above(self._last_seq + 1)
        cursor = self._sql(
            "INSERT INTO journal (kind, ts, data, spelled) VALUES (?, ?, ?, ?)",
            (kind, ts, text, SPELLING if checked else None),
        )
        seq: int = cursor.lastrowid  # type: ignore[assignment]  # an INSERT always sets it
        self._last_seq = seq
        self._journal_bytes += size
        return JournalRecord(seq, kind, ts, data)

    def journal_after(self, seq: int, limit: int) -> list[JournalRecord]:
        rows = self._sql(
            "SELECT seq, kind, ts, data FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [JournalRecord(s, k, t, json.loads(d)) for s, k, t, d in rows]

    def journal_count(self) -> int:
        return int(self._scalar("SELECT COUNT(*) FROM journal"))

    def forget_upto(self, seq: int) -> int:
        """Delete entries the cloud has acknowledged (seq <= `seq`); returns how many went."""
        freed = self._scalar(
            f"SELECT COALESCE(SUM(LENGTH(data) + LENGTH(kind) + LENGTH(ts) + {ROW_OVERHEAD}), 0) "
            "FROM journal WHERE seq <= ?",
            (seq,),
        )
        cursor = self._sql("DELETE FROM journal WHERE seq <= ?", (seq,))
        self._journal_bytes -= int(freed)
        return int(cursor.rowcount)

    # ---- settings, tallies, de-duplication -----------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self._sql("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._sql("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (key, value))

    def add_to_tally(self, sku: str, qty: int) -> int:
        """Add `qty` to the running stock-count tally of `sku` and return the new tally."""
        row = self._sql(
            "INSERT INTO count_tally (sku, counted) VALUES (?, ?) "
            "ON CONFLICT (sku) DO UPDATE SET counted = counted + excluded.counted RETURNING counted",
            (sku, qty),
        ).fetchone()
        return int(row[0])

    def clear_tallies(self) -> None:
        self._sql("DELETE FROM count_tally")

    def first_time_seen(self, channel: str, ref: str) -> bool:
        """Remember an inbound id (an order, a command); False when it was seen before."""
        cursor = self._sql(
            "INSERT OR IGNORE INTO inbound_seen (channel, ref, seen_at) VALUES (?, ?, ?)",
            (channel, ref, time.time()),
        )
        return bool(cursor.rowcount)

    # ---- print queue ---------------------------------------------------------------------------------

    def enqueue_print(self, kind: str, payload: bytes, ttl_s: float, *, reprint: bool = False) -> int:
        """Queues a ticket; in the same transaction, lets go of a few jobs finished long ago, so the queue
        on the SD card holds the last `print_keep_s` of jobs, not every ticket the box ever printed."""
        now = time.time()
        self.prune_print_jobs(now - self.limits.print_keep_s)
        cursor = self._sql(
            "INSERT INTO print_job (kind, payload, created_at, expires_at, reprint) VALUES (?, ?, ?, ?, ?)",
            (kind, payload, now, now + ttl_s, reprint),
        )
        return int(cursor.lastrowid or 0)

    def prune_print_jobs(self, before: float, limit: int = PRINT_PRUNE_BATCH) -> int:
        """Deletes up to `limit` finished jobs queued before `before` (epoch seconds), oldest first; returns
        how many. Only the oldest `limit` of each finished state are looked at (ids grow with time), so the
        work is bounded. The last job printed stays whatever its age: the button's short press prints it
        again. Order tickets reprint from their order (`order_ticket`), not from here.

        A job still queued whose time ran out before `before` goes too: only a printer that serves its kind
        marks it expired, and a ticket for a station with no printer on this box stayed queued for ever."""
        last_done = self._scalar("SELECT max(id) FROM print_job WHERE state = 'done'")
        old: list[int] = []
        for state in PRINT_FINISHED:
            rows = self._sql(
                "SELECT id, created_at FROM print_job WHERE state = ? ORDER BY id LIMIT ?", (state, limit)
            ).fetchall()
            old += [job for job, created in rows if created < before and job != last_done]
        unprinted = self._sql(
            "SELECT id, expires_at FROM print_job WHERE state = 'queued' ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        old += [job for job, expires in unprinted if expires < before]
        gone = sorted(old)[:limit]
        if gone:
            self._sql(f"DELETE FROM print_job WHERE id IN ({','.join('?' * len(gone))})", gone)
        return len(gone)

    def print_jobs(self, states: Sequence[str]) -> list[PrintJobRecord]:
        marks = ",".join("?" * len(states))
        rows = self._sql(
            f"SELECT {PRINT_COLUMNS} FROM print_job WHERE state IN ({marks}) ORDER BY id", tuple(states)
        ).fetchall()
        return [
            PrintJobRecord(id_, kind, bytes(payload), created, expires, state, attempts, bool(reprint), error)
            for id_, kind, payload, created, expires, state, attempts, reprint, error in rows
        ]

    def has_print_job(self, job_id: int) -> bool:
        return self._sql("SELECT 1 FROM print_job WHERE id = ?", (job_id,)).fetchone() is not None

    def set_print_state(self, job_id: int, state: str, error: str | None = None) -> None:
        self._sql(
            "UPDATE print_job SET state = ?, last_error = ?, attempts = attempts + ? WHERE id = ?",
            (state, error, 1 if state == "printing" else 0, job_id),
        )

    def mark_reprint(self, job_id: int) -> None:
        self._sql("UPDATE print_job SET state = 'queued', reprint = 1 WHERE id = ?", (job_id,))


# ---- helpers for opening -----------------------------------------------------------------------------


class _Corrupt(Exception):
    pass


def _disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL or the kernel's ENOSPC, however sqlite3 wrapped it."""
    for error in (exc, exc.__cause__, exc.__context__):
        if getattr(error, "sqlite_errorname", None) == "SQLITE_FULL":
            return True
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
    return False


def _content_error(exc: BaseException) -> bool:
    """Whether SQLite refused the file for what is in it (corrupt, not a database), as opposed to where it
    is (read-only, no permission, cannot create the WAL): only the first may be moved aside."""
    names = {getattr(e, "sqlite_errorname", None) for e in (exc, exc.__cause__, exc.__context__)}
    return bool(names & {"SQLITE_CORRUPT", "SQLITE_NOTADB"}) or not names - {None}


def _unavailable(path: Path, exc: BaseException) -> StoreUnavailable:
    folder = path.parent
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        why = f"the data folder {folder} is on a read-only file system (remounted read-only after errors?)"
    elif not os.access(folder, os.W_OK):
        why = f"the data folder {folder} is read-only for this user (owner and mode?)"
    else:
        why = f"{path} cannot be opened"
    return StoreUnavailable(f"{why}: {exc}; the store is left as it is")


def _connect_checked(path: Path) -> sqlite3.Connection:
    # One connection shared by whichever thread owns the store (the core loop), not one per thread.
    # Autocommit (`isolation_level=None`): `Store.transaction` says where each transaction begins and ends.
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        for name, value in PRAGMAS.items():
            conn.execute(f"PRAGMA {name} = {value}")
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        if not _content_error(exc):
            raise _unavailable(path, exc) from exc
        raise _Corrupt(str(exc)) from exc
    if verdict != "ok":
        conn.close()
        raise _Corrupt(f"quick_check: {verdict}")
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    sql = _logged(conn.execute)
    version = sql("PRAGMA user_version").fetchone()[0]
    if version > LATEST:
        _accept_newer(conn, path, version)
        return
    for number in range(version + 1, LATEST + 1):
        sql("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number - 1]):
                sql(statement)
            sql(f"PRAGMA user_version = {number}")
            sql(
                "INSERT OR REPLACE INTO setting (key, value) VALUES ('readable_from', ?)",
                (str(READABLE_FROM[number - 1]),),
            )
            sql("COMMIT")
        except BaseException:
            sql("ROLLBACK")
            raise
        log.info("store %s migrated to schema version %d", path, number)


def _accept_newer(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """A newer release migrated this store (and was rolled back): use it as it is if it says we can."""
    row = conn.execute("SELECT value FROM setting WHERE key = 'readable_from'").fetchone()
    readable_from = int(row[0]) if row else version
    if readable_from > LATEST:
        conn.close()
        raise StoreTooNewError(
            f"{path}: schema version {version} needs a release that reads schema {readable_from} or newer; "
            f"this one reads up to {LATEST} — refusing to touch it, install the newer release again"
        )
    log.warning(
        "store %s has schema version %d from a newer release; it stays readable by %d", path, version, LATEST
    )


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(path) + suffix)
        if source.exists():
            source.replace(Path(str(target) + suffix))
    return target


def _best_effort_last_seq(moved: Path) -> int | None:
    """The last seq a corrupt database still reveals, if any: the start of the loss window."""
    try:
        with sqlite3.connect(f"file:{moved}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else int(row[0])
