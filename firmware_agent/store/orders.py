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
from dataclasses import dataclass
from typing import Any, Final

from firmware_agent.store.database import Store
from firmware_agent.store.records import JournalRecord, PrintJobRecord
from wire import OrderPrintedEntry, pickup_matches

ORDER_JOB_KIND = "order"
KEY_SETTING: Final = "pickup_key.{}"


@dataclass(frozen=True)
class StoredOrder:
    order_id: str
    order: dict[str, Any]  # the order as the wire carried it (wire.Order.to_json()), at its latest rev
    received_at: float
    print_job: int | None
    printed_seq: int | None  # seq of its `order_printed` journal entry, once printed
    collected_seq: int | None  # seq of its `order_collected` entry, once handed over

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
    """What `store_order` did: `new_job` is a ticket now queued, `withdrawn` one taken back unprinted."""

    order_id: str
    rev: int
    changed: bool
    new_job: int | None = None
    withdrawn: int | None = None


_COLUMNS = "order_id, payload, received_at, print_job, printed_seq, collected_seq"


def store_order(store: Store, order: dict[str, Any], ticket: bytes, ttl_s: float) -> Stored:
    """Keeps an order at its revision and queues or withdraws its ticket to match.

    A revision at or below the one kept is a redelivery: nothing changes (the link still acks it).
    """
    order_id, rev = str(order["order_id"]), int(order.get("rev", 1))
    payload = json.dumps(order, ensure_ascii=False, separators=(",", ":"))
    kept = find_order(store, order_id)
    if kept is not None and kept.rev >= rev:
        return Stored(order_id, kept.rev, changed=False)
    if kept is None:
        store.sql(
            "INSERT INTO inbound_order (order_id, payload, received_at) VALUES (?, ?, ?)",
            (order_id, payload, time.time()),
        )
        kept = find_order(store, order_id)
        assert kept is not None
    else:
        store.sql("UPDATE inbound_order SET payload = ? WHERE order_id = ?", (payload, order_id))
    now = StoredOrder(order_id, order, kept.received_at, kept.print_job, kept.printed_seq, kept.collected_seq)
    if now.wants_ticket and now.print_job is None and now.printed_seq is None:
        job = store.enqueue_print(ORDER_JOB_KIND, ticket, ttl_s)
        store.sql("UPDATE inbound_order SET print_job = ? WHERE order_id = ?", (job, order_id))
        return Stored(order_id, rev, changed=True, new_job=job)
    if not now.wants_ticket and now.print_job is not None and now.printed_seq is None:
        cursor = store.sql(
            "UPDATE print_job SET state = 'withdrawn' WHERE id = ? AND state = 'queued'", (now.print_job,)
        )
        if cursor.rowcount:
            store.sql("UPDATE inbound_order SET print_job = NULL WHERE order_id = ?", (order_id,))
            return Stored(order_id, rev, changed=True, withdrawn=now.print_job)
    return Stored(order_id, rev, changed=True)


def store_pickup_key(store: Store, key_id: int, key_hex: str) -> None:
    """Keeps the shop's pickup key `key_id`; keys are only added, so orders hashed with an old one verify."""
    store.sql(  # the store logs statements, never their values
        "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (KEY_SETTING.format(key_id), key_hex)
    )


def recent_orders(store: Store, limit: int) -> list[StoredOrder]:
    """The `limit` orders received last, newest first (the box page's order board)."""
    rows = store.sql(f"SELECT {_COLUMNS} FROM inbound_order ORDER BY received_at DESC LIMIT ?", (limit,))
    return [
        StoredOrder(o, json.loads(p), at, job, printed, collected)
        for o, p, at, job, printed, collected in rows
    ]


def check_pickup(store: Store, order_id: str, code: str) -> tuple[str, str | None]:
    """(the order id as the box keeps it, what is wrong or None) for a pickup code scanned at the till.

    Refused: an order this box never received, a cancelled one, one already collected (here or, as the
    bridge said, at another till), one without a pickup code, and a code that does not verify.
    """
    row = store.sql(f"SELECT {_COLUMNS} FROM inbound_order WHERE order_id = ? COLLATE NOCASE", (order_id,))
    order = _record(row.fetchone())
    if order is None:
        return order_id, f"unknown pickup code: order {order_id} is not known at this till"
    shown = order.order_id
    if order.state == "cancelled":
        return shown, f"order {shown} was cancelled: do not hand it over"
    if order.collected_seq is not None or order.state == "collected":
        return shown, f"order {shown} was already collected"
    expected, key_id = order.order.get("pickup_hash"), order.order.get("pickup_key")
    if not expected or key_id is None:
        return shown, f"order {shown} has no pickup code (it is not a click & collect order)"
    found = store.sql("SELECT value FROM setting WHERE key = ?", (KEY_SETTING.format(key_id),))
    key = (found.fetchone() or (None,))[0]
    if key is None:
        return shown, f"order {shown}: pickup key {key_id} has not reached this till yet, cannot check it"
    if not pickup_matches(bytes.fromhex(key), shown, code, str(expected)):
        return shown, f"wrong pickup code for order {shown}"
    return shown, None


def mark_collected(store: Store, order_id: str, seq: int) -> None:
    """The `order_collected` entry `seq` handed the order over: a second scan of its code is refused."""
    store.sql("UPDATE inbound_order SET collected_seq = ? WHERE order_id = ?", (seq, order_id))


def find_order(store: Store, order_id: str) -> StoredOrder | None:
    row = store.sql(f"SELECT {_COLUMNS} FROM inbound_order WHERE order_id = ?", (order_id,))
    return _record(row.fetchone())


def order_for_job(store: Store, job_id: int) -> StoredOrder | None:
    row = store.sql(f"SELECT {_COLUMNS} FROM inbound_order WHERE print_job = ?", (job_id,))
    return _record(row.fetchone())


def record_printed(store: Store, job_id: int) -> JournalRecord | None:
    """For the print worker: call (on the core loop) once print job `job_id` has come out of the printer.

    If the job is an order's ticket that was not printed before, this journals `order_printed` (so the shop
    sees it online) and returns the entry; any other job, or a reprint, returns None.
    """
    order = order_for_job(store, job_id)
    if order is None or order.printed_seq is not None:
        return None
    record = store.append(OrderPrintedEntry(order_id=order.order_id))
    store.sql("UPDATE inbound_order SET printed_seq = ? WHERE order_id = ?", (record.seq, order.order_id))
    return record


def on_order_printed(store: Store, job: PrintJobRecord) -> None:
    """The print worker's hook for kind "order": `PrintService.on_printed["order"] = on_order_printed`."""
    record_printed(store, job.id)


def requeue_ticket(store: Store, order_id: str, ticket: bytes, ttl_s: float) -> int | None:
    """Prints an order's ticket again (support's `print.reprint`); None if the order is unknown."""
    if find_order(store, order_id) is None:
        return None
    job = store.enqueue_print(ORDER_JOB_KIND, ticket, ttl_s, reprint=True)
    store.sql("UPDATE inbound_order SET print_job = ? WHERE order_id = ?", (job, order_id))
    return job


def _record(row: tuple[Any, ...] | None) -> StoredOrder | None:
    if row is None:
        return None
    order_id, payload, received_at, job, printed, collected = row
    return StoredOrder(order_id, json.loads(payload), received_at, job, printed, collected)
