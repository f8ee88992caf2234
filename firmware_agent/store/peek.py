"""Reading a box's store from another process, read-only: the updater (as root), the command line, the demo.

Never through `Store`, which would migrate the file or move it aside; a reader here changes nothing. The
schema may not run functions with side effects (`trusted_schema = OFF`: the agent, or whoever could write
its data folder, could have put views or triggers in it), and WAL mode lets the agent keep writing meanwhile.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@contextmanager
def read_only(path: Path, timeout_s: float = 5.0) -> Iterator[Peek]:
    """The store at `path`, read-only. `sqlite3.OperationalError` when there is none."""
    if not path.exists():  # mode=ro would not create it, but say so plainly
        raise sqlite3.OperationalError(f"{path} does not exist yet")
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=timeout_s)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        yield Peek(conn)
    finally:
        conn.close()


@dataclass(frozen=True)
class Peek:
    """Named reads of a store opened by `read_only`."""

    conn: sqlite3.Connection

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def setting(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def stock(self) -> dict[str, int]:
        """sku → the stock the box shows."""
        return dict(self.conn.execute("SELECT sku, stock FROM product").fetchall())

    def journal(self) -> tuple[int, str | None]:
        """(entries the cloud has not acknowledged yet, the newest one's `ts` or None)."""
        count = int(self.conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
        newest = self.conn.execute("SELECT ts FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        return count, None if newest is None else str(newest[0])
