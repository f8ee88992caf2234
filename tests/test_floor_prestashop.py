"""PrestaShop order rows as the kitchen needs them: a combination's attributes, which PrestaShop writes into
the row's `product_name`, become the line's options (any other name stays whole), and a customization's
values its options and note; phone orders made through the Webservice (customer, address, cart, order),
once per ref, against the simulator's validation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.connectors import prestashop_xml as psxml
from cloud_bridge.connectors.base import LineOption, OrderDraft, OrderState
from cloud_bridge.connectors.prestashop import _line
from cloud_bridge.errors import MalformedResponse, RequestRejected, ShopTimeout, UnknownSku
from simulators.shops import ManualClock, PrestaShopSimulator
from simulators.shops.server import Fault
from tests.shop_helpers import SMALL, phone_draft, presta
from wire import PhoneLine

ROW = {"id": "7", "product_quantity": "2", "product_reference": "PIZ", "unit_price_tax_incl": "9.500000"}


def test_a_combination_s_attributes_are_the_line_s_options() -> None:
    line = _line({**ROW, "product_name": "Pizza - Tamaño : Familiar, Masa : Fina"})
    assert line.name == "Pizza" and line.options == (
        LineOption("Tamaño", "Familiar"),
        LineOption("Masa", "Fina"),
    )
    assert _line({**ROW, "product_name": "Caña - 33 cl"}).name == "Caña - 33 cl"


@given(st.text(max_size=60))
def test_any_name_reads_whole_or_as_a_product_and_its_non_empty_options(name: str) -> None:
    line = _line({**ROW, "product_name": name})
    if line.options:
        assert all(o.name and o.value for o in line.options) and line.name + " - " in name
    else:
        assert line.name == name.strip() or line.name == name


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator(SMALL, clock=ManualClock()) as shop:
        shop.add_product("PIZ-4Q", "Pizza 4 quesos", 1150, 40)
        yield shop


def test_a_phone_order_is_made_from_a_guest_an_address_and_a_cart_once_per_ref(
    sim: PrestaShopSimulator,
) -> None:
    """PrestaShop shops used to park phone orders ("not created in PrestaShop shops yet")."""
    connector = presta(sim, ManualClock())
    draft = phone_draft("PIZ-4Q", 2)
    first = connector.create_order(draft)
    again = connector.create_order(draft)  # the request repeated after a lost answer
    assert first.order_id == again.order_id
    assert sim.phone_order_parts() == {"customers": 1, "addresses": 1, "carts": 1, "orders": 1}
    assert first.lines[0].options == (LineOption("Extra", "Aceitunas"),)
    assert first.lines[0].note == "sin cebolla"
    assert (first.source, first.pickup, first.customer, first.phone) == (
        "phone",
        True,
        "Luis Peña",
        "600111222",
    )
    assert (first.state, first.paid, first.due_cents, first.total_cents) == (
        OrderState.PAID,
        False,
        2300,
        2300,
    )
    assert first.requested_at == datetime(2026, 12, 6, 20, 0, tzinfo=UTC) and first.note == "Paga en tienda"
    assert sim.stock("PIZ-4Q") == 38  # one stock truth: the shop took the units, once


def test_a_retry_after_the_order_s_answer_was_lost_gives_the_order_made_then(
    sim: PrestaShopSimulator,
) -> None:
    connector = presta(sim, ManualClock(), timeout=0.3)
    sim.slow_next(1.0, match="POST /api/orders")
    with pytest.raises(ShopTimeout):
        connector.create_order(phone_draft("PIZ-4Q", 1))
    assert sim.wait_idle()  # the shop made the order after the bridge stopped waiting
    order = connector.create_order(phone_draft("PIZ-4Q", 1))
    assert sim.phone_order_parts()["orders"] == 1 and order.source == "phone"
    assert sim.stock("PIZ-4Q") == 39


def test_a_phone_order_the_shop_cannot_fill_is_refused_naming_the_line_before_anything_is_written(
    sim: PrestaShopSimulator,
) -> None:
    connector = presta(sim, ManualClock())
    with pytest.raises(UnknownSku, match="NOPE"):
        connector.create_order(OrderDraft(ref="r1", lines=(PhoneLine("NOPE", 1),), customer="Ana"))
    with pytest.raises(RequestRejected, match="999 x PIZ-4Q: the shop has 40"):
        connector.create_order(OrderDraft(ref="r2", lines=(PhoneLine("PIZ-4Q", 999),), customer="Ana"))
    assert sim.phone_order_parts() == {"customers": 0, "addresses": 0, "carts": 0, "orders": 0}


def test_control_characters_and_markup_in_a_phone_order_reach_the_shop_as_valid_fields(
    sim: PrestaShopSimulator,
) -> None:
    """The names PrestaShop validates lose what it refuses; the notes travel whole, escaped."""
    connector = presta(sim, ManualClock())
    draft = OrderDraft(
        ref="r3",
        lines=(PhoneLine("PIZ-4Q", 1, (LineOption("Sin", "onion=<b>yes</b>"),), "no\x07te javascript:x"),),
        customer="Luis\x00 P3ña <script>",
        phone="+34 600\x1b111",
        note="llamar al <llegar> & pagar",
    )
    order = connector.create_order(draft)
    assert order.lines[0].options == (LineOption("Sin", "onion=<b>yes</b>"),)
    assert order.note == "llamar al <llegar> & pagar" and order.customer == draft.customer


def test_a_line_s_customizations_are_its_options_and_note(sim: PrestaShopSimulator) -> None:
    sim.add_customization_field("PIZ-4Q", "Sin")
    sim.add_customization_field("PIZ-4Q", "Nota")
    order_id = sim.place_food_order(
        [("PIZ-4Q", 1, {"Tamaño": "Familiar"}), ("BREAD", 1, {})],
        customized={0: {"Sin": "cebolla", "Nota": "bien hecha"}},
    )
    order = presta(sim, ManualClock()).get_order(str(order_id))
    pizza, bread = order.lines
    assert pizza.options == (LineOption("Tamaño", "Familiar"), LineOption("Sin", "cebolla"))
    assert pizza.note == "bien hecha" and bread.options == () and bread.note == ""
    [polled], _ = presta(sim, ManualClock()).orders_since(None)
    assert polled.lines == order.lines


def test_an_order_prestashop_totals_differently_is_refused_naming_payment_error_also_when_retried(
    sim: PrestaShopSimulator,
) -> None:
    """A cart rule the bridge cannot see makes the cart's total differ from the prices' sum: PrestaShop
    makes the order in "Payment error" without taking stock; that must not pass as created."""
    sim.cart_rule_cents = 100
    connector = presta(sim, ManualClock())
    with pytest.raises(RequestRejected, match="Payment error"):
        connector.create_order(phone_draft("PIZ-4Q", 1))
    with pytest.raises(RequestRejected, match="Payment error"):
        connector.create_order(phone_draft("PIZ-4Q", 1))
    assert sim.phone_order_parts()["orders"] == 1 and sim.stock("PIZ-4Q") == 40


def test_a_phone_order_moved_to_the_shop_s_unpaid_state_still_prints_as_to_pay(
    sim: PrestaShopSimulator,
) -> None:
    """The Webservice makes every order in "Remote payment accepted"; `phone_state` moves it on (13,
    "Awaiting cash on delivery validation", a state the bridge otherwise does not print)."""
    order = presta(sim, ManualClock(), phone_state=13).create_order(phone_draft("PIZ-4Q", 1))
    assert sim.order_state(int(order.order_id)) == 13
    assert sim.order_story(int(order.order_id))[0] == ["13"]
    assert (order.status, order.state, order.paid, order.due_cents) == ("13", OrderState.PAID, False, 1150)


def test_a_shop_answering_an_id_that_is_not_one_fails_the_try_as_unreadable_not_as_a_crash(
    sim: PrestaShopSimulator,
) -> None:
    """Before, a customer id like "x1" was sent on in the address, the shop refused that, and the phone
    order was parked as refused; an unreadable answer is the shop's fault and is tried again."""
    body = b'{"customer":{"id":"x1","secure_key":""}}'
    sim.inject(Fault(201, body=body, match="POST /api/customers"))
    with pytest.raises(MalformedResponse, match="customer id"):
        presta(sim, ManualClock()).create_order(phone_draft("PIZ-4Q", 1))
    assert sim.phone_order_parts()["orders"] == 0


