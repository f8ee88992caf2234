"""Journal batches (box → cloud) and their acknowledgement (cloud → box).

An entry travels flat, `{"seq", "kind", "ts", ...data}`, exactly as the box stored it. The fields each known
kind must carry are its body's dataclass in wire/entries.py (`ENTRY_FIELDS` is the table derived from them);
`entry.body` is the typed body, `JournalEntry.of(seq, ts, body)` the entry of one. An entry of a kind this
side does not know still decodes
(its data unchecked, `known` false): a newer box must never stall its journal behind an older cloud, which
can park such entries instead. Keys beyond the table stay in `data` so nothing the box said is lost.

A batch belongs to one stream, named by the box store's `epoch`, and says where the box's unacknowledged
entries start (`acked`). The cloud decodes batches leniently (`lenient=True`): an entry whose own fields break
the contract comes back with `problem` set, so the cloud parks that one entry and applies the rest, instead
of refusing a batch the box would send again forever.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from wire._fields import (
    JSON,
    MISSING,
    Obj,
    as_count,
    as_epoch,
    as_id,
    as_int,
    as_ts,
    as_tuple,
    compact,
    fail,
    nested,
    opt,
    req,
)
from wire.entries import ENTRY_FIELDS, ENVELOPE, STOCK_KINDS, Entry, EntryBody, decode_body
from wire.errors import MalformedMessage
from wire.topics import ID_PATTERN, Kind

MAX_BATCH_ENTRIES: Final = 500
LEGACY_EPOCH: Final = "0" * 16
"""The epoch of a store made before epochs existed: the same stream as a batch that names no epoch."""
_ENVELOPE: Final = ENVELOPE
__all__ = [
    "ENTRY_FIELDS",
    "LEGACY_EPOCH",
    "MAX_BATCH_ENTRIES",
    "STOCK_KINDS",
    "Ack",
    "JournalBatch",
    "JournalEntry",
]

Checks = tuple[tuple[str, Callable[[Any, str], object]], ...]
_SPLIT: Final[Mapping[str, tuple[Checks, Checks]]] = {
    kind: (
        tuple((key, check) for key, check, required in fields if required),
        tuple((key, check) for key, check, required in fields if not required),
    )
    for kind, fields in ENTRY_FIELDS.items()
}
_NO_FIELDS: Final[tuple[Checks, Checks]] = ((), ())


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One business fact; `data` holds every field but the envelope (`seq`, `kind`, `ts`).

    `problem` is set only by a lenient decode, for an entry whose fields break the contract: it names the
    field, and `data` then holds the entry's raw fields, unchecked.
    """

    seq: int
    kind: str
    ts: str
    data: Mapping[str, JSON] = field(default_factory=dict, hash=False)
    problem: str | None = None

    @property
    def known(self) -> bool:
        return self.kind in ENTRY_FIELDS

    @property
    def body(self) -> Entry | None:
        """The typed body (None for a kind this side does not know); `MalformedMessage` names a bad field."""
        return decode_body(self.kind, self.data)

    @classmethod
    def of(cls, seq: int, ts: str, body: EntryBody) -> JournalEntry:
        return cls(seq, body.KIND.value, ts, body.to_data())

    @classmethod
    def from_json(cls, obj: Obj) -> JournalEntry:
        # The hot path: checkers called directly, the kind's fields split into required and optional once.
        get = obj.get
        seq = as_int(get("seq", MISSING), "seq", lo=1)
        kind = as_id(get("kind", MISSING), "kind")
        ts = as_ts(get("ts", MISSING), "ts")
        required, optional = _SPLIT.get(kind, _NO_FIELDS)
        for key, check in required:
            check(get(key, MISSING), key)
        for key, check in optional:
            value = get(key)
            if value is not None:
                check(value, key)
        data = dict(obj)
        del data["seq"], data["kind"], data["ts"]
        return cls(seq, kind, ts, data)

    @classmethod
    def from_json_lenient(cls, obj: Obj) -> JournalEntry:
        """The entry, or one with `problem` set when a field other than `seq` breaks the contract."""
        try:
            return cls.from_json(obj)
        except MalformedMessage as exc:
            seq = as_int(obj.get("seq", MISSING), "seq", lo=1)  # without it there is no place to park it
            kind, ts = obj.get("kind"), obj.get("ts")
            data = {key: value for key, value in obj.items() if key not in _ENVELOPE}
            return cls(
                seq,
                kind[:64] if type(kind) is str and kind else "?",
                ts if type(ts) is str and len(ts) <= 64 else "",
                data,
                str(exc),
            )

    def to_json(self) -> Obj:
        clash = _ENVELOPE.intersection(self.data)
        if clash:
            raise MalformedMessage("data", f"entry seq {self.seq}: {sorted(clash)} belong to the envelope")
        return {"seq": self.seq, "kind": self.kind, "ts": self.ts, **self.data}


