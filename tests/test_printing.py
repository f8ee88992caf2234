"""The durable print queue against the virtual printer over real TCP."""

from __future__ import annotations

import threading

import pytest

from devices.gpio import ButtonPressed
from devices.printers import PaperState, Printer
from devices.readings import DeviceState, DeviceStatus
from firmware_agent.printing import PrintRequest, PrintService
from firmware_agent.tickets import layouts
from firmware_agent.tickets.model import SelfTest
from firmware_agent.tickets.samples import ORDER
from simulators.printer import VirtualPrinter
from tests.core_helpers import running_core
from tests.store_helpers import open_store


@pytest.fixture
def printer():
    with VirtualPrinter() as virtual:
        yield virtual


def service_for(virtual: VirtualPrinter) -> PrintService:
    selftest = SelfTest(box_id="test-box", ip="127.0.0.1", version="0.1.0", devices=(), link="no link")
    return PrintService(Printer.from_url(virtual.url), selftest=lambda: selftest, retry_s=0.05)


def order_ticket() -> bytes:
    return layouts.order_ticket(ORDER)


def wait_for_state(box, status_state: DeviceState) -> DeviceStatus:
    while True:
        event = box.next().event
        if isinstance(event, DeviceStatus) and event.state is status_state:
            return event


def test_an_order_ticket_prints_and_the_hook_sees_it(tmp_path, printer):
    service = service_for(printer)
    printed = []
    service.on_printed["order"] = lambda store, job: printed.append((job.kind, job.id))
    with running_core(tmp_path, services=[service]) as box:
        box.core.post(PrintRequest("order", order_ticket()))
        [ticket] = printer.wait_for_tickets(1)
        assert "Begoña Núñez" in ticket.text and "[QR: TBPICKUP041042K7Q2]" in ticket.text
        box.core.call(lambda store: None)  # the settle call has been queued before this one returns
    assert printed == [("order", 1)]


def test_a_ticket_waits_through_paper_out_and_prints_once(tmp_path, printer):
    printer.set_state(paper=PaperState.OUT)
    service = service_for(printer)
    with running_core(tmp_path, services=[service]) as box:
        box.core.post(PrintRequest("order", order_ticket()))
        status = wait_for_state(box, DeviceState.ERROR)
        assert "paper out" in status.detail
        assert printer.tickets == []
        printer.set_state(paper=PaperState.OK)
        printer.wait_for_tickets(1)
        wait_for_state(box, DeviceState.OK)
    assert len(printer.tickets) == 1 and "REPRINT" not in printer.tickets[0].text


def test_a_ticket_waits_for_an_unplugged_printer(tmp_path, printer):
    printer.unplug()
    service = service_for(printer)
    with running_core(tmp_path, services=[service]) as box:
        box.core.post(PrintRequest("order", order_ticket()))
        wait_for_state(box, DeviceState.ABSENT)
        printer.plug()
        printer.wait_for_tickets(1)
    assert len(printer.tickets) == 1


def test_a_job_cut_short_by_a_crash_prints_again_marked_as_a_reprint(tmp_path, printer):
    store = open_store(tmp_path)
    with store.transaction():
        job = store.enqueue_print("order", order_ticket(), ttl_s=3600)
        store.set_print_state(job, "printing")  # the box died while this job was going out
    with running_core(tmp_path, store=store, services=[service_for(printer)]):
        [ticket] = printer.wait_for_tickets(1)
    assert ticket.text.splitlines()[0].strip() == "*** REPRINT / COPIA ***"


def settled(service: PrintService) -> threading.Event:
    """Set once an order job is marked done in the store."""
    done = threading.Event()
    service.on_printed["order"] = lambda store, job: done.set()
    return done


def test_nothing_prints_twice_across_a_clean_restart(tmp_path, printer):
    service = service_for(printer)
    done = settled(service)
    with running_core(tmp_path, services=[service]) as box:
        box.core.post(PrintRequest("order", order_ticket()))
        assert done.wait(5)
    with running_core(
        tmp_path, store=open_store(tmp_path, catalog=False), services=[service_for(printer)]
    ) as box:
        jobs = box.core.call(lambda store: store.print_jobs(["queued", "printing", "done"]))
    assert [j.state for j in jobs] == ["done"]
    assert len(printer.tickets) == 1


def test_an_expired_test_ticket_is_not_printed(tmp_path, printer):
    store = open_store(tmp_path)
    with store.transaction():
        store.enqueue_print("test", b"\x1b@old test\n", ttl_s=-1)
        store.enqueue_print("order", order_ticket(), ttl_s=3600)
    service = service_for(printer)
    done = settled(service)
    with running_core(tmp_path, store=store, services=[service]) as box:
        assert done.wait(5)
        states = box.core.call(lambda s: [j.state for j in s.print_jobs(["expired", "done"])])
    assert "old test" not in printer.received.decode("cp858")
    assert states == ["expired", "done"]


def test_the_button_reprints_the_last_ticket_or_prints_the_self_test(tmp_path, printer):
    service = service_for(printer)
    done = settled(service)
    with running_core(tmp_path, services=[service]) as box:
        box.core.post(PrintRequest("order", order_ticket()))
        assert done.wait(5)
        box.core.post(ButtonPressed("short"))
        second = printer.wait_for_tickets(2)[1]
        box.core.post(ButtonPressed("long"))
        tickets = printer.wait_for_tickets(4)
    assert second.text.startswith("*** REPRINT") or "REPRINT" in second.text.splitlines()[0]
    assert "test-box" in tickets[2].text and "TBMSALE" in tickets[3].text
