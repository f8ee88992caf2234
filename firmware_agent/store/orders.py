"""Online orders the cloud sent to this box: kept, printed, journaled, verified and handed over.

Every function runs on the core loop (directly, or through `core.call`) inside its transaction, so an order
is stored, de-duplicated and its ticket queued in one commit; the MQTT link acknowledges the message (and
sends the order ack) only after that commit. An order arrives as its whole state at a revision (`rev`); a
repeated or older revision changes nothing, a newer one replaces what the box kept: a cancellation, a
collection at another till or a ticket moved to another box takes back a ticket that has not printed yet.

Pickup codes are checked here, offline: the order carries `pickup_hash`, an HMAC of the order id and the
code under the shop's pickup key `pickup_key`; the keys arrive from the bridge beforehand and are kept in
the store's settings (`pickup_key.<id>`, hex). The box never holds a pickup code it has not been shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from firmware_agent.errors import AgentError
from firmware_agent.store.database import Store
from firmware_agent.store.order_numbers import assign, order_id_of
from firmware_agent.store.records import JournalRecord, PrintJobRecord
from wire import OrderPrintedEntry, OrderRequestEntry, OrderStageEntry, pickup_matches

ORDER_JOB_KIND = "order"
KEY_SETTING: Final = "pickup_key.{}"


STAGES: Final = ("new", "accepted", "ready", "collected", "delivered")
"""Where an order is on the shop floor, in the only order it moves (docs/orders.md)."""


@dataclass(frozen=True)
class StoredOrder:
    order_id: str
    order: dict[str, Any]  # the order as the wire carried it (wire.Order.to_json()), at its latest rev
    received_at: float
    print_job: int | None
    printed_seq: int | None  # seq of its first `order_printed` journal entry, once a ticket printed
    collected_seq: int | None  # seq of its `order_collected` entry, once handed over
    stage: str = "new"
    stage_at: float | None = None
    eta_min: int | None = None
    number: str = ""  # its short number on the floor (store/order_numbers.py); "" for orders kept before

    @property
    def shown(self) -> str:
        """The number staff see and scan: its floor number, else (kept before numbers) the shop's or id."""
        return self.number or str(self.order.get("number") or self.order_id).lstrip("#")

    @property
    def rev(self) -> int:
        return int(self.order.get("rev", 1))

    @property
    def state(self) -> str:
        return str(self.order.get("state", "open"))

    @property
    def wants_ticket(self) -> bool:
        return self.state == "open" and bool(self.order.get("ticket", True))


@dataclass(frozen=True)
class Stored:
    """What `store_order` did: `new_job` is a ticket now queued, `withdrawn` one taken back unprinted
    (the first of `new_jobs` / `withdrawn_jobs` when the order has a ticket per station); `timed` says a
    ticket waits for its print time (`release_due` queues it then)."""

    order_id: str
    rev: int
    changed: bool
    new_job: int | None = None
    withdrawn: int | None = None
    new_jobs: tuple[int, ...] = ()
    withdrawn_jobs: tuple[int, ...] = ()
    timed: bool = False


_COLUMNS = (
    "order_id, payload, received_at, print_job, printed_seq, collected_seq, stage, stage_at, eta_min, number"
)
COPY_TTL_S: Final = 3600.0  # a copy asked for at the counter: wanted now, not hours later
MAIN_STATION: Final = ""
"""The station of the box's own `[printer]`; other stations print on their own printers."""


def job_kind(station: str) -> str:
    """The print job kind of an order ticket for `station`: what tells each printer's worker its jobs."""
    return ORDER_JOB_KIND if station == MAIN_STATION else f"{ORDER_JOB_KIND}@{station}"


