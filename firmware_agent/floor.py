"""Orders on the shop floor: the box-side API the web page, remote commands, the button and the scanner use.

One object, `FloorDesk`, answers the three things the floor does with an order: see the orders by stage
(`orders`), move one (`move`: new → accepted → ready → collected / delivered) and print its tickets again
(`reprint`). Every call runs on the core loop (`core.call`), inside its transaction: a move is journaled
(`order_stage`) in the same commit that records it, so the bridge tells the shop exactly once, in order,
even when the box was offline when the order moved.

The web page calls it from its request threads; nothing here touches the store outside the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from firmware_agent.store import JournalRecord, Store
from firmware_agent.store.orders import (
    STAGES,
    StageRefused,
    StoredOrder,
    find_named,
    list_orders,
    move_stage,
    printed_by_station,
    request_phone_order,
    requeue_ticket,
)
from wire import Order, PhoneOrder

SOURCES: Final = frozenset({"button", "scan", "remote", "web", "box"})

Call = Callable[[Callable[[Store], Any]], Any]
"""`core.call` (or the link's `call`): runs a function on the core loop and returns what it returned."""
Render = Callable[[Order, str], dict[str, bytes]]
"""An order's tickets per station under its floor number (`firmware_agent.link.ticket.station_tickets`)."""


@dataclass(frozen=True)
class FloorOrder:
    """One order as the floor sees it: the wire `order` plus where it is (`stage`), since when
    (`stage_at`, epoch seconds), the estimate given on acceptance (`eta_min`) and its stations' tickets
    (`printed`: station → printed yet; "" is the box's own printer), and its `number` on the floor: what
    its tickets show big and their codes carry (store/order_numbers.py).
    """

    order: Order
    stage: str
    stage_at: float | None
    eta_min: int | None
    received_at: float
    printed: dict[str, bool]
    number: str = ""

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def next_stage(self) -> str | None:
        """Where a press of the button or a scan of the ticket moves it: accepted and ready in turn, then
        collected (pickup) or delivered (delivery); None once handed over or cancelled.
        """
        return next_stage(self.stage, self.order.kind)

    def to_json(self) -> dict[str, Any]:
        """For the web page's order board (JSON)."""
        return {
            "order": self.order.to_json(),
            "number": self.number,
            "stage": self.stage,
            "stage_at": self.stage_at,
            "eta_min": self.eta_min,
            "received_at": self.received_at,
            "printed": self.printed,
            "next_stage": self.next_stage,
        }


def next_stage(stage: str, kind: str) -> str | None:
    if stage == "new":
        return "accepted"
    if stage == "accepted":
        return "ready"
    if stage == "ready":
        return "delivered" if kind == "delivery" else "collected"
    return None


class FloorDesk:
    """The floor's API over the core loop. `render` gives an order's tickets per station (for reprints);
    `ttl_s` is how long a reprinted ticket may wait for its printer.
    """

    def __init__(self, call: Call, render: Render, ttl_s: float) -> None:
        self.call = call
        self.render = render
        self.ttl_s = ttl_s

    def orders(self, stages: Iterable[str] | None = None, *, newest: int | None = None) -> list[FloorOrder]:
        """Orders at `stages` (all when None; "cancelled" too when named), oldest first; with `newest`,
        only that many of the latest (newest first: the board's handed-over orders)."""
        wanted = None if stages is None else tuple(stages)
        unknown = set(wanted or ()) - {*STAGES, "cancelled"}
        if unknown:
            raise StageRefused(f"unknown order stage {sorted(unknown)[0]!r}: one of {', '.join(STAGES)}")
        found: list[FloorOrder] = self.call(lambda store: _floor_orders(store, wanted, newest))
        return found

    def order(self, order_id: str) -> FloorOrder | None:
        found: FloorOrder | None = self.call(lambda store: _floor_order(store, order_id))
        return found

    def move(
        self, order_id: str, stage: str | None = None, *, eta_min: int | None = None, source: str = "web"
    ) -> FloorOrder:
        """Moves the order to `stage` (None: its next one) and returns it as it is now; `StageRefused`
        says why not (unknown order, cancelled, a step back, already handed over)."""
        if source not in SOURCES:
            raise StageRefused(f"unknown source {source!r}: one of {', '.join(sorted(SOURCES))}")

        def run(store: Store) -> FloorOrder:
            kept = find_named(store, order_id)
            if kept is None:
                raise StageRefused(f"order {order_id} is not on this box")
            target = stage or next_stage(kept.stage, str(kept.order.get("kind", "pickup")))
            if target is None:
                raise StageRefused(f"order {kept.shown} is already {kept.stage}: nothing follows")
            move_stage(store, kept.order_id, target, eta_min=eta_min, source=source)
            moved = _floor_order(store, kept.order_id)
            assert moved is not None
            return moved

        moved: FloorOrder = self.call(run)
        return moved

    def phone_order(self, order: Mapping[str, Any]) -> str:
        """Takes a phone order (the web page's form, `tillbridge order add`): checked here, so a mistake is
        named at once (`MalformedMessage`: the field), then journaled for the bridge, which creates it in
        the online shop; it comes back and prints like an online order. Returns its ref. Offline, the
        request waits in the journal and goes when the link is back."""
        checked = PhoneOrder.from_json(dict(order)).to_json()
        record: JournalRecord = self.call(lambda store: request_phone_order(store, checked))
        return str(record.data["ref"])

    def reprint(self, order_id: str, station: str | None = None) -> list[int]:
        """Prints the order's tickets again, marked as a copy: one station's (`station`; "" the box's own
        printer) or all of them. Returns the new print jobs; `StageRefused` for an unknown order/station.
        """

        def run(store: Store) -> list[int]:
            kept = find_named(store, order_id)
            if kept is None:
                raise StageRefused(f"order {order_id} is not on this box")
            tickets = self.render(Order.from_json(kept.order), kept.shown)
            if station is not None:
                if station not in tickets:
                    raise StageRefused(f"order {kept.shown} has no ticket for station {station!r}")
                tickets = {station: tickets[station]}
            jobs = []
            for name, ticket in tickets.items():
                job = requeue_ticket(store, kept.order_id, {name: ticket}, self.ttl_s)
                if job is not None:
                    jobs.append(job)
            return jobs

        jobs: list[int] = self.call(run)
        return jobs


def _floor_orders(
    store: Store, stages: tuple[str, ...] | None, newest: int | None = None
) -> list[FloorOrder]:
    if newest is not None:
        return [_view(store, kept) for kept in list_orders(store, stages, limit=newest, newest_first=True)]
    return [_view(store, kept) for kept in list_orders(store, stages)]


def _floor_order(store: Store, order_id: str) -> FloorOrder | None:
    kept = find_named(store, order_id)
    return None if kept is None else _view(store, kept)


def _view(store: Store, kept: StoredOrder) -> FloorOrder:
    stage = kept.stage
    if kept.state == "cancelled":
        stage = "cancelled"
    elif stage == "new" and kept.collected_seq is not None:
        stage = "collected"
    return FloorOrder(
        order=Order.from_json(kept.order),
        stage=stage,
        stage_at=kept.stage_at,
        eta_min=kept.eta_min,
        received_at=kept.received_at,
        printed=printed_by_station(store, kept.order_id),
        number=kept.shown,
    )
