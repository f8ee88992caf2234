"""Every ticket kind printed over a real socket into the virtual printer, read back as text."""

import dataclasses

import pytest

from devices.printers import PageSetup
from devices.printers.decode import Symbol, TextLine, decode_tickets
from devices.readings import DeviceState, DeviceStatus
from firmware_agent.tickets import (
    COMMAND_CODES,
    GBP,
    PriceChangeList,
    TicketStyle,
    default_control_sheet,
    handover_ticket,
    order_ticket,
    price_list,
    selftest_ticket,
)
from firmware_agent.tickets.money import EUR
from firmware_agent.tickets.samples import HANDOVER, ORDER, PRICES, SAMPLES, SELFTEST
from tests.printer_helpers import printer_pair

WIDTHS = [(58, 32), (80, 48)]


def printed(data, paper=80):
    """Print `data` through the real Printer over TCP and return the one ticket that came out."""
    with printer_pair(paper) as (virtual, printer):
        printer.print_bytes(data)
        (ticket,) = virtual.wait_for_tickets(1)
    return ticket


def style(paper):
    return TicketStyle(page=PageSetup(paper))


@pytest.mark.parametrize(("paper", "columns"), WIDTHS)
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_fits_the_paper(kind, paper, columns):
    (ticket,) = decode_tickets(SAMPLES[kind](style(paper)))
    assert ticket.wider_than(columns) == []
    assert any(isinstance(line, TextLine) and line.text for line in ticket.lines)


@pytest.mark.parametrize(("paper", "columns"), WIDTHS)
def test_order_ticket_over_tcp(paper, columns):
    ticket = printed(order_ticket(ORDER, style(paper)), paper)
    text = ticket.text
    assert "#1042" in text
    assert "Begoña Núñez" in text
    assert f"{'2 x Pan de centeno':<{columns - 7}} 5,00 €" in text  # price flush right
    assert "TOTAL" in text and "18,55 €" in text
    assert "François" in text
    assert Symbol("QR", ORDER.pickup_payload) in ticket.lines
    assert ticket.wider_than(columns) == []


def test_long_item_names_wrap_and_keep_the_price_on_the_first_line():
    ticket = printed(order_ticket(ORDER, style(58)), 58)
    lines = [line.text for line in ticket.lines]
    first = next(i for i, text in enumerate(lines) if text.startswith("1 x Aceite"))
    assert lines[first].endswith(" 9,95 €")
    assert "Cazorla 1 l" in " ".join(lines[first : first + 4])


def test_handover_ticket_paid_online_and_to_pay():
    assert "Paid online" in printed(handover_ticket(HANDOVER)).text
    unpaid = dataclasses.replace(HANDOVER, paid_online=False)
    text = printed(handover_ticket(unpaid, style(58)), 58).text
    assert "To pay at the till" in text and "18,55 €" in text
    assert "Signature:" in text


@pytest.mark.parametrize(("paper", "columns"), WIDTHS)
def test_control_sheet_carries_every_command_code(paper, columns):
    ticket = printed(SAMPLES["control"](style(paper)), paper)
    codes = [line.data for line in ticket.lines if isinstance(line, Symbol) and line.kind == "CODE128"]
    assert codes == list(COMMAND_CODES.values())
    assert "Quantity ×12" in ticket.text
    assert ticket.wider_than(columns) == []


def test_control_sheet_takes_codes_from_whoever_encodes_them():
    codes = {key: f"X{n}" for n, key in enumerate(COMMAND_CODES)}
    sheet = default_control_sheet(codes)
    assert [c.code for c in sheet.codes] == list(codes.values())


def test_selftest_lists_the_box_and_its_devices():
    text = printed(selftest_ticket(SELFTEST, style(58)), 58).text
    for fact in ("tb-0042", "192.168.1.23", "0.1.0", "Link: online", "absent", "no reply to the 8217"):
        assert fact in text
    assert "€ ñ Ñ á é í ó ú ü ç Ç" in text  # the code page check an installer looks at


def test_selftest_with_no_devices_says_so():
    empty = dataclasses.replace(SELFTEST, devices=())
    assert "none found" in printed(selftest_ticket(empty)).text


def test_price_list_shows_old_and_new_prices():
    text = printed(price_list(PRICES, style(58)), 58).text
    assert "8412345678905  9,95 € -> 10,45 €" in text
    assert "3,00 € -> 3,20 €" in text
    assert "24,90 €/kg -> 25,90 €/kg" in text  # a weighed item's shelf label shows its price per kilogram
    assert "Items: 4" in text


def test_price_list_can_print_ean13_bars():
    with_bars = dataclasses.replace(PRICES, barcodes=True)
    ticket = printed(price_list(with_bars))
    assert [s.data for s in ticket.lines if isinstance(s, Symbol)] == ["8412345678905", "4006381333931"]


def test_cp1252_printer_gets_the_same_text():
    page = PageSetup(80, "CP1252")
    with printer_pair(80, "CP1252") as (virtual, printer):
        printer.print_bytes(order_ticket(ORDER, TicketStyle(page=page)))
        (ticket,) = virtual.wait_for_tickets(1)
    assert "Begoña Núñez" in ticket.text and "18,55 €" in ticket.text


def test_shop_header_and_other_currency():
    gbp = TicketStyle(money=GBP, header="Tienda Pepa")
    text = printed(price_list(PriceChangeList(PRICES.changes[:1]), gbp)).text
    assert text.startswith("Tienda Pepa")
    assert "£9.95 -> £10.45" in text


def test_device_lines_use_the_shared_device_status():
    test = dataclasses.replace(SELFTEST, devices=(DeviceStatus("printer", DeviceState.UNKNOWN),))
    assert "unknown" in printed(selftest_ticket(test)).text


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0,00 €"), (5, "0,05 €"), (1250, "12,50 €"), (-99, "-0,99 €"), (123456, "1.234,56 €")],
)
def test_money_in_euros(cents, text):
    assert EUR(cents) == text
