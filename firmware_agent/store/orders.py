"""Online orders the cloud sent to this box: kept, printed, journaled, handed over.

Every function runs on the core loop (directly, or through `core.call`) inside its transaction, so an order
is stored, de-duplicated and its ticket queued in one commit; the MQTT link acknowledges the message only
after that commit, and a redelivered order is recognised by its id and not printed twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from firmware_agent.store.database import Store
from firmware_agent.store.records import JournalRecord, PrintJobRecord

ORDER_JOB_KIND = "order"


@dataclass(frozen=True)
class StoredOrder:
    order_id: str
    order: dict[str, Any]  # the order as the wire carried it (wire.Order.to_json())
    received_at: float
    print_job: int | None
    printed_seq: int | None  # seq of its `order_printed` journal entry, once printed
    collected_seq: int | None  # seq of its `order_collected` entry, once handed over


_COLUMNS = "order_id, payload, received_at, print_job, printed_seq, collected_seq"


def store_order(store: Store, order: dict[str, Any], ticket: bytes, ttl_s: float) -> int | None:
    """Keeps a new order and queues its ticket; returns the print job id, or None for an order seen before."""
    order_id = str(order["order_id"])
    if not store.first_time_seen("order", order_id):
        return None
    job = store.enqueue_print(ORDER_JOB_KIND, ticket, ttl_s)
    _sql(store).execute(
        "INSERT INTO inbound_order (order_id, payload, received_at, print_job) VALUES (?, ?, ?, ?)",
        (order_id, json.dumps(order, ensure_ascii=False, separators=(",", ":")), time.time(), job),
    )
    return job


def find_order(store: Store, order_id: str) -> StoredOrder | None:
    row = _sql(store).execute(f"SELECT {_COLUMNS} FROM inbound_order WHERE order_id = ?", (order_id,))
    return _record(row.fetchone())


def order_for_job(store: Store, job_id: int) -> StoredOrder | None:
    row = _sql(store).execute(f"SELECT {_COLUMNS} FROM inbound_order WHERE print_job = ?", (job_id,))
    return _record(row.fetchone())


def record_printed(store: Store, job_id: int) -> JournalRecord | None:
    """For the print worker: call (on the core loop) once print job `job_id` has come out of the printer.

    If the job is an order's ticket that was not printed before, this journals `order_printed` (so the shop
    sees it online) and returns the entry; any other job, or a reprint, returns None.
    """
    order = order_for_job(store, job_id)
    if order is None or order.printed_seq is not None:
        return None
    record = store.append("order_printed", {"order_id": order.order_id})
    _sql(store).execute(
        "UPDATE inbound_order SET printed_seq = ? WHERE order_id = ?", (record.seq, order.order_id)
    )
    return record


def on_order_printed(store: Store, job: PrintJobRecord) -> None:
    """The print worker's hook for kind "order": `PrintService.on_printed["order"] = on_order_printed`."""
    record_printed(store, job.id)


def record_collected(store: Store, order_id: str, pickup_code: str, seq: int) -> str | None:
    """Notes that journal entry `seq` handed order `order_id` over; returns what looks wrong, if anything.

    The core journals `order_collected` whatever this box knows (the order may have gone to another till),
    so a mismatch is a warning for the log, never a refusal. Pickup codes are read upper case, so the order
    id is matched without regard to case.
    """
    row = _sql(store).execute(
        f"SELECT {_COLUMNS} FROM inbound_order WHERE order_id = ? COLLATE NOCASE", (order_id,)
    )
    order = _record(row.fetchone())
    if order is None:
        return f"order {order_id!r} was collected but this box never received it"
    if order.collected_seq is not None:
        return f"order {order_id!r} was already collected (journal seq {order.collected_seq})"
    _sql(store).execute(
        "UPDATE inbound_order SET collected_seq = ? WHERE order_id = ?", (seq, order.order_id)
    )
    expected = order.order.get("pickup_code")
    if expected is not None and str(expected).upper() != pickup_code.upper():
        return f"order {order_id!r} was collected with pickup code {pickup_code!r}, not its own"
    return None


def requeue_ticket(store: Store, order_id: str, ticket: bytes, ttl_s: float) -> int | None:
    """Prints an order's ticket again (support's `print.reprint`); None if the order is unknown."""
    if find_order(store, order_id) is None:
        return None
    job = store.enqueue_print(ORDER_JOB_KIND, ticket, ttl_s, reprint=True)
    _sql(store).execute("UPDATE inbound_order SET print_job = ? WHERE order_id = ?", (job, order_id))
    return job


def _sql(store: Store) -> Any:
    return store.db.connection()


def _record(row: tuple[Any, ...] | None) -> StoredOrder | None:
    if row is None:
        return None
    order_id, payload, received_at, job, printed, collected = row
    return StoredOrder(order_id, json.loads(payload), received_at, job, printed, collected)