def store_order(
    store: Store,
    order: dict[str, Any],
    tickets: bytes | Mapping[str, bytes],
    ttl_s: float,
    print_at: float = 0.0,
    *,
    number: str | None = None,
) -> Stored:
    """Keeps an order at its revision and queues or withdraws its tickets to match.

    `tickets` is the ticket per station (bytes alone: the box's own printer). Each station's ticket is a
    row of its own, written in this same transaction, so a kill -9 between two stations' prints loses
    neither and prints neither twice unmarked. A ticket whose `print_at` (a timed order's slot less the
    lead time) is still ahead waits in the store; `release_due` queues it when the time comes.
    A revision at or below the one kept is a redelivery: nothing changes (the link still acks it).
    A new order is kept with its floor `number` (the one its tickets were rendered with; None: `assign`s).
    """
    per_station = {MAIN_STATION: tickets} if isinstance(tickets, bytes) else dict(tickets)
    order_id, rev = str(order["order_id"]), int(order.get("rev", 1))
    payload = json.dumps(order, ensure_ascii=False, separators=(",", ":"))
    kept = find_order(store, order_id)
    if kept is not None and kept.rev >= rev:
        return Stored(order_id, kept.rev, changed=False)
    if kept is None:
        number = number or assign(store, order_id, str(order.get("number") or ""))
        store.sql(
            "INSERT INTO inbound_order (order_id, payload, received_at, stage_at, number) "
            "VALUES (?, ?, ?, ?, ?)",
            (order_id, payload, time.time(), time.time(), number),
        )
        kept = find_order(store, order_id)
        assert kept is not None
    else:  # an order kept before orders had numbers takes the one its new tickets carry
        store.sql(
            "UPDATE inbound_order SET payload = ?, number = COALESCE(number, ?) WHERE order_id = ?",
            (payload, number, order_id),
        )
    wants = kept.collected_seq is None and StoredOrder(order_id, order, 0, None, None, None).wants_ticket
    if wants:
        return _add_tickets(store, order_id, rev, per_station, ttl_s, print_at)
    return _withdraw_tickets(store, order_id, rev)


def _add_tickets(
    store: Store, order_id: str, rev: int, tickets: Mapping[str, bytes], ttl_s: float, print_at: float
) -> Stored:
    known = {row[0] for row in store.sql("SELECT station FROM order_ticket WHERE order_id = ?", (order_id,))}
    for station, ticket in tickets.items():
        if station not in known:
            store.sql(
                "INSERT INTO order_ticket (order_id, station, print_at, payload) VALUES (?, ?, ?, ?)",
                (order_id, station, print_at, ticket),
            )
    jobs = release_due(store, time.time(), ttl_s, order_id=order_id)
    timed = bool(
        store.sql(
            "SELECT 1 FROM order_ticket WHERE order_id = ? AND print_job IS NULL", (order_id,)
        ).fetchone()
    )
    return Stored(
        order_id, rev, changed=True, new_job=jobs[0] if jobs else None, new_jobs=tuple(jobs), timed=timed
    )


def _withdraw_tickets(store: Store, order_id: str, rev: int) -> Stored:
    """Takes back every ticket of the order not printed yet: queued jobs, and timed ones not due yet."""
    withdrawn: list[int] = []
    rows = store.sql(
        "SELECT station, print_job FROM order_ticket WHERE order_id = ? AND printed_seq IS NULL", (order_id,)
    )
    for station, job in rows.fetchall():
        if job is not None:
            cursor = store.sql(
                "UPDATE print_job SET state = 'withdrawn' WHERE id = ? AND state = 'queued'", (job,)
            )
            if not cursor.rowcount:
                continue  # printing right now, or already out: it stays
            withdrawn.append(job)
        store.sql("DELETE FROM order_ticket WHERE order_id = ? AND station = ?", (order_id, station))
    if withdrawn:
        store.sql(
            "UPDATE inbound_order SET print_job = NULL WHERE order_id = ? AND printed_seq IS NULL",
            (order_id,),
        )
    return Stored(
        order_id,
        rev,
        changed=True,
        withdrawn=withdrawn[0] if withdrawn else None,
        withdrawn_jobs=tuple(withdrawn),
    )


def release_due(store: Store, now: float, ttl_s: float, *, order_id: str | None = None) -> list[int]:
    """Queues the tickets whose print time has come (all of them, or only `order_id`'s); returns the jobs.

    Runs on the core loop at every tick: a timed order's tickets wait in the store through restarts and
    are queued once, in the transaction that records their job.
    """
    where = "print_job IS NULL AND printed_seq IS NULL AND print_at <= ?"
    args: tuple[Any, ...] = (now,)
    if order_id is not None:
        where, args = f"{where} AND order_id = ?", (now, order_id)
    rows = store.sql(
        f"SELECT order_id, station, payload FROM order_ticket WHERE {where} "
        "ORDER BY print_at, order_id, station",
        args,
    )
    jobs: list[int] = []
    for oid, station, payload in rows.fetchall():
        job = store.enqueue_print(job_kind(station), bytes(payload), ttl_s)
        store.sql(
            "UPDATE order_ticket SET print_job = ? WHERE order_id = ? AND station = ?", (job, oid, station)
        )
        store.sql(
            "UPDATE inbound_order SET print_job = ? WHERE order_id = ? AND print_job IS NULL", (job, oid)
        )
        jobs.append(job)
    return jobs


