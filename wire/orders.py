"""Online orders, cloud → box: printed in the shop, prepared, and handed over against a pickup code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from wire._fields import (
    Obj,
    as_choice,
    as_count,
    as_id,
    as_int,
    as_str,
    as_text,
    as_ts,
    as_tuple,
    compact,
    nested,
    opt,
    req,
)
from wire.topics import Kind

ORDER_KINDS: Final = frozenset({"pickup", "delivery", "kitchen"})
MAX_LINES: Final = 500


@dataclass(frozen=True, slots=True)
class OrderLine:
    """`qty` units of one product at `price_cents` each (the price the customer paid, not the list price)."""

    sku: str
    name: str
    qty: int
    price_cents: int

    @classmethod
    def from_json(cls, obj: Obj) -> OrderLine:
        return cls(
            sku=req(obj, "sku", as_id),
            name=req(obj, "name", as_str),
            qty=req(obj, "qty", as_int, lo=1),
            price_cents=req(obj, "price_cents", as_count),
        )

    def to_json(self) -> Obj:
        return {"sku": self.sku, "name": self.name, "qty": self.qty, "price_cents": self.price_cents}


_LINE: Final = nested(OrderLine.from_json)


@dataclass(frozen=True, slots=True)
class Order:
    """An online order for this shop. `total_cents` is what the customer paid, shipping and discounts
    included, so it need not equal the sum of the lines. `pickup_code` is what the customer's QR code holds.
    """

    KIND: ClassVar[Kind] = Kind.ORDERS

    order_id: str
    placed_at: str
    kind: str
    lines: tuple[OrderLine, ...]
    total_cents: int
    customer: str = ""
    pickup_code: str | None = None
    notes: str = ""

    @classmethod
    def from_json(cls, obj: Obj) -> Order:
        return cls(
            order_id=req(obj, "order_id", as_id),
            placed_at=req(obj, "placed_at", as_ts),
            kind=req(obj, "kind", as_choice, choices=ORDER_KINDS),
            lines=req(obj, "lines", as_tuple, item=_LINE, min_items=1, max_items=MAX_LINES),
            total_cents=req(obj, "total_cents", as_count),
            customer=opt(obj, "customer", as_text) or "",
            pickup_code=opt(obj, "pickup_code", as_id),
            notes=opt(obj, "notes", as_str, min_len=0, max_len=4096) or "",
        )

    def to_json(self) -> Obj:
        return compact(
            {
                "order_id": self.order_id,
                "placed_at": self.placed_at,
                "kind": self.kind,
                "lines": [line.to_json() for line in self.lines],
                "total_cents": self.total_cents,
                "customer": self.customer,
                "pickup_code": self.pickup_code,
                "notes": self.notes,
            }
        )
