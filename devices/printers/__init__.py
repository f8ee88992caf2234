"""ESC/POS receipt printers: configuration, rendering, transports and real-time status.

printer = Printer.from_url("tcp://192.168.1.50:9100?paper=58")
ticket = printer.builder()
ticket.line("Año 10,50 €", bold=True)
ticket.cut()
printer.print_bytes(ticket.getvalue())
printer.query_status(timeout=1.0)   # PrinterStatus(online=True, paper=PaperState.OK, ...)
"""

from devices.printers.codepages import CODEPAGES, CodePage, codepage
from devices.printers.config import PageSetup, PrinterConfig
from devices.printers.printer import Printer
from devices.printers.render import TicketBuilder
from devices.printers.status import PaperState, PrinterStatus, StatusQuery, StatusReader, status_from_reply
from devices.printers.transports import Transport

__all__ = [
    "CODEPAGES",
    "CodePage",
    "PageSetup",
    "PaperState",
    "Printer",
    "PrinterConfig",
    "PrinterStatus",
    "StatusQuery",
    "StatusReader",
    "TicketBuilder",
    "Transport",
    "codepage",
    "status_from_reply",
]
