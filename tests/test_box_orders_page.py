"""The order board on the box's page over real HTTP, against the whole chain (shop simulator, bridge, real
agent): each button moves the order through `FloorDesk` and journals the move for the shop; a bad estimate,
an unknown stage, a step back and a form without its CSRF token are refused, saying why, and move nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_agent.core import Applied
from firmware_agent.domain import BoxState, Outcome
from firmware_agent.floor import FloorDesk
from firmware_agent.store.orders import move_stage, store_order
from firmware_agent.web.facts import Activity, Board
from firmware_agent.web.page import _phone_order
from tests.bridge_helpers import wait_for
from tests.mqtt_helpers import rows
from tests.store_helpers import open_store
from tests.web_helpers import TOKEN, Floor, floor
from wire import Order, OrderLine

__all__ = ["floor"]  # fixtures


def moves(floor: Floor) -> list[dict[str, object]]:
    found = rows(floor.data_dir, "SELECT data FROM journal WHERE kind = 'order_stage' ORDER BY seq")
    return [json.loads(data) for (data,) in found]


def an_order_on_the_board(floor: Floor) -> str:
    order_id = str(floor.woo.place_order("SKU-001", 1, pickup=True, customer="Marta"))
    http = floor.session()
    wait_for(lambda: f'data-order="{order_id}"' in http.get(floor.url, timeout=5).text, 20, "the order")
    return order_id


def test_accepting_with_an_estimate_moves_the_order_and_journals_it_for_the_shop(floor: Floor) -> None:
    order_id = an_order_on_the_board(floor)
    http = floor.session()
    form = {"csrf_token": floor.token(http), "order_id": order_id, "stage": "accepted", "eta_min": "25"}
    page = http.post(floor.url + "orders/move", data=form, timeout=5)
    assert page.status_code == 200 and f"Order #{order_id} is accepted, ready in about 25 min" in page.text
    assert 'data-stage="accepted"' in page.text[page.text.index(f'data-order="{order_id}"') - 80 :]
    assert moves(floor) == [{"order_id": order_id, "stage": "accepted", "source": "web", "eta_min": 25}]
    back = http.post(floor.url + "orders/move", data={**form, "stage": "accepted"}, timeout=5)
    assert "Not moved" in back.text and len(moves(floor)) == 1


def test_a_bad_estimate_an_unknown_stage_and_a_missing_token_are_refused_and_move_nothing(
    floor: Floor,
) -> None:
    order_id = an_order_on_the_board(floor)
    http = floor.session()
    form = {"csrf_token": floor.token(http), "order_id": order_id, "stage": "accepted"}
    bad = http.post(floor.url + "orders/move", data={**form, "eta_min": "soon"}, timeout=5)
    assert bad.status_code == 400 and "number of minutes from 1 to 600, not &#39;soon&#39;" in bad.text
    unknown = http.post(floor.url + "orders/move", data={**form, "stage": "eaten"}, timeout=5)
    assert unknown.status_code == 400 and "No order stage &#39;eaten&#39;" in unknown.text
    forged = http.post(floor.url + "orders/move", data={**form, "csrf_token": ""}, timeout=5)
    assert forged.status_code == 400 and "CSRF" in forged.text
    elsewhere = http.post(floor.url + "orders/move", data={**form, "order_id": "999999"}, timeout=5)
    assert "Not moved: order 999999 is not on this box" in elsewhere.text
    stranger = requests.Session()  # a token from the login page, but no PIN entered
    token = TOKEN.search(stranger.get(floor.url + "login", timeout=5).text)
    assert token
    locked = stranger.post(floor.url + "orders/move", data={**form, "csrf_token": token.group(1)}, timeout=5)
    assert locked.url.endswith("/login")
    assert moves(floor) == []


_form_text = st.text(max_size=400)


@settings(max_examples=300, deadline=None)
@given(
    form=st.fixed_dictionaries(
        {},
        optional={k: _form_text for k in ("customer", "phone", "kind", "address", "at", "note", "allergies")},
    ),
    cart=st.lists(st.tuples(st.text(min_size=1, max_size=20), st.integers(1, 99)), max_size=5),
)
def test_any_phone_order_form_is_taken_as_one_line_fields_within_limits_or_refused_saying_why(form, cart):
    order, problem = _phone_order(form, [[sku, "name", 100, qty] for sku, qty in cart])
    if order is None:
        assert problem
        return
    for value, limit in ((order.customer, 80), (order.phone, 30), (order.address, 200), (order.note, 300)):
        assert len(value) <= limit and value.isprintable() and value == value.strip()
    assert order.customer and order.phone and order.lines == tuple(cart)
    assert order.pickup or order.address
    assert order.at == "" or (len(order.at) == 5 and 0 <= int(order.at[:2]) < 24 and order.at[2] == ":")


def add(floor: Floor, http: requests.Session, sku: str, qty: int = 1) -> requests.Response:
    data = {"csrf_token": floor.token(http), "sku": sku, "qty": str(qty)}
    return http.post(floor.url + "phone/add", data=data, timeout=5)


def test_a_phone_order_taken_on_the_page_is_created_in_the_shop_and_printed(floor: Floor) -> None:
    http = floor.session()
    wait_for(lambda: 'data-sku="SKU-001"' in http.get(floor.url, params={"q": "SKU-001"}, timeout=5).text)
    assert add(floor, http, "SKU-001", 2).status_code == 200
    page = add(floor, http, "SKU-002").text
    cart = page[page.index('id="cart"') :]
    assert "2 × Item 1" in cart and "1 × Item 2" in cart
    form = {
        "csrf_token": floor.token(http),
        "customer": "Rocío Peña",
        "phone": "+34 600 111 222",
        "kind": "pickup",
        "note": "sin cebolla\x1b[2J",  # an escape sequence is not kept
    }
    sent = http.post(floor.url + "phone/send", data=form, timeout=5)
    assert sent.status_code == 200 and "Phone order for Rocío Peña sent to the shop" in sent.text
    assert 'id="cart"' not in sent.text  # taken: the next call starts afresh
    [ticket] = floor.printer.wait_for_tickets(1, timeout=30)
    assert (
        "PEDIDO TELÉFONO" in ticket.text and "Rocío Peña" in ticket.text and "sin cebolla [2J" in ticket.text
    )
    assert len(floor.woo.orders) == 1  # created once in the online shop: stock has one truth


def test_a_phone_order_without_what_it_needs_is_refused_saying_why_and_nothing_is_sent(floor: Floor) -> None:
    http = floor.session()
    wait_for(lambda: 'data-sku="SKU-001"' in http.get(floor.url, params={"q": "SKU-001"}, timeout=5).text)
    unknown = add(floor, http, "NOPE")
    assert unknown.status_code == 400 and "no product &#39;NOPE&#39;" in unknown.text
    assert add(floor, http, "SKU-001", 0).status_code == 400
    assert add(floor, http, "SKU-002").status_code == 200
    data = {"csrf_token": floor.token(http), "sku": "SKU-002"}
    assert 'id="cart"' not in http.post(floor.url + "phone/remove", data=data, timeout=5).text
    assert add(floor, http, "SKU-001").status_code == 200
    form = {"csrf_token": floor.token(http), "customer": "Ana", "phone": "600", "kind": "delivery"}
    for change, why in (
        ({}, "a delivery needs an address"),
        ({"kind": "pickup", "at": "25:00"}, "the time must be HH:MM (24 h), not &#39;25:00&#39;"),
        ({"kind": "pickup", "customer": " "}, "the customer&#39;s name and phone are needed"),
    ):
        refused = http.post(floor.url + "phone/send", data={**form, **change}, timeout=5)
        assert refused.status_code == 400 and why in refused.text
    forged = http.post(
        floor.url + "phone/send", data={**form, "csrf_token": "x", "kind": "pickup"}, timeout=5
    )
    assert forged.status_code == 400 and "CSRF" in forged.text
    assert rows(floor.data_dir, "SELECT COUNT(*) FROM journal WHERE kind = 'order_request'") == [(0,)]


def test_a_new_order_stays_on_the_board_after_a_day_of_handed_over_orders(tmp_path) -> None:
    """`FloorDesk.orders` lists 200 at most, oldest first: asked for every stage at once, a busy day's
    collected orders pushed the newest order off the board."""
    store = open_store(tmp_path)
    desk = FloorDesk(lambda fn: fn(store), lambda order, number: {"": b"ticket"}, 3600)
    try:
        with store.transaction():
            for n in range(250):
                store_order(store, replace(ORDER, order_id=f"D{n:03d}").to_json(), b"ticket", 3600)
                move_stage(store, f"D{n:03d}", "collected", source="scan")
            store_order(store, replace(ORDER, order_id="NEW1").to_json(), b"ticket", 3600)
        board = Board.of(desk, time.time())
        assert [o.order_id for o in board.new] == ["NEW1"]
        assert [o.order_id for o in board.done] == [f"D{n:03d}" for n in range(249, 241, -1)]  # newest first
    finally:
        store.close()


def test_a_shopify_order_is_shown_by_its_number_on_the_board_and_in_the_activity(tmp_path) -> None:
    """The board showed a Shopify order by its shop number and its moves in the activity list by its gid:
    the number on the ticket was not the one the page listed under "lately"."""
    store = open_store(tmp_path)
    activity = Activity()
    desk = FloorDesk(lambda fn: fn(store), lambda order, number: {"": b"ticket"}, 3600)
    gid = "gid://shopify/Order/5432109876543"
    try:
        with store.transaction():
            store_order(store, replace(ORDER, order_id=gid, number="#1001").to_json(), b"ticket", 3600)
            record = move_stage(store, "1001", "accepted", source="scan")
        [shown] = Board.of(desk, time.time()).accepted
        assert (shown.order_id, shown.number) == (gid, "1001")
        activity(Applied(object(), Outcome(BoxState()), (record,)))
        assert [(e.kind, e.text) for e in activity.entries] == [("order_stage", "order 1001")]
    finally:
        store.close()


ORDER = Order(
    "X", "2026-12-06T10:00:00.000Z", "pickup", (OrderLine("BREAD", "Pan", 1, 180),), 180, customer="Eva"
)
