"""Opening the bridge's database from a URL, its schema, and the two locks that make workers safe together.

PostgreSQL (`postgresql://user:password@host:port/database`) is the production store: any number of worker
processes share it. A box's journal is applied under `pg_advisory_xact_lock` on the box (held until that
transaction ends, so two workers never apply the same box at once), and one worker at a time drives a shop,
under a session-level `pg_try_advisory_lock` that PostgreSQL releases by itself if the worker dies.

SQLite (`sqlite:///path`) is the embedded default for one worker process: WAL, `synchronous=FULL`, every
write transaction `BEGIN IMMEDIATE` (one writer at a time is the per-box lock), and an in-process lock per
shop. Two processes on one SQLite file would still be correct for journals, but would drive a shop twice.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.config import mask_url
from cloud_bridge.errors import BridgeDatabaseError

log = logging.getLogger(__name__)

T = TypeVar("T")
SNAPSHOT_ATTEMPTS = 20

SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "full", "busy_timeout": 30000, "foreign_keys": 1}


class Database:
    """The bridge's database: one peewee database (a connection per thread) plus its locking rules."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = connect(url)
        self.is_postgres = isinstance(self.db, pw.PostgresqlDatabase)
        self._shop_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def open(self) -> Database:
        """Connects, creates missing tables, refuses a schema from a newer release."""
        m.database.initialize(self.db)
        try:
            with self.db.connection_context():
                self._add_columns()  # first: a new index may be on a new column
                self._widen_times()
                had_balances = self.db.table_exists("balance")
                had_marks = self.db.table_exists("movement_mark")
                self.db.create_tables(m.MODELS, safe=True)
                if not had_balances:  # a database from before running balances: built once, from history
                    with self.write():
                        ledger.rebuild_balances()
                if not had_marks:  # from before the levels watermark: it starts at each shop's newest
                    with self.write():
                        ledger.start_marks()
                # the movements no push had stamped: the watermark finds those, and each insert paid for it
                self.db.execute_sql('DROP INDEX IF EXISTS "movement_unsent"')
                self._check_schema()
        except pw.OperationalError as exc:
            raise BridgeDatabaseError(f"database {mask_url(self.url)}: cannot open: {exc}") from exc
        return self

    def _add_columns(self) -> None:
        """Columns a newer release added to an existing table (always nullable or with a default)."""
        migrator = SchemaMigrator.from_database(self.db)
        for model in m.MODELS:
            table = model._meta.table_name
            if not self.db.table_exists(table):
                continue
            have = {column.name for column in self.db.get_columns(table)}
            for field in model._meta.sorted_fields:
                if field.column_name not in have:
                    log.info("database %s: adding column %s.%s", mask_url(self.url), table, field.column_name)
                    migrate(migrator.add_column(table, field.column_name, field))

    def _widen_times(self) -> None:
        """Every time is a DoubleField: peewee's FloatField is a 4-byte REAL on PostgreSQL, where a Unix
        time is off by up to a minute. Tables an older release made with REAL columns are widened.
        """
        if not self.is_postgres:  # SQLite's REAL is 8 bytes already
            return
        for model in m.MODELS:
            table = model._meta.table_name
            narrow = {
                row[0]
                for row in self.db.execute_sql(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = %s AND data_type = 'real'",
                    (table,),
                )
            }
            for field in model._meta.sorted_fields:
                if field.column_name in narrow and isinstance(field, pw.DoubleField):
                    log.info("database %s: widening %s.%s to double precision", mask_url(self.url), table,
                             field.column_name)  # fmt: skip
                    self.db.execute_sql(
                        f'ALTER TABLE "{table}" ALTER COLUMN "{field.column_name}" TYPE double precision'
                    )

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A write transaction whose reads all see one snapshot (REPEATABLE READ on PostgreSQL; SQLite's
        write lock already gives that), for work that must read several tables consistently.
        """
        with self.write():
            if self.is_postgres:
                self.db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield

    def in_snapshot(
        self, work: Callable[[], T], *, one_at_a_time: str, attempts: int = SNAPSHOT_ATTEMPTS
    ) -> T:
        """`work()` in a `snapshot()` transaction, one at a time per `one_at_a_time` name across workers
        (a session advisory lock on PostgreSQL, taken before the snapshot so it is not stale), and run again
        when PostgreSQL refuses to commit it because another transaction changed what it read.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self._named_lock(one_at_a_time), self.snapshot():
                    return work()
            except pw.OperationalError as exc:
                if attempt == attempts or "could not serialize" not in str(exc):
                    raise
                log.info("database %s: retrying after a serialization failure", mask_url(self.url))
                time.sleep(random.uniform(0, 0.01 * attempt))  # the other transaction commits meanwhile
        raise AssertionError("unreachable")

    @contextmanager
    def _named_lock(self, name: str) -> Iterator[None]:
        if not self.is_postgres:  # SQLite's write lock already serialises every write transaction
            yield
            return
        key = lock_key("named", name)
        self.db.execute_sql("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            self.db.execute_sql("SELECT pg_advisory_unlock(%s)", (key,))

    def _check_schema(self) -> None:
        row, _ = m.Meta.get_or_create(key="schema", defaults={"value": str(m.SCHEMA_VERSION)})
        if int(row.value) > m.SCHEMA_VERSION:
            raise BridgeDatabaseError(
                f"database {mask_url(self.url)}: schema {row.value} was written by a newer bridge "
                f"(this one knows {m.SCHEMA_VERSION}); refusing to touch it"
            )

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction; on SQLite it takes the write lock up front (no upgrade deadlocks)."""
        with self.db.atomic("IMMEDIATE") if not self.is_postgres else self.db.atomic():
            yield

    @contextmanager
    def box_transaction(self, shop: str, box: str) -> Iterator[None]:
        """A write transaction holding the box's lock until it ends."""
        with self.write():
            if self.is_postgres:
                self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (lock_key("box", shop, box),))
            yield

    @contextmanager
    def boxes_transaction(self, boxes: Iterable[tuple[str, str]]) -> Iterator[None]:
        """A write transaction holding the locks of many boxes (shop, box) until it ends.

        The locks are taken in one statement, in the order of their keys, so two workers each taking a
        group of boxes always take them in the same order and never wait on each other in a cycle.
        """
        with self.write():
            if self.is_postgres:
                keys = sorted({lock_key("box", shop, box) for shop, box in boxes})
                self.db.execute_sql(
                    "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n) "
                    "ORDER BY n",
                    (keys,),
                ).fetchall()
            yield

    @contextmanager
    def shop_lock(self, shop: str) -> Iterator[bool]:
        """Yields True if this thread now drives `shop`, False if another worker (or thread) does."""
        if self.is_postgres:
            key = lock_key("shop", shop)
            got = bool(self.db.execute_sql("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0])
            try:
                yield got
            finally:
                if got:
                    self.db.execute_sql("SELECT pg_advisory_unlock(%s)", (key,))
            return
        with self._guard:
            lock = self._shop_locks.setdefault(shop, threading.Lock())
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit advisory lock key for a name (the same in every worker process)."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def check_reachable(url: str) -> None:
    """Raises `BridgeDatabaseError` where `Database(url).open()` would fail; creates and changes nothing.

    `bridge check-config` runs it, so an installer learns of a missing directory or a wrong password before
    the service starts, not from its crash loop.
    """
    shown = mask_url(url)
    if urlsplit(url).scheme == "sqlite":
        path = Path(url[len("sqlite:///") :])
        target, need = (path, os.R_OK | os.W_OK) if path.exists() else (path.parent, os.W_OK | os.X_OK)
        if not target.exists():
            raise BridgeDatabaseError(f"database {shown}: the directory {target} does not exist")
        if not os.access(target, need):
            raise BridgeDatabaseError(f"database {shown}: {target} is not writable by this user")
        return
    db = connect(url)
    db.connect_params["connect_timeout"] = 5
    try:
        db.connect()
        db.execute_sql("SELECT 1")
    except pw.OperationalError as exc:
        problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BridgeDatabaseError(f"database {shown}: cannot connect: {problem}") from exc
    finally:
        db.close()


def connect(url: str) -> Any:
    """A peewee database for `postgresql://…` or `sqlite:///path` (not connected yet)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///") :]
        return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=30)
    if parts.scheme in ("postgresql", "postgres"):
        if importlib.util.find_spec("psycopg2") is None:  # peewee needs it; say so plainly
            raise BridgeDatabaseError("PostgreSQL needs the psycopg2 driver: pip install psycopg2-binary")
        return pw.PostgresqlDatabase(
            parts.path.lstrip("/"),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=parts.port or 5432,
            autoconnect=True,
        )
    raise BridgeDatabaseError(f"database {mask_url(url)}: expected sqlite:///PATH or postgresql://…")