def _as_box(value: Any, path: str) -> str:
    if type(value) is str and ID_PATTERN.fullmatch(value):
        return value
    fail(value, path, "a box id (1-64 characters of a-z, 0-9 and '-')")


@dataclass(frozen=True, slots=True)
class JournalBatch:
    """Journal entries of one stream, seqs strictly increasing.

    `epoch` names the stream: the box store's epoch (absent from boxes older than epochs). `acked` is the
    last seq the box has had acknowledged in this epoch: it still holds every entry after it, so a cloud that
    has never seen the stream starts applying after `acked`, and one that is behind it learns that the
    entries in between are gone. `box` may repeat the topic's box id for logs and bridges; the cloud trusts
    the topic, which the broker's ACL vouches for, never this field.
    """

    KIND: ClassVar[Kind] = Kind.JOURNAL

    entries: tuple[JournalEntry, ...]
    box: str | None = None
    epoch: str | None = None
    acked: int | None = None

    @property
    def first_seq(self) -> int:
        return self.entries[0].seq

    @property
    def last_seq(self) -> int:
        return self.entries[-1].seq

    @classmethod
    def from_json(cls, obj: Obj, *, lenient: bool = False) -> JournalBatch:
        item = _LENIENT_ENTRY if lenient else _ENTRY
        entries = req(obj, "entries", as_tuple, item=item, min_items=1, max_items=MAX_BATCH_ENTRIES)
        previous = 0
        for index, entry in enumerate(entries):
            if entry.seq <= previous:
                problem = (
                    f"expected more than {previous} (seqs strictly increase in a batch), got {entry.seq}"
                )
                raise MalformedMessage(f"entries[{index}].seq", problem)
            previous = entry.seq
        epoch, acked = opt(obj, "epoch", as_epoch), opt(obj, "acked", as_count)
        if acked is not None and acked >= entries[0].seq:
            problem = f"expected less than the first seq {entries[0].seq} (entries up to it were acked)"
            raise MalformedMessage("acked", f"{problem}, got {acked}")
        return cls(entries, opt(obj, "box", _as_box), epoch, acked)

    def to_json(self) -> Obj:
        return compact(
            {
                "box": self.box,
                "epoch": self.epoch,
                "acked": self.acked,
                "entries": [entry.to_json() for entry in self.entries],
            }
        )


@dataclass(frozen=True, slots=True)
class Ack:
    """Every entry of stream `epoch` with seq ≤ `upto` is durably applied in the cloud: the box may now
    delete them. A box ignores an ack of another epoch (it is about a store it no longer has); `epoch` is
    absent only in acks of a batch that carried none.
    """

    KIND: ClassVar[Kind] = Kind.ACK

    upto: int
    epoch: str | None = None

    @classmethod
    def from_json(cls, obj: Obj) -> Ack:
        return cls(req(obj, "upto", as_count), opt(obj, "epoch", as_epoch))

    def to_json(self) -> Obj:
        return compact({"upto": self.upto, "epoch": self.epoch})


_ENTRY: Final = nested(JournalEntry.from_json)
_LENIENT_ENTRY: Final = nested(JournalEntry.from_json_lenient)