def store_pickup_key(store: Store, key_id: int, key_hex: str) -> None:
    """Keeps the shop's pickup key `key_id`; keys are only added, so orders hashed with an old one verify."""
    store.sql(  # the store logs statements, never their values
        "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (KEY_SETTING.format(key_id), key_hex)
    )


def recent_orders(store: Store, limit: int) -> list[StoredOrder]:
    """The `limit` orders received last, newest first (the box page's order board)."""
    rows = store.sql(f"SELECT {_COLUMNS} FROM inbound_order ORDER BY received_at DESC LIMIT ?", (limit,))
    return [order for order in map(_record, rows.fetchall()) if order is not None]


def check_pickup(store: Store, order_id: str, code: str) -> tuple[str, str | None]:
    """(the order id as the box keeps it, what is wrong or None) for a pickup code scanned at the till.

    The code names the order by its floor number or its id (a Shopify gid does not fit the barcode: its
    number does); the code is checked against the order's id, as the bridge hashed it.
    Refused: an order this box never received, a cancelled one, one already collected (here or, as the
    bridge said, at another till), one without a pickup code, and a code that does not verify.
    """
    order = find_by_key(store, order_id)
    if order is None:
        return order_id, f"unknown pickup code: order {order_id} is not known at this till"
    shown = order.shown
    if order.state == "cancelled":
        return order.order_id, f"order {shown} was cancelled: do not hand it over"
    if order.collected_seq is not None or order.state == "collected":
        return order.order_id, f"order {shown} was already collected"
    expected, key_id = order.order.get("pickup_hash"), order.order.get("pickup_key")
    if not expected or key_id is None:
        return order.order_id, f"order {shown} has no pickup code (it is not a click & collect order)"
    found = store.sql("SELECT value FROM setting WHERE key = ?", (KEY_SETTING.format(key_id),))
    key = (found.fetchone() or (None,))[0]
    if key is None:
        problem = f"order {shown}: pickup key {key_id} has not reached this till yet, cannot check it"
        return order.order_id, problem
    if not pickup_matches(bytes.fromhex(key), order.order_id, code, str(expected)):
        return order.order_id, f"wrong pickup code for order {shown}"
    return order.order_id, None


def mark_collected(store: Store, order_id: str, seq: int) -> None:
    """The `order_collected` entry `seq` handed the order over: a second scan of its code is refused."""
    store.sql(
        "UPDATE inbound_order SET collected_seq = ?, stage = CASE stage WHEN 'delivered' THEN stage "
        "ELSE 'collected' END, stage_at = ? WHERE order_id = ?",
        (seq, time.time(), order_id),
    )


def find_order(store: Store, order_id: str) -> StoredOrder | None:
    row = store.sql(f"SELECT {_COLUMNS} FROM inbound_order WHERE order_id = ?", (order_id,))
    return _record(row.fetchone())


def find_by_key(store: Store, key: str) -> StoredOrder | None:
    """The order a scan or a typed number names: by its floor number first (the code on its tickets), else
    by its id (`order_numbers.order_id_of`)."""
    order_id = order_id_of(store, key)
    return None if order_id is None else find_order(store, order_id)


def find_named(store: Store, name: str) -> StoredOrder | None:
    """The order the page or a command names: by its exact id first (what they were given), else as a
    scan would find it. (Two shops on one box: one's order id may be another's number.)"""
    return find_order(store, name) or find_by_key(store, name)


def number_of(store: Store, order_id: str) -> str | None:
    """The order's floor number for its journal entries (None: an order the box does not keep, or one
    whose id is its number: the entry says it once)."""
    kept = find_order(store, order_id)
    return None if kept is None or kept.shown == order_id else kept.shown


