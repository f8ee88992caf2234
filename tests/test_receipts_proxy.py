"""The box as a network printer in front of the real one: every byte forwarded unchanged, the printer's
status replies back to the POS, receipts read on the side, and printing unaffected by anything the reading
does or by a printer that goes away."""

import logging
import socket
from decimal import Decimal

from devices.printers.status import PaperState
from devices.receipts import CapturedReceipt, Outcome, ParsedReceipt, Unreadable, preset
from devices.receipts.proxy import PrinterProxy
from devices.receipts.reader import ReaderProcess
from devices.receipts.tap import CaptureQueue, ReceiptWorker
from simulators.pos import CUT, Item, PosClient, Sale, receipt_bytes
from simulators.printer import VirtualPrinter
from tests.receipts_helpers import Collector, capture


def closed_by_peer(sock: socket.socket) -> bool:
    """The box closed the POS's connection (a reset when the POS had sent bytes nobody read)."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


SALES = [
    Sale("000101", (Item("1001", "Leche entera 1 L", 99, Decimal(2)), Item("1002", "Pan de pueblo", 180))),
    Sale("000102", (Item("2002", "Queso manchego", 1890, Decimal("0.412"), "kg"),)),
    Sale("000103", (Item("1003", "Café molido", 349), Item("1003", "Café molido", 349, kind="void"))),
]


def test_bytes_reach_the_printer_unchanged_and_status_replies_come_back():
    with capture() as box:
        sent = b""
        with PosClient(box.proxy.address) as pos:
            for sale in SALES:
                assert pos.status() == b"\x12"  # DLE EOT 1: on-line, through the box
                data = receipt_bytes(sale)
                pos.send(data)
                sent += b"\x10\x04\x01" + data
        box.printer.wait_for_tickets(3)
        assert box.printer.received == sent
        receipts = box.collected.wait(3)
    totals = [preset("code-columns").parse(r) for r in receipts]
    assert [t.total_cents for t in totals if isinstance(t, ParsedReceipt)] == [378, 779, 0]


def test_paper_out_and_the_gs_r_reply_reach_the_pos_through_the_box():
    with capture() as box, PosClient(box.proxy.address) as pos:
        box.printer.set_state(paper=PaperState.NEAR_END)
        assert pos.status(b"\x10\x04\x04") == b"\x1e"  # roll paper: near end
        assert pos.status(b"\x1dr\x01") == b"\x03"  # GS r 1: near end, answered after the buffer
        box.printer.set_state(paper=PaperState.OUT)
        assert pos.status(b"\x10\x04\x04") == b"\x7e"  # near end and end


def test_a_receipt_that_cannot_be_read_is_still_printed_and_the_next_one_is_read():
    with capture() as box, PosClient(box.proxy.address) as pos:
        garbage = bytes(range(256)) * 4 + CUT
        pos.send(garbage)
        pos.send(receipt_bytes(SALES[0]))
        tickets = box.printer.wait_for_tickets(2)
        assert tickets[1].text.splitlines()[2] == "C/ Mayor 1 - Madrid"
        first, second = box.collected.wait(2)
    assert isinstance(preset("code-columns").parse(first), Unreadable)
    assert isinstance(preset("code-columns").parse(second), ParsedReceipt)


def test_a_failing_reader_never_stops_printing(caplog):
    def broken(receipt):
        raise RuntimeError("template bug")

    with capture(on_receipt=broken) as box, PosClient(box.proxy.address) as pos:
        for sale in SALES:
            pos.print_sale(sale)
        assert len(box.printer.wait_for_tickets(3)) == 3
    assert any("handling a receipt failed" in r.getMessage() for r in caplog.records)


def test_a_printer_that_goes_away_mid_receipt_closes_the_pos_connection_with_a_clear_log_line(caplog):
    caplog.set_level(logging.WARNING)
    data = receipt_bytes(SALES[0])
    with capture() as box, PosClient(box.proxy.address) as pos:
        assert pos.status() == b"\x12"  # the box is connected to the printer
        pos.send(data[: len(data) // 2])
        box.printer.unplug()
        assert closed_by_peer(pos._sock)
        (receipt,) = box.collected.wait(1)
    assert receipt.cut is False
    assert isinstance(preset("code-columns").parse(receipt), Unreadable)
    assert any("closed the connection while POS" in r.getMessage() for r in caplog.records)


def test_an_unreachable_printer_is_refused_to_the_pos_with_a_log_line(caplog):
    caplog.set_level(logging.WARNING)
    with capture() as box:
        box.printer.unplug()
        with socket.create_connection(box.proxy.address, timeout=5) as pos:
            assert closed_by_peer(pos)
    assert any("cannot be reached" in r.getMessage() for r in caplog.records)


def test_a_reader_that_falls_behind_drops_and_counts_never_delays_printing():
    with capture(max_chunks=1, worker=False) as box:
        with PosClient(box.proxy.address) as pos:
            for sale in SALES:
                pos.print_sale(sale)  # status query, reply, receipt: separate chunks
            assert len(box.printer.wait_for_tickets(3)) == 3  # printed while nobody reads
        assert box.tap.counters.bytes_dropped > 0


def test_a_receipt_whose_bytes_were_dropped_is_reported_unreadable_not_half_counted():
    tap, collected = CaptureQueue(max_chunks=1), Collector[CapturedReceipt]()
    worker = ReceiptWorker(tap, collected)
    data = receipt_bytes(SALES[0])
    stream = tap.open_stream()
    tap.offer(stream, data[:100])
    tap.offer(stream, data[100:])  # the queue is full: dropped
    first = tap.take(0)
    tap.close_stream(stream)
    end = tap.take(0)
    assert first is not None and end is not None and end.lost == len(data) - 100
    worker.handle(first)
    worker.handle(end)
    (receipt,) = collected.receipts
    assert receipt.problems == (f"{len(data) - 100} bytes of print data lost: the box fell behind",)
    assert tap.counters.bytes_dropped == len(data) - 100
    assert isinstance(preset("code-columns").parse(receipt), Unreadable)


def test_the_reader_process_reads_receipts_printed_through_the_proxy():
    outcomes = Collector[Outcome]()
    reader = ReaderProcess(preset("code-columns"), lambda captured, outcome: outcomes(outcome)).start()
    try:
        with (
            VirtualPrinter() as printer,
            PrinterProxy(printer.address, reader.tap, listen=("127.0.0.1", 0)) as proxy,
        ):
            with PosClient(proxy.address) as pos:
                for sale in SALES:
                    pos.print_sale(sale)
            printer.wait_for_tickets(3)
            got = outcomes.wait(3, timeout=20)  # the child process starts in a fresh interpreter
    finally:
        reader.stop()
    assert [(o.number, o.total_cents) for o in got if isinstance(o, ParsedReceipt)] == [
        ("000101", 378),
        ("000102", 779),
        ("000103", 0),
    ]


def test_a_job_from_a_client_that_is_not_the_pos_is_printed_but_never_read_as_a_receipt(caplog):
    """Anyone on the LAN could print a made-up receipt to lower the online stock: only the POS counts."""
    caplog.set_level(logging.INFO)
    collected = Collector[CapturedReceipt]()
    tap = CaptureQueue()
    worker = ReceiptWorker(tap, collected).start()
    try:
        with (
            VirtualPrinter() as printer,
            PrinterProxy(printer.address, tap, ("127.0.0.1", 0), frozenset({"192.0.2.7"})) as proxy,
        ):
            with PosClient(proxy.address) as stranger:  # 127.0.0.1 is not the listed POS
                stranger.print_sale(SALES[0])
            assert len(printer.wait_for_tickets(1)) == 1  # printed all the same
            proxy.capture_from = frozenset({"127.0.0.1"})  # now it is the POS
            with PosClient(proxy.address) as pos:
                pos.print_sale(SALES[1])
            printer.wait_for_tickets(2)
            (receipt,) = collected.wait(1)
    finally:
        worker.stop()
    outcome = preset("code-columns").parse(receipt)
    assert isinstance(outcome, ParsedReceipt) and outcome.number == "000102"
    assert any(
        "is not a listed POS: its job is forwarded, not read" in r.getMessage() for r in caplog.records
    )
