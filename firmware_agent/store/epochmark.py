"""What the box last knew of its store, kept beside it: the store's epoch and the last seq the cloud
acknowledged in that epoch.

The store itself cannot tell that it was deleted, swapped for another file or restored from an older copy:
each looks like a good database. This small side file can. A store that is missing while the mark exists was
deleted; one with another epoch was replaced; one that holds entries at or below the acknowledged seq (which
the box deletes on the ack), or ends before it, is an older copy. Each then starts a new epoch, so the
cloud sees a new stream, never a replay of seqs it has applied.

The mark is written after the store commits what it records (never before), by replace-and-rename and
without fsync: a mark lost to a power cut is only older, and an older mark cannot make a good store look
replaced.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

_LINE: Final = re.compile(r"([0-9a-f]{16}) (\d{1,19})")


def mark_path(store_path: Path) -> Path:
    """Where the mark of the store at `store_path` lives: beside it."""
    return store_path.with_name(store_path.name + ".epoch")


@dataclass(frozen=True)
class Mark:
    epoch: str
    acked: int


class EpochMark:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Mark | None:
        """The mark, or None when there is none (or it cannot be read: then nothing is concluded from it)."""
        try:
            text = self.path.read_text().strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        except OSError as exc:
            log.warning("cannot read %s (%s): the store's identity is not checked", self.path, exc)
            return None
        found = _LINE.fullmatch(text)
        return Mark(found[1], int(found[2])) if found else None

    def write(self, epoch: str, acked: int) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(f"{epoch} {acked}\n")
            tmp.replace(self.path)
        except OSError as exc:  # a full or read-only disk: the store works on, the check is weaker
            log.warning("cannot write %s: %s", self.path, exc)