def order_for_job(store: Store, job_id: int) -> StoredOrder | None:
    found = station_of_job(store, job_id)
    return None if found is None else find_order(store, found[0])


def station_of_job(store: Store, job_id: int) -> tuple[str, str] | None:
    """(order id, station) of the order ticket that print job `job_id` prints, if it is one."""
    row = store.sql("SELECT order_id, station FROM order_ticket WHERE print_job = ?", (job_id,))
    found = row.fetchone()
    return None if found is None else (str(found[0]), str(found[1]))


def record_printed(store: Store, job_id: int) -> JournalRecord | None:
    """For the print worker: call (on the core loop) once print job `job_id` has come out of the printer.

    If the job is an order's ticket for a station that had not printed it before, this journals
    `order_printed` (so the shop sees it online; `station` names the printer when it is not the box's
    own) and returns the entry; any other job, or a reprint, returns None.
    """
    found = station_of_job(store, job_id)
    if found is None:
        return None
    order_id, station = found
    row = store.sql(
        "SELECT printed_seq FROM order_ticket WHERE order_id = ? AND station = ?", (order_id, station)
    ).fetchone()
    if row is None or row[0] is not None:
        return None
    record = store.append(
        OrderPrintedEntry(order_id=order_id, station=station or None, number=number_of(store, order_id))
    )
    store.sql(
        "UPDATE order_ticket SET printed_seq = ? WHERE order_id = ? AND station = ?",
        (record.seq, order_id, station),
    )
    store.sql(
        "UPDATE inbound_order SET printed_seq = ? WHERE order_id = ? AND printed_seq IS NULL",
        (record.seq, order_id),
    )
    return record


def on_order_printed(store: Store, job: PrintJobRecord) -> None:
    """The print worker's hook for order tickets: `PrintService.on_printed["order"] = on_order_printed`."""
    record_printed(store, job.id)


def printed_by_station(store: Store, order_id: str) -> dict[str, bool]:
    """Each station's ticket of the order ("" the box's own printer): printed yet or not."""
    rows = store.sql(
        "SELECT station, printed_seq FROM order_ticket WHERE order_id = ? ORDER BY station", (order_id,)
    )
    return {str(name): seq is not None for name, seq in rows.fetchall()}


def requeue_ticket(
    store: Store, order_id: str, ticket: bytes | Mapping[str, bytes], ttl_s: float
) -> int | None:
    """Prints an order's tickets again, marked REPRINT (support's `print.reprint`, the web page, a command
    barcode); None if the order is unknown. `ticket` per station, or bytes for the box's own printer.
    Returns the first new job.
    """
    if find_order(store, order_id) is None:
        return None
    per_station = {MAIN_STATION: ticket} if isinstance(ticket, bytes) else dict(ticket)
    jobs: list[int] = []
    for station, payload in per_station.items():
        job = store.enqueue_print(job_kind(station), payload, ttl_s, reprint=True)
        cursor = store.sql(
            "UPDATE order_ticket SET print_job = ? WHERE order_id = ? AND station = ?",
            (job, order_id, station),
        )
        if not cursor.rowcount:
            store.sql(
                "INSERT INTO order_ticket (order_id, station, print_at, payload, print_job) "
                "VALUES (?, ?, 0, ?, ?)",
                (order_id, station, payload, job),
            )
        jobs.append(job)
    store.sql("UPDATE inbound_order SET print_job = ? WHERE order_id = ?", (jobs[0], order_id))
    return jobs[0] if jobs else None


class StageRefused(AgentError):
    """A stage change that cannot happen (unknown order, a step back, a cancelled order): says why."""


class PhoneOrderRefused(AgentError):
    """A phone order the box will not send (a product not in its catalog): says which line."""


