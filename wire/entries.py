"""Journal entry kinds and their typed bodies: the one place an entry's data is encoded and decoded.

Every kind the contract knows is a member of `EntryKind` and has one frozen dataclass (`SaleEntry`,
`OrderCollectedEntry`, …) whose fields are the entry's data. A field's checker is in the field's metadata,
so the table the journal decoder validates against (`ENTRY_FIELDS`) is derived from the dataclasses and cannot
drift from them. The box builds a body and appends it (`body.to_data()` is what its store keeps); the cloud
turns a checked entry back into its body (`decode_body`), so neither side spells a kind or a key by hand.

`EntryKind` is a `StrEnum`: a member equals its string, so a kind read off the wire as a plain `str` compares
and hashes like the member. Keys an entry carries beyond its kind's fields stay in `extra`, as the box said
them (a newer box may add some): nothing is lost on the way through.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Final, TypeAlias

from wire._fields import (
    JSON,
    MISSING,
    as_bool,
    as_count,
    as_id,
    as_object,
    as_qty,
    as_qty_count,
    as_str,
    fail,
)
from wire.errors import MalformedMessage

Check = Callable[[Any, str], object]
Field = tuple[str, Check, bool]
"""(key, checker, required) for one data field of an entry kind."""


class EntryKind(enum.StrEnum):
    """Every kind of business fact a box journals."""

    SALE = "sale"
    RETURN = "return"
    RECEIVE = "receive"
    ADJUST = "adjust"
    COUNT = "count"
    UNKNOWN_BARCODE = "unknown_barcode"
    MODE_CHANGED = "mode_changed"
    ORDER_PRINTED = "order_printed"
    ORDER_COLLECTED = "order_collected"
    ORDER_STAGE = "order_stage"
    ORDER_REQUEST = "order_request"
    STORE_RECOVERED = "store_recovered"


ENVELOPE: Final = frozenset({"seq", "kind", "ts"})


def as_note(value: Any, path: str) -> str:
    """Free text of any length a person wrote (why stock was adjusted): never a reason to refuse an entry."""
    if type(value) is str:
        return value
    fail(value, path, "a string")


def _req(check: Check) -> Any:
    return field(metadata={"check": check})


def _opt(check: Check) -> Any:
    return field(default=None, metadata={"check": check, "optional": True})


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryBody:
    """The data of one journal entry. `extra`: keys beyond the kind's fields, kept as they came."""

    KIND: ClassVar[EntryKind]
    FIELDS: ClassVar[tuple[Field, ...]] = ()
    KEYS: ClassVar[frozenset[str]] = frozenset()

    extra: Mapping[str, JSON] = field(default_factory=dict, hash=False)

    def __init_subclass__(cls, kind: EntryKind | None = None) -> None:
        """`class SaleEntry(StockEntry, kind=EntryKind.SALE)`: the kind a body class stands for. (No
        `super()` here: `slots=True` makes a new class, which the zero-argument form does not know.)"""
        if kind is not None:
            cls.KIND = kind

    def to_data(self) -> dict[str, JSON]:
        """The flat data the journal stores and sends: the fields that are set, then `extra`."""
        data: dict[str, JSON] = {}
        for key, _, _ in self.FIELDS:
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        clash = (ENVELOPE | data.keys()).intersection(self.extra)
        if clash:
            raise MalformedMessage("extra", f"{sorted(clash)} are fields of a {self.KIND} entry, not extras")
        data.update(self.extra)
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class StockEntry(EntryBody):
    """A stock movement. `delta`: the signed change in the base unit (units, or grams for what is weighed);
    `stock_after`: the box's stock after it; `negative` flags stock that went below zero (allowed: the till
    sells anyway, but the shop should look); `reason`: why it was adjusted by hand."""

    sku: str = _req(as_id)
    delta: int = _req(as_qty)
    stock_after: int = _req(as_qty)
    barcode: str | None = _opt(as_id)
    weight_g: int | None = _opt(as_qty_count)
    price_cents: int | None = _opt(as_count)
    negative: bool | None = _opt(as_bool)
    reason: str | None = _opt(as_note)


# The four plain movements differ only in their kind: no fields of their own, so no dataclass of their own.
class SaleEntry(StockEntry, kind=EntryKind.SALE):
    """Units sold: a scan in sale mode, or a line of a till's receipt; `delta` takes them out."""


class ReturnEntry(StockEntry, kind=EntryKind.RETURN):
    """Units a customer brought back (a return-prefixed scan, a receipt's refund); `delta` puts them back."""


class ReceiveEntry(StockEntry, kind=EntryKind.RECEIVE):
    """Units delivered to the shop, scanned in receive mode."""


