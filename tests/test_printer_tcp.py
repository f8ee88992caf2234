"""Printing through the real Printer class into the virtual printer over TCP, and the other transports."""

import os
import socket
import sys
import threading

import pytest

from devices.errors import DeviceConfigError, DeviceIOError, DeviceUnavailable
from devices.printers import PaperState, Printer, PrinterConfig, PrinterStatus
from devices.printers.decode import decode_tickets
from simulators.printer import VirtualPrinter
from tests.printer_helpers import printer_pair


@pytest.fixture
def pair():
    with printer_pair() as both:
        yield both


def ticket_bytes(printer, *texts):
    ticket = printer.builder()
    for text in texts:
        ticket.line(text)
    ticket.cut()
    return ticket.getvalue()


def test_a_ticket_arrives_as_sent_and_reads_right(pair):
    virtual, printer = pair
    data = ticket_bytes(printer, "Año 10,50 €", "Ça va")
    printer.print_bytes(data)
    (ticket,) = virtual.wait_for_tickets(1)
    assert ticket.text == "Año 10,50 €\nÇa va"
    assert virtual.received == data


def test_cuts_split_one_job_into_tickets(pair):
    virtual, printer = pair
    printer.print_bytes(ticket_bytes(printer, "first") + ticket_bytes(printer, "second"))
    assert [t.text for t in virtual.wait_for_tickets(2)] == ["first", "second"]


def test_drawer_kick_reaches_the_printer(pair):
    virtual, printer = pair
    ticket = printer.builder()
    ticket.drawer()
    printer.print_bytes(ticket.getvalue())
    printer.query_status()  # answered after the kick was read: the stream is in order
    assert virtual.drawer_kicks == 1


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({}, PrinterStatus(True, PaperState.OK, False, False, False)),
        ({"paper": PaperState.NEAR_END}, PrinterStatus(True, PaperState.NEAR_END, False, False, False)),
        ({"paper": PaperState.OUT}, PrinterStatus(False, PaperState.OUT, False, False, False)),
        ({"cover_open": True}, PrinterStatus(False, PaperState.OK, True, False, False)),
        ({"offline": True}, PrinterStatus(False, PaperState.OK, False, True, False)),
        ({"drawer_open": True}, PrinterStatus(True, PaperState.OK, False, False, True)),
    ],
)
def test_status_over_the_socket_in_each_state(pair, state, expected):
    virtual, printer = pair
    virtual.set_state(**state)
    status = printer.query_status(timeout=2)
    assert status == expected
    assert status.ready == (expected.online is True)


def test_a_printer_that_does_not_answer_is_unknown(pair):
    virtual, printer = pair
    virtual.set_state(answers_status=False)
    assert printer.query_status(timeout=0.2) == PrinterStatus()


def test_gs_r_is_answered_too(pair):
    virtual, printer = pair
    from devices.printers import StatusQuery

    virtual.set_state(paper=PaperState.NEAR_END)
    status = printer.query_status(timeout=2, queries=[StatusQuery.PAPER_SENSOR])
    assert status.paper is PaperState.NEAR_END


def test_out_of_paper_holds_the_ticket_until_paper_is_back(pair):
    virtual, printer = pair
    virtual.set_state(paper=PaperState.OUT)
    printer.print_bytes(ticket_bytes(printer, "waiting"))
    assert printer.query_status().paper is PaperState.OUT  # the job has been read by now
    assert virtual.tickets == []
    virtual.set_state(paper=PaperState.OK)
    assert [t.text for t in virtual.wait_for_tickets(1)] == ["waiting"]


def test_unplugged_is_unavailable_and_plugging_back_recovers(pair):
    virtual, printer = pair
    printer.print_bytes(ticket_bytes(printer, "before"))
    virtual.wait_for_tickets(1)
    virtual.unplug()
    with pytest.raises(DeviceUnavailable, match="refused"):
        printer.print_bytes(ticket_bytes(printer, "lost"))
    with pytest.raises(DeviceUnavailable):
        printer.query_status()
    virtual.plug()
    printer.print_bytes(ticket_bytes(printer, "after"))
    assert [t.text for t in virtual.wait_for_tickets(2)] == ["before", "after"]


