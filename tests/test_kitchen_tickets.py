"""The tickets a pizzeria works from, as the printer prints them: ESC/POS bytes decoded back to text.

A kitchen reads a big order number, pickup or delivery and when, every line with its toppings and note,
allergies that stand out; the counter's ticket has the whole order, the total, paid or to pay, the QR.
Routing sends pizzas to the kitchen's printer and drinks stay at the counter, one ticket per station.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printers import PageSetup
from devices.printers.decode import decode_tickets
from firmware_agent.link.ticket import Routing, print_at, station_tickets
from wire import LineOption, Order, OrderLine, parse_ts

PIZZA = OrderLine(
    "PIZ-4Q",
    "Pizza cuatro quesos",
    2,
    1150,
    options=(LineOption("Tamaño", "Familiar"), LineOption("Extra", "Champiñones")),
    note="Bien hecha, por favor",
    tags=("Pizzas",),
)
DRINK = OrderLine("CAÑA", "Caña de cerveza", 1, 250, tags=("Bebidas",))
ORDER = Order(
    order_id="5170",
    placed_at="2026-12-06T19:02:00.000Z",
    kind="delivery",
    lines=(PIZZA, DRINK),
    total_cents=2750,
    customer="Begoña Núñez",
    notes="Llamar al timbre 2ºB",
    number="#1042",
    due_at="2026-12-06T20:30:00.000Z",
    tz="Europe/Madrid",
    phone="+34 600 123 456",
    address="Calle Año Nuevo 5, 2ºB, 28013 Madrid",
    paid=False,
    due_cents=2750,
    allergies="Alergia a los frutos secos",
)


def routing(paper_mm: int = 80, language: str = "es") -> Routing:
    page = PageSetup(paper_mm=paper_mm)
    return Routing(page, (("cocina", frozenset({"pizzas"}), page),), language=language)


def texts(tickets: dict[str, bytes]) -> dict[str, str]:
    decoded = {}
    for station, data in tickets.items():
        [ticket] = decode_tickets(data)
        decoded[station] = " ".join(ticket.text.split())  # as read, whatever wrapped where on the paper
    return decoded


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_pizzas_go_to_the_kitchen_and_the_counter_has_the_whole_order_in_spanish(paper_mm):
    tickets = station_tickets(ORDER, routing(paper_mm))
    assert set(tickets) == {"", "cocina"}
    kitchen, counter = texts(tickets)["cocina"], texts(tickets)[""]
    for text in (kitchen, counter):
        assert "#1042" in text and "A DOMICILIO" in text
        assert "Para: 21:30" in text or "Para: 06/12 21:30" in text  # the slot in the shop's time zone
        assert "ALERGIAS: Alergia a los frutos secos" in text
        assert "Tel.: +34 600 123 456" in text and "Calle Año Nuevo 5" in text
        assert "Nota: Llamar al timbre 2ºB" in text
    assert "2 x Pizza cuatro quesos" in kitchen and "Tamaño: Familiar" in kitchen
    assert "Extra: Champiñones" in kitchen and "> Bien hecha, por favor" in kitchen
    assert "Caña" not in kitchen and "TOTAL" not in kitchen and "[QR" not in kitchen
    assert "1 x Caña de cerveza" in counter and "2 x Pizza cuatro quesos" in counter
    assert "27,50 €" in counter and "A COBRAR" in counter and "[QR: TBOUT1042]" in counter
    assert "Otros puestos: cocina" in counter
    # the codes carry the number printed big (the shop's #1042), not the order's id
    assert "[CODE128: TBGO1042]" in kitchen and "[CODE128: TBGO1042]" in counter  # scan: the next stage
    assert "[CODE128: TBRP1042]" in counter and "TBRP" not in kitchen  # scan: the tickets again
    for data in tickets.values():
        [ticket] = decode_tickets(data)
        assert ticket.wider_than(PageSetup(paper_mm=paper_mm).columns) == []


def test_in_english_paid_online_as_soon_as_possible_with_the_warnings_printed():
    order = replace(
        ORDER, kind="pickup", paid=True, due_cents=0, due_at=None, warnings=("quantity 500 looks wrong",)
    )
    text = texts(station_tickets(order, routing(language="en")))[""]
    assert "PICKUP" in text and "For: AS SOON AS POSSIBLE" in text and "PAID ONLINE" in text
    assert "!! CHECK: quantity 500 looks wrong" in text
    assert "Address" not in text  # a pickup has no address to go to


def test_without_stations_one_ticket_at_the_counter_lists_everything():
    tickets = station_tickets(ORDER, Routing(PageSetup(paper_mm=58)))
    assert list(tickets) == [""]
    text = texts(tickets)[""]
    assert "Pizza cuatro quesos" in text and "Caña de cerveza" in text and "Otros puestos" not in text


def test_a_timed_order_prints_its_lead_time_before_the_slot_and_an_asap_order_at_once():
    lead = replace(routing(), lead_time_s=25 * 60)
    slot = parse_ts("2026-12-06T20:30:00.000Z")
    assert slot is not None
    assert print_at(ORDER, lead) == slot.timestamp() - 25 * 60
    assert print_at(replace(ORDER, due_at=None), lead) == 0.0


HOSTILE = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)


@settings(max_examples=60, deadline=None)
@given(name=HOSTILE, option=HOSTILE, note=HOSTILE, paper_mm=st.sampled_from([58, 80]))
def test_any_text_in_an_order_fits_the_paper_and_never_becomes_a_command(name, option, note, paper_mm):
    line = replace(PIZZA, name=name or "x", options=(LineOption(option, option or "x"),), note=note)
    order = replace(ORDER, lines=(line, DRINK), notes=note, allergies=note, customer=name)
    for data in station_tickets(order, routing(paper_mm)).values():
        tickets = decode_tickets(data)
        assert len(tickets) == 1  # nothing in the text cut the paper early
        assert tickets[0].wider_than(PageSetup(paper_mm=paper_mm).columns) == []
