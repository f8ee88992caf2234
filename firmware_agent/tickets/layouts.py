"""Ticket layouts: plain functions from ticket data to the ESC/POS bytes of one cut ticket.

Every line is fitted to the paper (32 columns on 58 mm, 48 on 80 mm; half as many in double size), so a
long product name wraps instead of pushing its price onto the next line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from devices.errors import BarcodeError
from devices.printers import TicketBuilder
from devices.printers.text import pair, wrap
from firmware_agent.tickets.model import (
    ControlSheet,
    Handover,
    KitchenTicket,
    OnlineOrder,
    OrderLine,
    PriceChangeList,
    SelfTest,
    TicketStyle,
)
from firmware_agent.tickets.words import word

DEFAULT_STYLE = TicketStyle()
CODEPAGE_SAMPLE = "€ ñ Ñ á é í ó ú ü ç Ç à è ò ß"


def order_ticket(order: OnlineOrder, style: TicketStyle = DEFAULT_STYLE) -> bytes:
    """The kitchen / picking ticket for an online order, with the pickup QR code at the bottom."""
    ticket = _start(style, "ONLINE ORDER", f"#{order.order_id}")
    ticket.line(order.customer_name, bold=True)
    _facts(ticket, [("Placed", order.placed_at), ("Pickup", order.pickup_at)])
    _items(ticket, order.lines, style)
    _total(ticket, order.total_cents, style)
    if order.notes:
        ticket.line("Notes:", bold=True)
        ticket.line(order.notes)
    ticket.feed()
    ticket.qr(order.pickup_payload)
    ticket.line(f"Order #{order.order_id}", align="center")
    ticket.cut()
    return ticket.getvalue()


def kitchen_ticket(order: KitchenTicket, style: TicketStyle = DEFAULT_STYLE) -> bytes:
    """The ticket a kitchen works from: a big order number, pickup or delivery and when, every line with
    its options and note, the customer's note, allergies that stand out (inverted: bold, double size),
    what the bridge found odd (so nobody trusts a strange quantity blindly), and at the counter the total,
    the payment and the pickup QR. Each station's copy lists only its own lines.
    """
    w = functools.partial(word, order.language)
    ticket = TicketBuilder(style.page)
    if style.header:
        ticket.line(style.header, bold=True, align="center")
    ticket.line(w(order.source), bold=True, align="center")
    ticket.line(f"#{order.number}", bold=True, size="double", align="center")
    where = w("counter") if order.counter else order.station.upper()
    ticket.line(f"{w('station')}: {where}", align="center")
    ticket.rule("=")
    ticket.line(w("pickup") if order.pickup else w("delivery"), bold=True, size="tall")
    ticket.line(f"{w('for')}: {order.due}", bold=True, size="tall")
    _facts(
        ticket,
        [
            ("", order.customer),
            (w("phone_no"), order.phone),
            (w("address"), "" if order.pickup else order.address),
            (w("placed"), order.placed_at),
        ],
    )
    if order.allergies:
        ticket.rule("!")
        ticket.line(f"{w('allergies')}: {order.allergies}", bold=True, size="tall")
        ticket.rule("!")
    for warning in order.warnings:
        ticket.line(f"!! {w('warning')}: {warning}", bold=True)
    ticket.rule()
    for line in order.lines:
        if order.counter:
            ticket.lines(
                pair(f"{line.qty} x {line.name}", style.money(line.total_cents), ticket.columns), bold=True
            )
        else:
            ticket.line(f"{line.qty} x {line.name}", bold=True, size="tall")
        ticket.lines(f"   {text}" for option in line.options for text in wrap(option, ticket.columns - 3))
        if line.note:
            ticket.lines(f"   > {text}" for text in wrap(line.note, ticket.columns - 5))
    ticket.rule()
    if order.note:
        ticket.line(f"{w('note')}:", bold=True)
        ticket.line(order.note)
    if order.counter:
        _total(ticket, order.total_cents, style)
        if order.paid:
            ticket.line(w("paid"), bold=True)
        else:
            ticket.lines(pair(w("due"), style.money(order.due_cents), ticket.columns), bold=True, size="tall")
        if order.other_stations:
            ticket.line(f"{w('more')}: {', '.join(order.other_stations)}")
        if order.qr:
            ticket.feed()
            ticket.qr(order.qr)
    for code, label in ((order.scan_code, w("scan")), (order.copy_code, w("copy"))):
        if code:
            ticket.feed()
            try:
                ticket.code128(code)
            except BarcodeError:  # too long for this paper's bars: staff type or pick it on the page
                ticket.line(code, align="center")
            ticket.line(label, align="center")
    ticket.line(f"{w('order')} #{order.number}", align="center")
    ticket.cut()
    return ticket.getvalue()


def handover_ticket(handover: Handover, style: TicketStyle = DEFAULT_STYLE) -> bytes:
    """The shop's record that a click & collect order left the shop, with room for a signature."""
    ticket = _start(style, "HANDED OVER", f"#{handover.order_id}")
    ticket.line(handover.customer_name, bold=True)
    _facts(ticket, [("When", handover.handed_over_at)])
    _items(ticket, handover.lines, style)
    _total(ticket, handover.total_cents, style)
    if handover.paid_online:
        ticket.line("Paid online", bold=True)
    else:
        ticket.lines(pair("To pay at the till", style.money(handover.total_cents), ticket.columns), bold=True)
    ticket.feed(2)
    ticket.line("Signature:")
    ticket.feed(2)
    ticket.rule("_")
    ticket.cut()
    return ticket.getvalue()


