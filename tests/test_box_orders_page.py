"""The order board on the box's page over real HTTP, against the whole chain (shop simulator, bridge, real
agent): each button moves the order through `FloorDesk` and journals the move for the shop; a bad estimate,
an unknown stage, a step back and a form without its CSRF token are refused, saying why, and move nothing.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_agent.web.page import _phone_order
from tests.bridge_helpers import wait_for
from tests.mqtt_helpers import rows
from tests.web_helpers import Floor, floor

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