def move_stage(
    store: Store, order_id: str, stage: str, *, eta_min: int | None = None, source: str = "box"
) -> JournalRecord:
    """Moves an order on the floor (new → accepted → ready → collected / delivered) and journals
    `order_stage`, which the bridge turns into the shop's status and its mail to the customer. Steps may
    be skipped, never taken back; a repeated move (a second scan of the ticket) is refused by name.
    `source` says what moved it (button, scan, remote, web) for the owner's record.
    """
    if stage not in STAGES[1:]:
        raise StageRefused(f"unknown order stage {stage!r}: one of {', '.join(STAGES[1:])}")
    if eta_min is not None and not 0 < eta_min <= 24 * 60:
        raise StageRefused(f"estimated time {eta_min} min: give 1 to 1440 minutes")
    order = find_named(store, order_id)
    if order is None:
        raise StageRefused(f"order {order_id} is not on this box")
    shown = order.shown
    if order.state == "cancelled":
        raise StageRefused(f"order {shown} was cancelled: it does not move")
    if STAGES.index(stage) <= STAGES.index(order.stage):
        raise StageRefused(f"order {shown} is already {order.stage}: it cannot go to {stage}")
    if order.stage in ("collected", "delivered") or order.collected_seq is not None:
        raise StageRefused(f"order {shown} was already handed over")
    record = store.append(
        OrderStageEntry(
            order_id=order.order_id,
            stage=stage,
            source=source,
            eta_min=eta_min,
            number=number_of(store, order.order_id),
        )
    )
    store.sql(
        "UPDATE inbound_order SET stage = ?, stage_at = ?, eta_min = COALESCE(?, eta_min) WHERE order_id = ?",
        (stage, time.time(), eta_min, order.order_id),
    )
    if stage in ("collected", "delivered"):
        mark_collected(store, order.order_id, record.seq)
    return record


def step(store: Store, order_id: str, *, source: str) -> str:
    """Moves the order to its next stage (accepted, ready, then collected or delivered by its kind);
    returns the stage. What a scan of the order ticket's code does."""
    kept = find_by_key(store, order_id)
    if kept is None:
        raise StageRefused(f"order {order_id} is not on this box")
    following = {"new": "accepted", "accepted": "ready"}.get(kept.stage)
    if following is None and kept.stage == "ready":
        following = "delivered" if kept.order.get("kind") == "delivery" else "collected"
    if following is None:
        raise StageRefused(f"order {kept.shown} is already {kept.stage}: nothing follows")
    move_stage(store, kept.order_id, following, source=source)
    return following


def hand_over(store: Store, order_id: str, *, source: str) -> str:
    """Hands the order over, from whatever stage it is at: collected (pickup) or delivered (delivery);
    returns the stage. What a scan of the counter ticket's QR does: the bag leaves the counter with it."""
    kept = find_by_key(store, order_id)
    if kept is None:
        raise StageRefused(f"order {order_id} is not on this box")
    handed = "delivered" if kept.order.get("kind") == "delivery" else "collected"
    move_stage(store, kept.order_id, handed, source=source)
    return handed


def copy_tickets(store: Store, order_id: str) -> int:
    """Queues every ticket the order printed (or will print) again, as kept, marked as a copy; returns
    how many. What a scan of the order's copy code does (no rendering: the tickets are in the store)."""
    kept = find_by_key(store, order_id)
    if kept is None:
        raise StageRefused(f"order {order_id} is not on this box")
    rows = store.sql(
        "SELECT station, payload FROM order_ticket WHERE order_id = ? ORDER BY station", (kept.order_id,)
    ).fetchall()
    if not rows:
        raise StageRefused(f"order {kept.shown} has no ticket on this box")
    requeue_ticket(
        store, kept.order_id, {str(station): bytes(payload) for station, payload in rows}, COPY_TTL_S
    )
    return len(rows)


def request_phone_order(store: Store, order: dict[str, Any]) -> JournalRecord:
    """Journals a phone order for the bridge to create in the online shop (`order_request`); its `ref` is
    the box id and the entry's seq, unique for ever on this box, so the shop creates it once. A line whose
    sku the catalog lacks is refused here, while the caller is on the phone: the shop would refuse it too,
    later, with nobody there to hear it."""
    for number, line in enumerate(order["lines"], 1):
        if store.product(str(line["sku"])) is None:
            raise PhoneOrderRefused(
                f"line {number}: no product with sku {line['sku']!r} in this box's catalog"
            )
    ref = f"{store.setting('epoch') or 'box'}-{store.last_seq + 1}"
    return store.append(OrderRequestEntry(ref=ref, order=order))


