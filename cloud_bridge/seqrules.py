"""The seq rules of one journal stream, sans-IO: given where a stream stands and a batch, what to apply now,
what to hold, and which seqs are known to be gone. `journal.py` carries the plan out in the database.

- Entries at or below the position are duplicates (a box resends everything after its last ack).
- Entries apply strictly in seq order: a batch is applied up to its first hole, and what lies past the hole
  is held, never acknowledged, until the hole is filled (or the box sends it again).
- A box that says it had entries acknowledged past the position (`acked`, e.g. by a bridge whose database
  was later restored from an older backup) no longer holds them: they are a loss window, and the position
  moves on to `acked`, or the stream would wait forever for seqs that cannot come.
- A `store_recovered` entry after a hole closes it as a loss window (boxes older than epochs mark a
  recovered store this way; newer ones start a new stream instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wire import EntryKind, JournalEntry

RECOVERED = EntryKind.STORE_RECOVERED


@dataclass(frozen=True)
class Gap:
    """Seqs `first`..`last` of the stream will never arrive; `why` is `acked` or `recovered`."""

    first: int
    last: int
    why: str


@dataclass(frozen=True)
class Plan:
    run: tuple[JournalEntry, ...]  # to apply now, in order; each follows the one before (or a Gap)
    held: tuple[JournalEntry, ...]  # past the first hole: to hold, unacknowledged
    gaps: tuple[Gap, ...]
    position: int  # where the stream stands once `run` is applied

    @property
    def moved(self) -> bool:
        return bool(self.run or self.gaps)


def start_of(acked: int | None) -> int:
    """Where a stream this bridge has never seen stands: after the box's last ack. A box too old to say
    keeps the old rule, seq 1 first: with a shared subscription its second batch often arrives before its
    first, and taking that as the start would lose the first for good.
    """
    return acked if acked is not None else 0


def plan(position: int, entries: Sequence[JournalEntry], acked: int | None = None) -> Plan:
    """What to do with `entries` (seqs strictly increasing) of a stream standing at `position`."""
    gaps: list[Gap] = []
    if acked is not None and acked > position:
        gaps.append(Gap(position + 1, acked, "acked"))
        position = acked
    run: list[JournalEntry] = []
    for index, entry in enumerate(entries):
        if entry.seq <= position:
            continue
        if entry.seq != position + 1:
            if entry.kind != RECOVERED:
                return Plan(tuple(run), tuple(entries[index:]), tuple(gaps), position)
            gaps.append(Gap(position + 1, entry.seq - 1, "recovered"))
        run.append(entry)
        position = entry.seq
    return Plan(tuple(run), (), tuple(gaps), position)
