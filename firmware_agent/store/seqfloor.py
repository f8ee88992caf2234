"""A floor under journal sequence numbers that outlives the database file.

`seq` must never repeat: the cloud applies each (box, seq) once, so a reused number would be silently
dropped. If the database is lost to corruption, the fresh one must continue above every number the old one
may have handed out. Like a database sequence cache, the box reserves numbers in blocks and writes the top
of the current block to a small side file (one fsync per block, not per scan) before using any of them.
"""

from __future__ import annotations

import os
from pathlib import Path

BLOCK = 1024


class SeqFloor:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._reserved = self._read()

    @property
    def value(self) -> int:
        """Every seq handed out so far is at most this."""
        return self._reserved

    def ensure_above(self, seq: int) -> None:
        """Make sure `seq` is covered by the reservation before it is used."""
        if seq <= self._reserved:
            return
        reserved = seq + BLOCK - 1
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w") as f:
            f.write(f"{reserved}\n")
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._reserved = reserved

    def _read(self) -> int:
        try:
            return int(self.path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0