def first_printed(store: Store, stages: Iterable[str], station: str | None = None) -> str | None:
    """The open order at `stages` whose first ticket came out earliest: the one the kitchen has had in hand
    longest. A timed order whose tickets wait for their print time is not there yet, nor one whose
    printer is down: nobody in the kitchen has seen them. With `station`, only orders whose ticket for
    that station came out, by when it did: a kitchen's button leaves the drinks-only orders alone."""
    wanted = tuple(stages)
    where = (
        f"o.collected_seq IS NULL AND o.stage IN ({', '.join('?' * len(wanted))}) "
        "AND COALESCE(json_extract(o.payload, '$.state'), 'open') = 'open'"
    )
    if station is None:
        row = store.sql(
            f"SELECT o.order_id FROM inbound_order o WHERE o.printed_seq IS NOT NULL AND {where} "
            "ORDER BY o.printed_seq LIMIT 1",
            wanted,
        ).fetchone()
    else:
        row = store.sql(
            "SELECT o.order_id FROM order_ticket t JOIN inbound_order o ON o.order_id = t.order_id "
            f"WHERE t.station = ? AND t.printed_seq IS NOT NULL AND {where} ORDER BY t.printed_seq LIMIT 1",
            (station, *wanted),
        ).fetchone()
    return None if row is None else str(row[0])


PRUNE_BATCH: Final = 20
"""Orders let go of per order kept: more than one, so the table shrinks back after a busy day, and few,
so keeping an order stays quick whatever piled up (a box off for a month catches up over ten orders)."""
_DONE: Final = (
    "(stage IN ('collected', 'delivered') OR collected_seq IS NOT NULL "
    "OR json_extract(payload, '$.state') IN ('cancelled', 'collected'))"
)


def prune(store: Store, before: float, limit: int = PRUNE_BATCH) -> int:
    """Lets go of orders handed over, delivered or cancelled before `before` (epoch seconds), oldest first,
    at most `limit`, with their tickets; returns how many. Open orders stay whatever their age: only what
    nobody can still move, collect or want reprinted at the counter goes. Their journal entries are the
    journal's (sent to the bridge, which keeps the owner's history), so nothing the shop sees is lost.
    """
    rows = store.sql(  # kept before orders had stages (no stage_at): the oldest of all
        f"SELECT order_id FROM inbound_order WHERE stage_at IS NULL AND received_at < ? AND {_DONE} LIMIT ?",
        (before, limit),
    ).fetchall()
    rows += store.sql(  # by the stage_at index: only orders whose last move is that old are looked at
        f"SELECT order_id FROM inbound_order WHERE stage_at < ? AND received_at < ? AND {_DONE} "
        "ORDER BY stage_at LIMIT ?",
        (before, before, limit - len(rows)),
    ).fetchall()
    for (order_id,) in rows:
        store.sql("DELETE FROM order_ticket WHERE order_id = ?", (order_id,))
        store.sql("DELETE FROM inbound_order WHERE order_id = ?", (order_id,))
    return len(rows)


def list_orders(
    store: Store, stages: Iterable[str] | None = None, *, limit: int = 200, newest_first: bool = False
) -> list[StoredOrder]:
    """The orders on the floor, oldest first (`newest_first`: the latest first): those at `stages` (all
    when None), cancelled ones left out unless asked for with the pseudo-stage "cancelled". What the web
    page's order board shows.
    """
    wanted = set(stages) if stages is not None else set(STAGES)
    by = "received_at DESC, order_id DESC" if newest_first else "received_at, order_id"
    rows = store.sql(f"SELECT {_COLUMNS} FROM inbound_order ORDER BY {by}")
    found: list[StoredOrder] = []
    for row in rows.fetchall():
        order = _record(row)
        assert order is not None
        stage = "cancelled" if order.state == "cancelled" else order.stage
        if order.stage == "new" and order.collected_seq is not None:
            stage = "collected"  # handed over by its pickup code before the floor moved it
        if stage in wanted:
            found.append(order)
            if len(found) >= limit:
                break
    return found


def _record(row: tuple[Any, ...] | None) -> StoredOrder | None:
    if row is None:
        return None
    order_id, payload, received_at, job, printed, collected, stage, stage_at, eta, number = row
    order = json.loads(payload)
    return StoredOrder(
        order_id, order, received_at, job, printed, collected, stage, stage_at, eta, number or ""
    )