def control_sheet(sheet: ControlSheet, style: TicketStyle = DEFAULT_STYLE) -> bytes:
    """Barcodes that switch the box's mode, multiply the next scan or cancel it."""
    ticket = _start(style, sheet.title.upper())
    ticket.line("Scan a code to act on the box", align="center")
    group = None
    for code in sheet.codes:
        if code.group != group:
            group = code.group
            _section(ticket, group)
        ticket.line(code.label, bold=True, size="tall", align="center")
        ticket.code128(code.code)
        ticket.feed()
    ticket.cut()
    return ticket.getvalue()


def selftest_ticket(test: SelfTest, style: TicketStyle = DEFAULT_STYLE) -> bytes:
    """What an installer checks after plugging everything in; support reads the QR code."""
    ticket = _start(style, "SELF-TEST")
    _facts(
        ticket,
        [
            ("Box", test.box_id),
            ("IP", test.ip),
            ("Version", test.version),
            ("Link", test.link),
            ("Printed", test.printed_at),
        ],
    )
    _section(ticket, "Devices")
    for device in test.devices:
        ticket.lines(pair(device.device, device.state.value, ticket.columns))
        if device.detail:
            ticket.lines(f"  {line}" for line in wrap(device.detail, ticket.columns - 2))
    if not test.devices:
        ticket.line("none found")
    _section(ticket, f"Code page {style.page.codepage}")
    ticket.line(CODEPAGE_SAMPLE, align="center")
    ticket.feed()
    ticket.qr(f"tillbridge:{test.box_id}")
    ticket.cut()
    return ticket.getvalue()


def price_list(changes: PriceChangeList, style: TicketStyle = DEFAULT_STYLE) -> bytes:
    """The shelf labels to replace: each item with its old and new price."""
    ticket = _start(style, "PRICE CHANGES")
    _facts(ticket, [("Effective", changes.effective), ("Items", str(len(changes.changes)))])
    ticket.rule()
    for change in changes.changes:
        ticket.line(change.name, bold=True)
        per = "" if change.unit == "each" else f"/{change.unit}"
        prices = f"{style.money(change.old_cents)}{per} -> {style.money(change.new_cents)}{per}"
        ticket.lines(pair(change.barcode, prices, ticket.columns))
        if changes.barcodes and change.barcode:
            ticket.ean13(change.barcode)
        ticket.rule()
    ticket.cut()
    return ticket.getvalue()


def _start(style: TicketStyle, *titles: str) -> TicketBuilder:
    ticket = TicketBuilder(style.page)
    if style.header:
        ticket.line(style.header, bold=True, align="center")
    for title in titles:
        ticket.line(title, bold=True, size="double", align="center")
    ticket.feed()
    return ticket


def _facts(ticket: TicketBuilder, facts: Iterable[tuple[str, str]]) -> None:
    """`Label: value` lines (the value alone without a label), skipping empty values."""
    for label, value in facts:
        if value:
            ticket.line(f"{label}: {value}" if label else value)


def _section(ticket: TicketBuilder, title: str) -> None:
    ticket.feed()
    ticket.line(f" {title} ".center(ticket.columns, "-"), bold=True)


def _items(ticket: TicketBuilder, lines: Iterable[OrderLine], style: TicketStyle) -> None:
    ticket.rule()
    for line in lines:
        ticket.lines(pair(f"{line.qty} x {line.name}", style.money(line.total_cents), ticket.columns))
    ticket.rule()


def _total(ticket: TicketBuilder, cents: int, style: TicketStyle) -> None:
    ticket.lines(pair("TOTAL", style.money(cents), ticket.columns), bold=True, size="tall")
