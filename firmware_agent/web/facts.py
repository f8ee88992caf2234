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
from firmware_agent.floor import FloorDesk, FloorOrder
from firmware_agent.link.ticket import when
from firmware_agent.printing import PrintRequest
from firmware_agent.selftest import local_ip
from firmware_agent.store import Store
from firmware_agent.version import VERSION
from wire import OrderLine

if TYPE_CHECKING:
    from firmware_agent.wiring import Services

RECENT: Final = 12  # journal entries the page lists
OPEN_STAGES: Final = ("new", "accepted", "ready")
DONE_STAGES: Final = ("collected", "delivered", "cancelled")
DONE_SHOWN: Final = 8  # orders handed over or cancelled that the board still shows, newest first
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
    """One order on the floor's board, as `FloorDesk` (firmware_agent/floor.py) has it, in words to show."""

    order_id: str
    number: str
    stage: str  # new, accepted, ready, collected, delivered, cancelled
    next_stage: str | None
    customer: str
    phone: str
    kind: str  # pickup or delivery
    source: str  # online or phone
    lines: tuple[str, ...]  # "2 × Margarita (Extra: olives) — well done"
    notes: str
    allergies: str
    when: str  # "as soon as possible" or the slot, HH:MM
    received_at: str  # local HH:MM
    age_min: int
    stage_at: str  # local HH:MM the order reached its stage
    eta_min: int | None
    to_pay_cents: int  # 0: paid online
    printed: bool  # every station's ticket is out

    @classmethod
    def of(cls, found: FloorOrder, now: float, timezone: str = "") -> BoardOrder:
        order = found.order
        return cls(
            order_id=order.order_id,
            number=found.number or order.shown_number.lstrip("#"),
            stage=found.stage,
            next_stage=found.next_stage,
            customer=order.customer,
            phone=order.phone,
            kind=order.kind,
            source=order.source,
            lines=tuple(_line(line) for line in order.lines),
            notes=order.notes,
            allergies=order.allergies,
            when=when(order, timezone).lower(),
            received_at=_hhmm(found.received_at),
            age_min=max(0, int((now - found.received_at) // 60)),
            stage_at=_hhmm(found.stage_at) if found.stage_at else "",
            eta_min=found.eta_min,
            to_pay_cents=0 if order.paid else order.due_cents,
            printed=all(found.printed.values()) if found.printed else False,
        )


@dataclass(frozen=True)
class Board:
    """The order board: what is open, by stage, oldest first, and the last few handed over or cancelled."""

    new: tuple[BoardOrder, ...] = ()
    accepted: tuple[BoardOrder, ...] = ()
    ready: tuple[BoardOrder, ...] = ()
    done: tuple[BoardOrder, ...] = ()
    linked: bool = False  # False: no cloud link, so no orders come to this box

    @classmethod
    def of(cls, desk: FloorDesk | None, now: float, timezone: str = "") -> Board:
        if desk is None:
            return cls()
        # Open orders are asked for on their own: `FloorDesk.orders` lists at most 200, oldest first, and a
        # day's handed-over orders must never push a new one off the board.
        shown = [BoardOrder.of(found, now, timezone) for found in desk.orders(OPEN_STAGES)]
        by = {stage: tuple(o for o in shown if o.stage == stage) for stage in OPEN_STAGES}
        done = desk.orders(DONE_STAGES, newest=DONE_SHOWN)
        recent = tuple(BoardOrder.of(found, now, timezone) for found in done)
        return cls(by["new"], by["accepted"], by["ready"], recent, linked=True)


def _line(line: OrderLine) -> str:
    text = f"{line.qty} × {line.name}"
    if line.options:
        text += " (" + ", ".join(f"{o.name}: {o.value}" if o.name else o.value for o in line.options) + ")"
    return f"{text} — {line.note}" if line.note else text


def _hhmm(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


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
    board: Board
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
    timezone: str = "",
) -> Snapshot:
    link = services.link

    def read(store: Store) -> dict[str, Any]:
        return {
            "last_seq": store.last_seq,
            "products": store.product_count(),
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
        board=Board.of(services.floor(), time.time(), timezone),
        labels=tuple(facts["labels"]),
        recent=tuple(activity.entries),
        readings=tuple(sorted(activity.readings.values(), key=lambda r: r.device)),
        pairing=pairing,
        acked=link.drain.acked if link is not None else None,
    )


def _printable(text: str) -> str:
    """A scanned code as text to show (GS and other control characters as ·)."""
    return "".join(c if c.isprintable() else "·" for c in text)


def _entry(seq: int, kind: str, ts: str, data: dict[str, Any]) -> Entry:
    at = ts[11:19] if len(ts) >= 19 else ts
    if "sku" in data:
        text = f"{data['sku']} {data.get('delta', '')}"
    elif "order_id" in data:  # the number staff know it by (its ticket's), when it is not the id
        text = f"order {data.get('number') or data['order_id']}"
    else:
        text = ", ".join(f"{k} {v}" for k, v in list(data.items())[:3])
    return Entry(seq, kind, at, text[:120])
