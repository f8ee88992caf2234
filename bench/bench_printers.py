"""Printer throughput: tickets into the virtual printer through `Printer` versus raw `sendall` of the
same bytes, a status round trip versus the same three queries on a bare socket, and rendering an order
ticket versus python-escpos writing the same lines on its own."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from bench.common import Result, throughput
from devices.printers import Printer
from devices.printers.decode import decode_tickets
from firmware_agent.tickets import order_ticket
from firmware_agent.tickets.samples import ORDER
from simulators.printer import VirtualPrinter

TICKETS = 3000
STATUS_QUERIES = 3000
RENDERS = 1500


def _rate(count: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return count / (time.perf_counter() - start)


def _print_rates(data: bytes) -> tuple[float, float]:
    with VirtualPrinter() as virtual:
        with Printer.from_url(virtual.url) as printer:
            printer.print_bytes(data)  # connect outside the timing

            def ours() -> None:
                for _ in range(TICKETS):
                    printer.print_bytes(data)
                virtual.wait_for_tickets(TICKETS + 1, timeout=60)

            ours_rate = _rate(TICKETS, ours)
        virtual.clear()
        with socket.create_connection(virtual.address) as sock:

            def raw() -> None:
                for _ in range(TICKETS):
                    sock.sendall(data)
                virtual.wait_for_tickets(TICKETS, timeout=60)

            raw_rate = _rate(TICKETS, raw)
    return ours_rate, raw_rate


def _status_rates() -> tuple[float, float]:
    with VirtualPrinter() as virtual:
        with Printer.from_url(virtual.url) as printer:
            printer.query_status()

            def ours() -> None:
                for _ in range(STATUS_QUERIES):
                    assert printer.query_status().ready

            ours_rate = _rate(STATUS_QUERIES, ours)
        with socket.create_connection(virtual.address) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def raw() -> None:
                for _ in range(STATUS_QUERIES):
                    sock.sendall(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")
                    got = b""
                    while len(got) < 3:
                        got += sock.recv(16)

            raw_rate = _rate(STATUS_QUERIES, raw)
    return ours_rate, raw_rate


def _render_rates() -> tuple[float, float]:
    from escpos.printer import Dummy

    lines = [line.text for line in decode_tickets(order_ticket(ORDER))[0].lines]

    def ours() -> None:
        for _ in range(RENDERS):
            order_ticket(ORDER)

    def library_alone() -> None:
        for _ in range(RENDERS):
            dummy = Dummy()
            dummy.charcode("CP858")
            for text in lines:
                dummy.textln(text)
            dummy.cut()

    return _rate(RENDERS, ours), _rate(RENDERS, library_alone)


def run() -> list[Result]:
    data = order_ticket(ORDER)
    return [
        throughput("printers.print_tcp", *_print_rates(data), unit="tickets/s"),
        throughput("printers.status_roundtrip", *_status_rates(), unit="queries/s"),
        throughput("printers.render_order_ticket", *_render_rates(), unit="tickets/s"),
    ]