def test_a_printer_that_hangs_up_mid_query_is_an_io_error():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        host, port = server.getsockname()

        def hang_up():
            conn, _ = server.accept()
            conn.close()

        thread = threading.Thread(target=hang_up)
        thread.start()
        with (
            Printer.from_url(f"tcp://{host}:{port}") as printer,
            pytest.raises(DeviceIOError, match=str(port)),
        ):
            printer.query_status(timeout=5)
        thread.join()


def test_nothing_listening_is_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Printer.from_url(f"tcp://127.0.0.1:{port}") as printer, pytest.raises(DeviceUnavailable):
        printer.print_bytes(b"x")


def test_file_printer_appends_jobs_and_status_is_unknown(tmp_path):
    path = tmp_path / "lp0"
    path.write_bytes(b"")
    with Printer.from_url(f"file://{path}?paper=58") as printer:
        printer.print_bytes(ticket_bytes(printer, "uno"))
        printer.print_bytes(ticket_bytes(printer, "dos ñ"))
        assert printer.query_status(timeout=0.2) == PrinterStatus()
    assert [t.text for t in decode_tickets(path.read_bytes())] == ["uno", "dos ñ"]


def test_file_printer_does_not_create_a_missing_device(tmp_path):
    path = tmp_path / "usb" / "lp0"
    with Printer.from_url(f"file://{path}") as printer, pytest.raises(DeviceUnavailable, match="lp0"):
        printer.print_bytes(b"x")
    assert not path.exists()


def test_serial_printer_over_a_pty_prints_and_answers_status():
    master, slave = os.openpty()
    virtual = VirtualPrinter()
    stop = threading.Event()

    def printer_side():
        while not stop.is_set():
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            os.write(master, virtual.feed(data))

    thread = threading.Thread(target=printer_side, daemon=True)
    thread.start()
    try:
        with Printer.from_url(f"serial://{os.ttyname(slave)}?baud=19200") as printer:
            printer.print_bytes(ticket_bytes(printer, "por serie €"))
            assert printer.query_status(timeout=2).ready
        assert [t.text for t in virtual.wait_for_tickets(1)] == ["por serie €"]
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
        thread.join(timeout=2)
        virtual.stop()


def test_missing_serial_port_is_unavailable(tmp_path):
    with Printer.from_url(f"serial://{tmp_path}/ttyUSB9") as printer, pytest.raises(DeviceUnavailable):
        printer.print_bytes(b"x")


def test_usb_without_pyusb_is_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "usb", None)
    monkeypatch.setitem(sys.modules, "usb.core", None)
    with Printer.from_url("usb://04b8:0e15") as printer, pytest.raises(DeviceUnavailable, match="pyusb"):
        printer.print_bytes(b"x")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://10.0.0.5", PrinterConfig("network", host="10.0.0.5", port=9100)),
        ("tcp://10.0.0.5:9101?paper=58", PrinterConfig("network", host="10.0.0.5", port=9101, paper_mm=58)),
        ("usb://04b8:0e15", PrinterConfig("usb", vendor_id=0x04B8, product_id=0x0E15)),
        ("serial:///dev/ttyUSB0?baud=19200", PrinterConfig("serial", device="/dev/ttyUSB0", baud=19200)),
        (
            "file:///dev/usb/lp0?codepage=cp1252",
            PrinterConfig("file", device="/dev/usb/lp0", codepage="CP1252"),
        ),
    ],
)
def test_printer_urls(url, expected):
    config = PrinterConfig.from_url(url)
    assert config == expected
    assert PrinterConfig.from_url(config.url) == config


@pytest.mark.parametrize(
    "url",
    [
        "lpt://1",
        "tcp://host:abc",
        "usb://zz:01",
        "tcp://h?paper=57",
        "tcp://h?codepage=utf8",
        "tcp://h?x=1",
        "serial://",
    ],
)
def test_bad_printer_urls_are_config_errors_naming_the_url(url):
    with pytest.raises(DeviceConfigError):
        PrinterConfig.from_url(url)
