"""Online orders, cloud → box, and the box's order ack, box → cloud.

An order is handed over at the till against a pickup code that only the customer and the bridge know. The
box gets what verifies it, never the code: `pickup_hash`, an HMAC-SHA256 of the order id and the code under
the shop's pickup key number `pickup_key`, which the bridge sends to each of the shop's boxes beforehand
(`PickupKey`, on the same topic). A stolen store or a copied message therefore does not reveal a code, and
a code cannot be guessed offline without the key.

Every order message is the order's whole current state for that box at revision `rev`: a cancellation, a
collection at another till or a ticket moved to another box arrives as the same order with a higher `rev`,
so a lost or repeated message never leaves a box with half a change. The box answers each with an
`OrderAck` once the revision is on its disk; until then the bridge sends it again (a PUBACK only means the
broker has it).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from wire._fields import (
    MISSING,
    Obj,
    as_bool,
    as_choice,
    as_count,
    as_id,
    as_int,
    as_str,
    as_text,
    as_ts,
    as_tuple,
    compact,
    fail,
    nested,
    opt,
    req,
)
from wire.errors import MalformedMessage
from wire.topics import Kind

ORDER_KINDS: Final = frozenset({"pickup", "delivery", "kitchen"})
ORDER_STATES: Final = frozenset({"open", "cancelled", "collected"})
ORDER_SOURCES: Final = frozenset({"online", "phone"})
MAX_LINES: Final = 500
MAX_OPTIONS: Final = 50  # choices on one line (size, base, toppings, …)
MAX_WARNINGS: Final = 20
NOTE_LEN: Final = 4096
HASH_HEX: Final = 64  # HMAC-SHA256 in lower-case hex
KEY_HEX: Final = 64  # a 32-byte pickup key in lower-case hex
_HEX: Final = frozenset("0123456789abcdef")


def as_hex(value: Any, path: str, *, length: int) -> str:
    if type(value) is str and len(value) == length and set(value) <= _HEX:
        return value
    fail(value, path, f"{length} lower-case hex digits")


def pickup_hash(key: bytes, order_id: str, code: str) -> str:
    """What verifies `code` for `order_id`: the same on the bridge and the box (case-insensitive, as the
    till's scanner reads codes upper case)."""
    message = f"{order_id.upper()}\n{code.upper()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pickup_matches(key: bytes, order_id: str, code: str, expected: str) -> bool:
    return hmac.compare_digest(pickup_hash(key, order_id, code), expected)


@dataclass(frozen=True, slots=True)
class LineOption:
    """One choice the customer made on a line, as the shop names it: a variant attribute ("Size": "Large"),
    an option or a topping ("Extra": "Olives"). `name` may be empty when the shop gives only the value.
    """

    name: str
    value: str

    @classmethod
    def from_json(cls, obj: Obj) -> LineOption:
        return cls(name=opt(obj, "name", as_text) or "", value=req(obj, "value", as_str))

    def to_json(self) -> Obj:
        return {"name": self.name, "value": self.value} if self.name else {"value": self.value}


_OPTION: Final = nested(LineOption.from_json)


@dataclass(frozen=True, slots=True)
class OrderLine:
    """`qty` units of one product at `price_cents` each (the price the customer paid, not the list price).

    `options` are the customer's choices (toppings, size), `note` what they wrote for this line ("well
    done"), `tags` the product's categories and tags as the shop names them: what routes the line to a
    station's printer (pizza → kitchen, drinks → counter).
    """

    sku: str
    name: str
    qty: int
    price_cents: int
    options: tuple[LineOption, ...] = ()
    note: str = ""
    tags: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: Obj) -> OrderLine:
        return cls(
            sku=req(obj, "sku", as_id),
            name=req(obj, "name", as_str),
            qty=req(obj, "qty", as_int, lo=1),
            price_cents=req(obj, "price_cents", as_count),
            options=opt(obj, "options", as_tuple, item=_OPTION, max_items=MAX_OPTIONS) or (),
            note=opt(obj, "note", as_text) or "",
            tags=opt(obj, "tags", as_tuple, item=as_id, max_items=MAX_OPTIONS) or (),
        )

    def to_json(self) -> Obj:
        return compact(
            {
                "sku": self.sku,
                "name": self.name,
                "qty": self.qty,
                "price_cents": self.price_cents,
                "options": [o.to_json() for o in self.options] or None,
                "note": self.note or None,
                "tags": list(self.tags) or None,
            }
        )


_LINE: Final = nested(OrderLine.from_json)


