"""Text from outside (a customer's name, order notes, line and product names) never becomes a printer
command: ESC/POS control bytes in an online order do not kick the drawer, cut, or ask for status, whatever
the code page. Proved by decoding the real ticket bytes with the virtual printer's decoder."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.printers import PageSetup
from devices.printers.codepages import CODEPAGES
from firmware_agent.link.ticket import order_ticket
from simulators.escpos_decode import Cut, DrawerKick, EscPosDecoder, Event, StatusRequest, Symbol, TextLine
from tests.test_link_e2e import order
from wire import OrderLine

DRAWER_KICK = "\x1bp\x00\x19\xfa"  # ESC p 0 25 250: pulse pin 2 (ú is 0xFA in CP1252/ISO, 0xA3 in CP858)
CUT = "\x1dV\x00"  # GS V 0: full cut
STATUS = "\x10\x04\x01"  # DLE EOT 1: real-time status
REALTIME_PULSE = "\x10\x14\x01\x00\x05"  # DLE DC4 1 m t: drawer pulse in real time

HOSTILE = st.lists(
    st.sampled_from([DRAWER_KICK, CUT, STATUS, REALTIME_PULSE, "\x1b@", "\x1b", "\x1d", "\x10", "\n", "\x00"])
    | st.text(st.characters(codec="utf-8"), max_size=8),
    max_size=6,
).map("".join)


def events(ticket: bytes) -> list[Event]:
    return EscPosDecoder().feed(ticket)


def only_the_tickets_own(decoded: list[Event], order_id: str) -> None:
    assert not [e for e in decoded if isinstance(e, DrawerKick | StatusRequest)]
    assert [e for e in decoded if isinstance(e, Cut)] == [Cut(partial=False)]
    assert isinstance(decoded[-1], Cut)  # the cut is the ticket's own, at its end
    assert [e for e in decoded if isinstance(e, Symbol)] == [Symbol("QR", f"TBOUT{order_id.upper()}")]


def test_a_drawer_kick_and_a_cut_in_the_customer_name_and_notes_print_as_text_only():
    hostile = order(customer=f"Ana{DRAWER_KICK}", notes=f"x{CUT}y{STATUS}", order_id="wc-1")
    for name in CODEPAGES:
        decoded = events(order_ticket(hostile, PageSetup(codepage=name)))
        only_the_tickets_own(decoded, "wc-1")
        text = "\n".join(e.text for e in decoded if isinstance(e, TextLine))
        assert "Ana" in text and "x" in text


@given(customer=HOSTILE, notes=HOSTILE, line_name=HOSTILE, codepage=st.sampled_from(sorted(CODEPAGES)))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_no_outside_text_survives_as_a_printer_command(customer, notes, line_name, codepage):
    hostile = order(
        customer=customer or "x",
        notes=notes or None,
        lines=(OrderLine("MILK", line_name or "x", 1, 99),),
        total_cents=99,
        order_id="wc-2",
    )
    only_the_tickets_own(events(order_ticket(hostile, PageSetup(codepage=codepage))), "wc-2")


def test_spaces_of_every_kind_stay_spaces_and_letters_stay_letters():
    from devices.printers.text import printable

    assert printable("Ana\u00a0María\tde\u2028la\u200dO") == "Ana María de laO"
    assert printable("ÑAM €5 — ok") == "ÑAM €5 — ok"
    assert printable("a\x1bp\x00b") == "a?p?b"