class AdjustEntry(StockEntry, kind=EntryKind.ADJUST):
    """A correction by hand (remote support, a scan missing from its receipt), with its `reason`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CountEntry(StockEntry, kind=EntryKind.COUNT):
    """A count: `counted` units are on hand. `level_version` names the cloud level the box counted against
    (absent: it had none, and the cloud applies `delta`); with it, the count sets on-hand."""

    counted: int = _req(as_qty_count)
    level_version: int | None = _opt(as_count)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownBarcodeEntry(EntryBody, kind=EntryKind.UNKNOWN_BARCODE):
    """A scan no product matched: `raw` as read, in `mode`; `reason` says why it matched nothing."""

    raw: str = _req(as_str)
    mode: str = _req(as_id)
    reason: str | None = _opt(as_note)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeChangedEntry(EntryBody, kind=EntryKind.MODE_CHANGED):
    """The box's mode changed; `source` is what changed it (`barcode`, `button`, `remote`)."""

    mode: str = _req(as_id)
    previous: str = _req(as_id)
    source: str = _req(as_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPrintedEntry(EntryBody, kind=EntryKind.ORDER_PRINTED):
    """An online order's ticket came out of a printer (the shop sees it as being prepared): the box's own,
    or `station`'s (kitchen, bar), each once."""

    order_id: str = _req(as_id)
    station: str | None = _opt(as_id)
    number: str | None = _opt(as_id)  # the order's number on the floor, as its tickets show it


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCollectedEntry(EntryBody, kind=EntryKind.ORDER_COLLECTED):
    """An order was handed over against its pickup code."""

    order_id: str = _req(as_id)
    pickup_code: str = _req(as_id)
    number: str | None = _opt(as_id)  # the order's number on the floor, as its tickets show it


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStageEntry(EntryBody, kind=EntryKind.ORDER_STAGE):
    """An order moved on the shop floor to `stage` (accepted, ready, collected, delivered), by `source`
    (button, scan, remote, web), with the estimate `eta_min` given on acceptance (docs/orders.md)."""

    order_id: str = _req(as_id)
    stage: str = _req(as_id)
    source: str | None = _opt(as_id)
    eta_min: int | None = _opt(as_count)
    number: str | None = _opt(as_id)  # the order's number on the floor, as its tickets show it


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequestEntry(EntryBody, kind=EntryKind.ORDER_REQUEST):
    """A phone order taken at the shop, for the bridge to create in the online shop (so stock has one
    truth); it comes back like an online order and prints the same way. `ref` is the box's id for it (the
    shop creates one order per ref); `order` is the request (docs/orders.md, "Phone orders")."""

    ref: str = _req(as_id)
    order: Mapping[str, JSON] = _req(as_object)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreRecoveredEntry(EntryBody, kind=EntryKind.STORE_RECOVERED):
    """A store was lost or moved aside (`moved_to`, `reason`): entries after `lost_after_seq` that the cloud
    had not acknowledged are lost."""

    moved_to: str = _req(as_str)
    lost_after_seq: int = _req(as_count)
    reason: str | None = _opt(as_note)


Entry: TypeAlias = (
    SaleEntry
    | ReturnEntry
    | ReceiveEntry
    | AdjustEntry
    | CountEntry
    | UnknownBarcodeEntry
    | ModeChangedEntry
    | OrderPrintedEntry
    | OrderCollectedEntry
    | OrderStageEntry
    | OrderRequestEntry
    | StoreRecoveredEntry
)
"""The body of an entry of any kind this side knows."""

_BODIES: Final[tuple[type[EntryBody], ...]] = (
    SaleEntry,
    ReturnEntry,
    ReceiveEntry,
    AdjustEntry,
    CountEntry,
    UnknownBarcodeEntry,
    ModeChangedEntry,
    OrderPrintedEntry,
    OrderCollectedEntry,
    OrderStageEntry,
    OrderRequestEntry,
    StoreRecoveredEntry,
)


def _fields_of(cls: type[EntryBody]) -> tuple[Field, ...]:
    return tuple(
        (f.name, f.metadata["check"], not f.metadata.get("optional", False))
        for f in fields(cls)
        if "check" in f.metadata
    )


for _cls in _BODIES:
    _cls.FIELDS = _fields_of(_cls)
    _cls.KEYS = frozenset(key for key, _, _ in _cls.FIELDS)

BODY_TYPES: Final[Mapping[EntryKind, type[EntryBody]]] = {cls.KIND: cls for cls in _BODIES}
STOCK_BODIES: Final[Mapping[EntryKind, type[StockEntry]]] = {
    cls.KIND: cls for cls in _BODIES if issubclass(cls, StockEntry)
}
STOCK_KINDS: Final = frozenset(STOCK_BODIES)
"""The kinds that change a sku's stock (each carries `sku`, `delta`, `stock_after`)."""
ENTRY_FIELDS: Final[Mapping[EntryKind, tuple[Field, ...]]] = {
    kind: cls.FIELDS for kind, cls in BODY_TYPES.items()
}
"""The data fields each known kind carries: derived from the bodies, checked by the journal decoder."""


def decode_body(kind: str, data: Mapping[str, Any]) -> Entry | None:
    """The typed body of an entry's data, or None for a kind this side does not know.

    Raises `MalformedMessage` naming the field when the data breaks the kind's contract.
    """
    cls = BODY_TYPES.get(kind)  # type: ignore[call-overload]
    if cls is None:
        return None
    values: dict[str, Any] = {}
    for key, check, required in cls.FIELDS:
        value = data.get(key, MISSING)
        if value is MISSING or value is None:
            if required:
                check(value, key)  # raises: names the missing field
            continue
        check(value, key)
        values[key] = value
    keys = cls.KEYS
    extra = {key: value for key, value in data.items() if key not in keys and key not in ENVELOPE}
    body: Entry = cls(**values, extra=extra)
    return body