@dataclass(frozen=True, slots=True)
class Order:
    """An online order for this shop. `total_cents` is what the customer paid, shipping and discounts
    included, so it need not equal the sum of the lines. `ticket` says whether this box prints its ticket
    (only the box holding the shop's `orders` role does); every box of the shop gets the order, so its
    pickup code is verified at any till.

    What the kitchen works from: `number` (the shop's order number, printed big; the id when absent),
    `notes` (the customer's note, as written), `due_at` (the slot asked for; absent: as soon as possible),
    `tz` (the shop's time zone, to print the slot in), `phone` and `address` (delivery), `paid` (paid
    online) or `due_cents` (to pay at hand-over), `allergies` (printed so they stand out), `warnings` (what
    the bridge found odd in the order and printed anyway: the owner has it parked), `source` (online or a
    phone order entered at the shop).
    """

    KIND: ClassVar[Kind] = Kind.ORDERS
    TYPE: ClassVar[str] = "order"

    order_id: str
    placed_at: str
    kind: str
    lines: tuple[OrderLine, ...]
    total_cents: int
    customer: str = ""
    notes: str = ""
    rev: int = 1
    state: str = "open"
    ticket: bool = True
    pickup_hash: str | None = None
    pickup_key: int | None = None
    number: str = ""
    due_at: str | None = None
    tz: str = ""
    phone: str = ""
    address: str = ""
    paid: bool = True
    due_cents: int = 0
    allergies: str = ""
    warnings: tuple[str, ...] = ()
    source: str = "online"

    @property
    def shown_number(self) -> str:
        """The number staff and customer say: the shop's order number, else the order id."""
        return self.number or self.order_id

    @classmethod
    def from_json(cls, obj: Obj) -> Order:
        order = cls(
            order_id=req(obj, "order_id", as_id),
            placed_at=req(obj, "placed_at", as_ts),
            kind=req(obj, "kind", as_choice, choices=ORDER_KINDS),
            lines=req(obj, "lines", as_tuple, item=_LINE, min_items=1, max_items=MAX_LINES),
            total_cents=req(obj, "total_cents", as_count),
            customer=opt(obj, "customer", as_text) or "",
            notes=opt(obj, "notes", as_str, min_len=0, max_len=NOTE_LEN) or "",
            rev=req(obj, "rev", as_int, lo=1),
            state=req(obj, "state", as_choice, choices=ORDER_STATES),
            ticket=req(obj, "ticket", as_bool),
            pickup_hash=opt(obj, "pickup_hash", as_hex, length=HASH_HEX),
            pickup_key=opt(obj, "pickup_key", as_int, lo=1),
            number=opt(obj, "number", as_id) or "",
            due_at=opt(obj, "due_at", as_ts),
            tz=opt(obj, "tz", as_id) or "",
            phone=opt(obj, "phone", as_text) or "",
            address=opt(obj, "address", as_text) or "",
            paid=opt(obj, "paid", as_bool) is not False,
            due_cents=opt(obj, "due_cents", as_count) or 0,
            allergies=opt(obj, "allergies", as_str, min_len=0, max_len=NOTE_LEN) or "",
            warnings=opt(obj, "warnings", as_tuple, item=as_text, max_items=MAX_WARNINGS) or (),
            source=opt(obj, "source", as_choice, choices=ORDER_SOURCES) or "online",
        )
        if (order.pickup_hash is None) != (order.pickup_key is None):
            path = "pickup_key" if order.pickup_key is None else "pickup_hash"
            raise MalformedMessage(path, "required field is missing (pickup_hash and pickup_key go together)")
        return order

    def to_json(self) -> Obj:
        return compact(
            {
                "type": self.TYPE,
                "order_id": self.order_id,
                "placed_at": self.placed_at,
                "kind": self.kind,
                "lines": [line.to_json() for line in self.lines],
                "total_cents": self.total_cents,
                "customer": self.customer,
                "notes": self.notes,
                "rev": self.rev,
                "state": self.state,
                "ticket": self.ticket,
                "pickup_hash": self.pickup_hash,
                "pickup_key": self.pickup_key,
                "number": self.number or None,
                "due_at": self.due_at,
                "tz": self.tz or None,
                "phone": self.phone or None,
                "address": self.address or None,
                "paid": None if self.paid else False,
                "due_cents": self.due_cents or None,
                "allergies": self.allergies or None,
                "warnings": list(self.warnings) or None,
                "source": None if self.source == "online" else self.source,
            }
        )