def _post(sim: PrestaShopSimulator, resource: str, xml: str) -> requests.Response:
    return requests.post(
        f"{sim.url}/api/{resource}",
        data=f"<prestashop>{xml}</prestashop>".encode(),
        auth=(sim.key, ""),
        timeout=5,
    )


def test_the_simulator_refuses_what_the_webservice_refuses_in_its_error_shape(
    sim: PrestaShopSimulator,
) -> None:
    named = _post(
        sim,
        "customers",
        "<customer><firstname>R2D2</firstname><lastname>X</lastname>"
        "<email>a@b.es</email><passwd>secret12</passwd></customer>",
    )
    assert named.status_code == 400
    assert psxml.describe(named.content) == (
        "41",
        'Validation error: "Property Customer->firstname is not valid"',
    )
    bare = _post(sim, "orders", "<order><id_cart>1</id_cart></order>")
    assert (
        bare.status_code == 400
        and psxml.describe(bare.content)[1] == 'parameter "id_address_delivery" required'
    )
    as_json = requests.post(f"{sim.url}/api/carts", json={"cart": {}}, auth=(sim.key, ""), timeout=5)
    assert as_json.status_code == 400 and psxml.describe(as_json.content)[0] == "127"  # XML input only


def test_the_simulator_orders_a_cart_once_and_only_with_its_customer_s_secure_key(
    sim: PrestaShopSimulator,
) -> None:
    connector = presta(sim, ManualClock())
    order = connector.create_order(phone_draft("PIZ-4Q", 1))
    cart = sim.rows["orders"][int(order.order_id)]["id_cart"]
    fields = "".join(
        f"<{k}>{v}</{k}>"
        for k, v in {
            "id_address_delivery": 1,
            "id_address_invoice": 1,
            "id_cart": cart,
            "id_currency": 1,
            "id_lang": 1,
            "id_customer": sim.rows["carts"][int(cart)]["id_customer"],
            "id_carrier": 1,
            "module": "ps_cashondelivery",
            "payment": "Pay at pickup",
            "total_paid": "11.50",
            "total_paid_real": "11.50",
            "total_products": "11.50",
            "total_products_wt": "11.50",
            "conversion_rate": 1,
        }.items()
    )
    again = _post(sim, "orders", f"<order>{fields}</order>")
    assert again.status_code == 500 and "already been placed" in psxml.describe(again.content)[1]
    sim.rows["carts"][int(cart)]["secure_key"] = "0" * 32
    del sim.rows["orders"][int(order.order_id)]
    keyless = _post(sim, "orders", f"<order>{fields}</order>")
    assert keyless.status_code == 500 and psxml.describe(keyless.content)[1] == "Secure key does not match"
