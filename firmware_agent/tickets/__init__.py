"""Ticket layouts: frozen ticket data in, ESC/POS bytes of one cut ticket out.

data = order_ticket(order, TicketStyle(page=PageSetup(paper_mm=58)))
printer.print_bytes(data)
"""

from firmware_agent.tickets.control import COMMAND_CODES, default_control_sheet
from firmware_agent.tickets.layouts import (
    DEFAULT_STYLE,
    control_sheet,
    handover_ticket,
    order_ticket,
    price_list,
    selftest_ticket,
)
from firmware_agent.tickets.model import (
    ControlCode,
    ControlSheet,
    Handover,
    OnlineOrder,
    OrderLine,
    PriceChange,
    PriceChangeList,
    SelfTest,
    TicketStyle,
)
from firmware_agent.tickets.money import EUR, GBP, MoneyFormat

__all__ = [
    "COMMAND_CODES",
    "DEFAULT_STYLE",
    "EUR",
    "GBP",
    "ControlCode",
    "ControlSheet",
    "Handover",
    "MoneyFormat",
    "OnlineOrder",
    "OrderLine",
    "PriceChange",
    "PriceChangeList",
    "SelfTest",
    "TicketStyle",
    "control_sheet",
    "default_control_sheet",
    "handover_ticket",
    "order_ticket",
    "price_list",
    "selftest_ticket",
]
