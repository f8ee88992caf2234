"""Which orders of a feed page count in the ledger, which are parked and which leave the parked list.

An order the connector could not fully read is parked with its reason, and the feed goes on. Its units
still count when its stock facts were readable (the shop took them); when even those were not, its stock
effect is unknown, and the parked row says so (`STOCK_UNKNOWN`), so that no difference in the shop is
taken for an edit while it is parked. A parked order leaves the list once it reads.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from cloud_bridge.connectors.base import ShopOrder

PREFIX: Final = "order/"  # parked orders' keys
KEY_MAX: Final = 300  # a parked key's length in the database
STOCK_UNKNOWN: Final = "stock unknown"  # payload of a parked order whose stock effect is unknown


def order_key(order_id: str) -> str:
    return f"{PREFIX}{order_id}"[:KEY_MAX]


def order_id_of(key: str) -> str:
    return key.removeprefix(PREFIX)


@dataclass(frozen=True)
class Parking:
    """One order to park (or count as parked again): its key, what the owner reads, and the payload."""

    order_id: str
    key: str
    problem: str
    stock_known: bool

    @property
    def payload(self) -> str | None:
        return None if self.stock_known else STOCK_UNKNOWN


@dataclass(frozen=True)
class OrdersPlan:
    """`apply`: the orders whose units the ledger counts, in feed order; `park`: orders unreadable in part;
    `resolve`: keys of parked orders that now read.
    """

    apply: tuple[ShopOrder, ...]
    park: tuple[Parking, ...]
    resolve: tuple[str, ...]


def plan_orders(found: Sequence[ShopOrder], parked: Collection[str]) -> OrdersPlan:
    """What to do with a page of the feed, given the keys of the orders parked now."""
    park: list[Parking] = []
    resolve: list[str] = []
    for order in found:
        key = order_key(order.order_id)
        if order.problem is None:
            if key in parked:
                resolve.append(key)
            continue
        effect = (
            "its units are counted; no ticket until it reads"
            if order.stock_known
            else "its stock effect is unknown"
        )
        problem = f"order {order.order_id}: {order.problem}; {effect}"
        park.append(Parking(order.order_id, key, problem, order.stock_known))
    return OrdersPlan(tuple(o for o in found if o.stock_known), tuple(park), tuple(resolve))


__all__ = ["STOCK_UNKNOWN", "OrdersPlan", "Parking", "order_id_of", "order_key", "plan_orders"]
