"""`tillbridge ticket`: preview ticket layouts as text, print a sample, ask a printer for its status,
or run the virtual printer."""

from __future__ import annotations

import argparse
from typing import Any

from tillbridge.cli import port_number

KINDS = ("order", "counter", "kitchen", "handover", "control", "selftest", "prices")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ticket", help="preview and print tickets, check a printer")
    sub = parser.add_subparsers(dest="ticket_command", required=True, metavar="ACTION")

    preview = sub.add_parser("preview", help="show a sample ticket as the printer would print it")
    preview.add_argument("kind", choices=KINDS)
    _page_options(preview)
    preview.set_defaults(func=_preview)

    send = sub.add_parser("print", help="print a sample ticket on a printer")
    send.add_argument("kind", choices=KINDS)
    send.add_argument("--printer", required=True, metavar="URL", help="e.g. tcp://192.168.1.50:9100?paper=58")
    send.set_defaults(func=_print)

    status = sub.add_parser("status", help="ask a printer for its real-time status")
    status.add_argument("--printer", required=True, metavar="URL")
    status.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for the reply")
    status.set_defaults(func=_status)

    serve = sub.add_parser("virtual-printer", help="run a virtual network printer, showing what it prints")
    serve.add_argument("--port", type=port_number, default=9100, help="TCP port; 0 picks a free one")
    serve.add_argument("--count", type=int, default=0, help="stop after this many tickets (0: never)")
    _page_options(serve)
    serve.set_defaults(func=_serve)


def _page_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--width", type=int, choices=(58, 80), default=80, help="paper width in mm")
    parser.add_argument("--codepage", default="CP858", help="character table (CP858, CP1252, …)")


def _sample(kind: str, url: str | None, width: int = 80, codepage: str = "CP858") -> bytes:
    from devices.printers import PageSetup, PrinterConfig
    from firmware_agent.tickets import TicketStyle
    from firmware_agent.tickets.samples import SAMPLES

    page = PrinterConfig.from_url(url).page if url else PageSetup(width, codepage)
    return SAMPLES[kind](TicketStyle(page=page))


def _preview(args: argparse.Namespace) -> int:
    from devices.printers import PageSetup
    from devices.printers.decode import decode_tickets

    columns = PageSetup(args.width).columns
    for ticket in decode_tickets(_sample(args.kind, None, args.width, args.codepage)):
        print(ticket.render(columns))
        print("-" * columns + " (cut)")
    return 0


def _print(args: argparse.Namespace) -> int:
    from devices.printers import Printer

    with Printer.from_url(args.printer) as printer:
        printer.print_bytes(_sample(args.kind, args.printer))
        status = printer.query_status()
    print(f"{printer.name}: sent; printer says: {status.describe()}")
    return 0 if status.ready or not status.answered else 1


def _status(args: argparse.Namespace) -> int:
    from devices.printers import Printer

    with Printer.from_url(args.printer) as printer:
        status = printer.query_status(timeout=args.timeout)
    print(f"{printer.name}: {status.describe()}")
    return 0 if status.ready else 1


def _serve(args: argparse.Namespace) -> int:
    from devices.printers import PageSetup
    from simulators.printer import VirtualPrinter
    from tillbridge.cli import UserError

    columns = PageSetup(args.width).columns
    try:
        printer = VirtualPrinter(port=args.port).start()
    except OSError as exc:
        raise UserError(f"virtual printer: cannot listen on port {args.port}: {exc.strerror or exc}") from exc
    try:
        print(f"virtual printer on {printer.url}; Ctrl-C stops it", flush=True)
        shown = 0
        while not args.count or shown < args.count:
            tickets = printer.wait_for_tickets(shown + 1, timeout=365 * 24 * 3600)
            for ticket in tickets[shown:]:
                print(ticket.render(columns) + "\n" + "-" * columns + " (cut)", flush=True)
            shown = len(tickets)
    finally:
        printer.stop()
    return 0
