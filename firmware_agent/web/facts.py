"""What the box's page shows, gathered on the core loop (`core.call`), so a read sees one committed state
and the web threads never touch the store themselves. Actions go through the same paths as remote support
(`RemoteBox`): the print queue, the core loop.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from firmware_agent import labels
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.printing import PrintRequest
from firmware_agent.selftest import local_ip
from firmware_agent.store import Store
from firmware_agent.store.orders import recent_orders
from firmware_agent.version import VERSION

if TYPE_CHECKING:
    from firmware_agent.wiring import Services

RECENT: Final = 12  # journal entries the page lists
ORDERS: Final = 40


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    at: str  # local HH:MM:SS
    text: str


@dataclass(frozen=True)
class BoardOrder:
    order_id: str
    state: str  # new (not printed), printed, collected, cancelled
    customer: str
    kind: str
    items: str
    received_at: str
    age_min: int


@dataclass(frozen=True)
class Snapshot:
    box: str
    shop: str
    version: str
    ip: str
    link: str
    backlog: int | None
    last_seq: int
    products: int
    mode: str
    devices: tuple[tuple[str, str, str], ...]  # (name, state, detail)
    printer: bool
    orders: tuple[BoardOrder, ...]
    labels: tuple[tuple[str, int, int], ...]  # (name, old cents, new cents)
    recent: tuple[Entry, ...]


@dataclass
class Activity:
    """The journal entries the core loop committed lately, kept by a listener; `changed` wakes the live
    stream of every open page."""

    entries: deque[Entry] = field(default_factory=lambda: deque(maxlen=RECENT))
    version: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, applied: Applied) -> None:
        if not applied.records:
            return
        with self.changed:
            for record in applied.records:
                self.entries.appendleft(_entry(record.seq, record.kind, record.ts, record.data))
            self.version += 1
            self.changed.notify_all()

    def bump(self) -> None:
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout)
            return self.version


def snapshot(box: str, shop: str, core: CoreLoop, services: Services, activity: Activity) -> Snapshot:
    link = services.link

    def read(store: Store) -> dict[str, Any]:
        return {
            "last_seq": store.last_seq,
            "products": store.product_count(),
            "orders": _orders(store),
            "labels": [
                (v.get("name", sku), int(v.get("old", 0)), int(v.get("new", 0)))
                for sku, v in labels.pending(store).items()
            ],
        }

    facts: dict[str, Any] = core.call(read)
    return Snapshot(
        box=box,
        shop=shop,
        version=VERSION,
        ip=local_ip(),
        link=services.link_state(),
        backlog=link.drain.backlog if link is not None else None,
        last_seq=facts["last_seq"],
        products=facts["products"],
        mode=core.state.mode.value,
        devices=tuple(sorted((n, d.state.value, d.detail) for n, d in dict(core.devices).items())),
        printer=core.handles(PrintRequest),
        orders=tuple(facts["orders"]),
        labels=tuple(facts["labels"]),
        recent=tuple(activity.entries),
    )


def _orders(store: Store) -> list[BoardOrder]:
    now = time.time()
    found = []
    for stored in recent_orders(store, ORDERS):
        order, received_at = stored.order, stored.received_at
        printed, collected = stored.printed_seq, stored.collected_seq
        state = str(order.get("state", "open"))
        shown = (
            "collected"
            if collected or state == "collected"
            else "cancelled"
            if state == "cancelled"
            else ("printed" if printed else "new")
        )
        items = ", ".join(
            f"{line.get('qty', 1)} × {line.get('name', line.get('sku', '?'))}"
            for line in order.get("lines", [])
        )
        found.append(
            BoardOrder(
                order_id=stored.order_id,
                state=shown,
                customer=str(order.get("customer", "")),
                kind=str(order.get("kind", "")),
                items=items[:300],
                received_at=time.strftime("%H:%M", time.localtime(received_at)),
                age_min=max(0, int((now - received_at) // 60)),
            )
        )
    return found


def _entry(seq: int, kind: str, ts: str, data: dict[str, Any]) -> Entry:
    at = ts[11:19] if len(ts) >= 19 else ts
    if "sku" in data:
        text = f"{data['sku']} {data.get('delta', '')}"
    elif "order_id" in data:
        text = f"order {data['order_id']}"
    else:
        text = ", ".join(f"{k} {v}" for k, v in list(data.items())[:3])
    return Entry(seq, kind, at, text[:120])