@dataclass(frozen=True, slots=True)
class PickupKey:
    """The shop's pickup key number `key_id` (32 bytes as hex): what the box checks `pickup_hash` with.

    Keys only ever get added (a rotation sends a new number); the box keeps the old ones for the orders
    hashed with them.
    """

    KIND: ClassVar[Kind] = Kind.ORDERS
    TYPE: ClassVar[str] = "pickup_key"

    key_id: int
    key: str = ""

    def __repr__(self) -> str:  # never the key itself in a log line
        return f"PickupKey(key_id={self.key_id})"

    @classmethod
    def from_json(cls, obj: Obj) -> PickupKey:
        return cls(req(obj, "key_id", as_int, lo=1), req(obj, "key", as_hex, length=KEY_HEX))

    def to_json(self) -> Obj:
        return {"type": self.TYPE, "key_id": self.key_id, "key": self.key}


def decode_orders_message(obj: Obj) -> Order | PickupKey:
    """The `orders` topic carries orders and pickup keys, told apart by `"type"`."""
    kind = req(obj, "type", as_choice, choices=frozenset({Order.TYPE, PickupKey.TYPE}))
    return Order.from_json(obj) if kind == Order.TYPE else PickupKey.from_json(obj)


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The box has revision `rev` of order `order_id` (or pickup key `key_id`) on its disk, or — with
    `refused` — will never take it, for that reason. Exactly one of `order_id` and `key_id` is set.
    """

    KIND: ClassVar[Kind] = Kind.ORDERS_ACK

    order_id: str | None = None
    rev: int | None = None
    key_id: int | None = None
    refused: str | None = None

    @classmethod
    def from_json(cls, obj: Obj) -> OrderAck:
        ack = cls(
            order_id=opt(obj, "order_id", as_id),
            rev=opt(obj, "rev", as_int, lo=1),
            key_id=opt(obj, "key_id", as_int, lo=1),
            refused=opt(obj, "refused", as_str),
        )
        if (ack.order_id is None) == (ack.key_id is None):
            raise MalformedMessage("order_id", "expected exactly one of order_id and key_id")
        if ack.order_id is not None and ack.rev is None and ack.refused is None:
            fail(MISSING, "rev", "")
        return ack

    def to_json(self) -> Obj:
        return compact(
            {"order_id": self.order_id, "rev": self.rev, "key_id": self.key_id, "refused": self.refused}
        )


@dataclass(frozen=True, slots=True)
class PhoneLine:
    sku: str
    qty: int
    options: tuple[LineOption, ...] = ()
    note: str = ""

    @classmethod
    def from_json(cls, obj: Obj) -> PhoneLine:
        return cls(
            sku=req(obj, "sku", as_id),
            qty=req(obj, "qty", as_int, lo=1, hi=MAX_PHONE_QTY),
            options=opt(obj, "options", as_tuple, item=_OPTION, max_items=MAX_OPTIONS) or (),
            note=opt(obj, "note", as_text) or "",
        )

    def to_json(self) -> Obj:
        return compact(
            {
                "sku": self.sku,
                "qty": self.qty,
                "options": [o.to_json() for o in self.options] or None,
                "note": self.note or None,
            }
        )


MAX_PHONE_QTY: Final = 999
_PHONE_LINE: Final = nested(PhoneLine.from_json)


@dataclass(frozen=True, slots=True)
class PhoneOrder:
    """A phone order taken at the shop (`tillbridge order add`, the web page): journaled by the box as
    `order_request`, created in the online shop by the bridge, then printed like an online order. A
    delivery needs its `address`; `due_at` is the slot (absent: as soon as possible)."""

    lines: tuple[PhoneLine, ...]
    customer: str
    phone: str = ""
    pickup: bool = True
    address: str = ""
    due_at: str | None = None
    note: str = ""
    allergies: str = ""

    @classmethod
    def from_json(cls, obj: Obj) -> PhoneOrder:
        order = cls(
            lines=req(obj, "lines", as_tuple, item=_PHONE_LINE, min_items=1, max_items=MAX_LINES),
            customer=req(obj, "customer", as_str),
            phone=opt(obj, "phone", as_text) or "",
            pickup=opt(obj, "pickup", as_bool) is not False,
            address=opt(obj, "address", as_text) or "",
            due_at=opt(obj, "due_at", as_ts),
            note=opt(obj, "note", as_str, min_len=0, max_len=NOTE_LEN) or "",
            allergies=opt(obj, "allergies", as_str, min_len=0, max_len=NOTE_LEN) or "",
        )
        if not order.pickup and not order.address.strip():
            raise MalformedMessage("address", "required field is missing (a delivery needs its address)")
        return order

    def to_json(self) -> Obj:
        return compact(
            {
                "lines": [line.to_json() for line in self.lines],
                "customer": self.customer,
                "phone": self.phone or None,
                "pickup": self.pickup,
                "address": self.address or None,
                "due_at": self.due_at,
                "note": self.note or None,
                "allergies": self.allergies or None,
            }
        )
