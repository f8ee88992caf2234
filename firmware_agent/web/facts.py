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
from urllib.parse import urlsplit

from devices.readings import ScanRead
from firmware_agent import labels
from firmware_agent.config.schema import MqttConfig
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
READINGS: Final = 16  # devices whose last reading is kept


@dataclass(frozen=True)
class Reading:
    """A device's last reading: what it read (a scanned code), when, and what the box made of it."""

    device: str
    value: str
    at: str  # local HH:MM:SS
    outcome: str


@dataclass(frozen=True)
class Found:
    """A product the catalog search found: for the floor's lookups and phone orders."""

    sku: str
    name: str
    price_cents: int
    unit: str
    stock: int
    barcode: str


def search(core: CoreLoop, text: str) -> list[Found]:
    """Products by name, sku or barcode, read on the core loop."""
    rows = core.call(lambda store: store.search_products(text))
    return [Found(p.sku, p.name, p.price_cents, p.unit, p.stock, code) for p, code in rows]


@dataclass(frozen=True)
class Pairing:
    """What an installer needs to pair the box with its shop, and whether the bridge has it: the code to
    read out to whoever runs the bridge (`shop/box`), and what the box connects with. Never a secret: the
    password and the command key only show as set or not."""

    code: str
    broker: str  # scheme://host:port, without any user info
    username: str
    client_id: str
    password_set: bool
    tls: str
    command_key_set: bool
    signed_commands: bool

    @classmethod
    def of(cls, shop: str, box: str, mqtt: MqttConfig | None) -> Pairing | None:
        if mqtt is None:
            return None
        url = urlsplit(mqtt.url)
        port = f":{url.port}" if url.port else ""
        tls = "TLS" if url.scheme == "mqtts" else "none (plain MQTT)"
        if url.scheme == "mqtts" and mqtt.cert_file is not None:
            tls += " with a client certificate"
        return cls(
            code=f"{shop}/{box}",
            broker=f"{url.scheme}://{url.hostname or '?'}{port}",
            username=mqtt.username or box,
            client_id=mqtt.client_id or box,
            password_set=mqtt.password is not None,
            tls=tls,
            command_key_set=mqtt.command_key is not None,
            signed_commands=mqtt.require_signed_commands,
        )


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
    readings: tuple[Reading, ...] = ()
    pairing: Pairing | None = None
    acked: int | None = None  # the last journal seq the bridge acknowledged; None without a link


@dataclass
class Activity:
    """The journal entries the core loop committed lately, kept by a listener; `changed` wakes the live
    stream of every open page."""

    entries: deque[Entry] = field(default_factory=lambda: deque(maxlen=RECENT))
    readings: dict[str, Reading] = field(default_factory=dict)
    version: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, applied: Applied) -> None:
        if isinstance(applied.event, ScanRead):
            self._read(applied)
        if not applied.records:
            return
        with self.changed:
            for record in applied.records:
                self.entries.appendleft(_entry(record.seq, record.kind, record.ts, record.data))
            self.version += 1
            self.changed.notify_all()

    def _read(self, applied: Applied) -> None:
        event = applied.event
        assert isinstance(event, ScanRead)
        at = time.strftime("%H:%M:%S", time.localtime())
        entries = (_entry(r.seq, r.kind, r.ts, r.data) for r in applied.records)
        said = applied.error or applied.outcome.message or "; ".join(f"{e.kind} {e.text}" for e in entries)
        reading = Reading(event.source[:80], _printable(event.data)[:80], at, (said or "no entry")[:120])
        with self.changed:
            self.readings.pop(reading.device, None)
            self.readings[reading.device] = reading
            while len(self.readings) > READINGS:
                self.readings.pop(next(iter(self.readings)))
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


def snapshot(
    box: str,
    shop: str,
    core: CoreLoop,
    services: Services,
    activity: Activity,
    pairing: Pairing | None = None,
) -> Snapshot:
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
        readings=tuple(sorted(activity.readings.values(), key=lambda r: r.device)),
        pairing=pairing,
        acked=link.drain.acked if link is not None else None,
    )


def _printable(text: str) -> str:
    """A scanned code as text to show (GS and other control characters as ·)."""
    return "".join(c if c.isprintable() else "·" for c in text)


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
