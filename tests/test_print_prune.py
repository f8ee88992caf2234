"""A box printing every day for months keeps the print jobs of the last days, not every ticket it ever
printed: tickets queued and printed on a real core loop, store, print worker and virtual printer, with the
store's clock moved by hand a day at a time. What printing still needs stays: a recent job reprints by its
id (support's `print.reprint`), and the last ticket printed comes out again at a short press of the button
however long the box sat idle."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from pathlib import Path

from devices.gpio import ButtonPressed
from devices.printers.render import TicketBuilder
from firmware_agent.printing import PrintService
from firmware_agent.store import Store, database
from firmware_agent.store.database import StoreLimits
from tests.core_helpers import running_core
from tests.store_helpers import open_store
from tests.test_printing import printer, service_for

__all__ = ["printer"]  # fixtures

DAY = 86400.0
PER_DAY = 8
KEEP_DAYS = StoreLimits().print_keep_s / DAY


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "tillbridge.db") as conn:
        return int(conn.execute("SELECT count(*) FROM print_job").fetchone()[0])


def ticket(name: str) -> bytes:
    builder = TicketBuilder()
    builder.line(f"ticket {name}")
    builder.cut()
    return builder.getvalue()


def queue(store: Store, paper: bytes) -> int:
    return store.enqueue_print("order", paper, 3600)


def counting(service: PrintService) -> threading.Semaphore:
    """Released once per order job the worker has marked done in the store."""
    done = threading.Semaphore(0)
    service.on_printed["order"] = lambda store, job: done.release()
    return done


def test_a_box_printing_for_months_keeps_only_the_last_days_of_print_jobs(tmp_path, printer, monkeypatch):
    """Every ticket the box ever printed stayed in its print queue table, payload and all: a pizzeria's SD
    card grew by thousands of rows a month, and each short press of the button read them all back."""
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(database, "time", clock)
    service = service_for(printer)
    done = counting(service)
    jobs: list[int] = []
    sizes = []
    with running_core(tmp_path, store=open_store(tmp_path), services=[service]) as box:
        for day in range(40):
            for n in range(PER_DAY):
                job = box.core.call(functools.partial(queue, paper=ticket(f"{day}-{n}")))
                jobs.append(job)
                service.wake()
                clock.now += 600
            for _ in range(PER_DAY):
                assert done.acquire(timeout=10), "a job did not print"
            clock.now += DAY - PER_DAY * 600
            sizes.append(rows(tmp_path))
        printed = len(printer.wait_for_tickets(40 * PER_DAY))
        bound = int(KEEP_DAYS + 1) * PER_DAY + 1
        assert max(sizes) <= bound, f"the print queue grew to {max(sizes)} rows (bound {bound})"

        assert not box.core.call(lambda store: store.has_print_job(jobs[0]))  # 40 days old: gone
        yesterday = jobs[-PER_DAY - 1]
        assert box.core.call(lambda store: store.has_print_job(yesterday))
        box.core.call(lambda store: store.mark_reprint(yesterday))  # what `print.reprint {"job": …}` does
        service.wake()
        again = printer.wait_for_tickets(printed + 1)[-1]
        assert "REPRINT" in again.text and f"ticket 38-{PER_DAY - 1}" in again.text

        clock.now += 30 * DAY  # closed for a month: the last ticket is old, and still the button's
        box.core.post(ButtonPressed("short"))
        last = printer.wait_for_tickets(printed + 2)[-1]
        assert "REPRINT" in last.text and f"ticket 39-{PER_DAY - 1}" in last.text


def test_a_job_still_waiting_or_printing_is_never_let_go_whatever_its_age(tmp_path):
    store = open_store(tmp_path)
    try:
        with store.transaction():
            waiting = store.enqueue_print("order", b"waiting", 3 * DAY)  # may still print two days on
            printing = store.enqueue_print("order", b"printing", 3600)
            store.set_print_state(printing, "printing")
            old = store.enqueue_print("order", b"old", 3600)
            store.set_print_state(old, "expired")
            assert store.prune_print_jobs(before=time.time() + 2 * DAY) == 1
        assert [job.id for job in store.print_jobs(["queued", "printing", "expired"])] == [waiting, printing]
    finally:
        store.close()


def test_tickets_for_a_station_with_no_printer_do_not_pile_up_in_the_queue(tmp_path, monkeypatch):
    """Only a printer that serves a job's kind marks it expired: a box with no bar printer kept every bar
    ticket queued for ever, and its print queue grew by a row a ticket."""
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(database, "time", clock)
    store = open_store(tmp_path)
    try:
        for day in range(10):
            for n in range(PER_DAY):
                with store.transaction():
                    store.enqueue_print("order@bar", ticket(f"{day}-{n}"), 3600)
                clock.now += 600
            clock.now += DAY - PER_DAY * 600
        bound = int(KEEP_DAYS + 1) * PER_DAY + 1
        assert rows(tmp_path) <= bound, f"{rows(tmp_path)} unprinted bar tickets still queued (bound {bound})"
        waiting = [job.payload for job in store.print_jobs(["queued"])]
        assert ticket(f"9-{PER_DAY - 1}") in waiting  # what may still print stays
    finally:
        store.close()
