"""A PrestaShop pizzeria end to end: an order whose combination names carry the options → the kitchen's
ticket (routed by sku pattern: PrestaShop's order rows do not say the category) and the counter's →
accepted (order state "Processing in progress", its template mail) → ready (a message the customer sees)
→ collected → the completed state in the shop; a phone order taken with the CLI made in the shop (guest,
address, cart, order) and printed the same way, a delivered one with its carrier's cost in the amount
due; phone orders the shop cannot fill parked, never blocking. Real mosquitto, the bridge, the PrestaShop
simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from cloud_bridge import ledger
from cloud_bridge import models as m
from simulators.broker import Broker
from simulators.shops import PrestaShopSimulator
from tests.bridge_helpers import bridge_config, broker, seed, shop_config, start_simulator, wait_for
from tests.floor_flow import (
    notices,
    phone_order_argv,
    pizzeria_box,
    query,
    running_worker,
    wait_for_catalog,
)
from tests.mqtt_helpers import SHOP
from tillbridge.cli import main

__all__ = ["broker"]  # fixtures


@pytest.fixture
def presta() -> Iterator[PrestaShopSimulator]:
    sim = start_simulator("prestashop", seed(2, 10))
    assert isinstance(sim, PrestaShopSimulator)
    sim.add_product("PIZ-BARB", "Pizza barbacoa", 1050, 30)
    sim.add_product("PIZ-MARG", "Pizza Margarita", 950, 30)
    sim.add_product("CANA", "Caña", 250, 90)
    yield sim
    sim.stop()


def test_an_order_prints_at_two_stations_and_its_stages_become_order_states_and_messages(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator
) -> None:
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, presta, ["till-1"])]
    )
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        items = [("PIZ-BARB", 1, {"Tamaño": "Familiar"}), ("CANA", 2, {})]
        order_id = str(presta.place_food_order(items, note="Sin cebolla. Alergia al apio"))
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=30)
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        assert "1 x Pizza barbacoa" in kitchen.text and "Tamaño: Familiar" in kitchen.text
        assert "Caña" not in kitchen.text and "2 x Caña" in counter.text
        assert "Sin cebolla" in kitchen.text and "ALLERGIES: Alergia al apio" in " ".join(
            kitchen.text.split()
        )

        box.floor.move(order_id, "accepted", eta_min=20)
        box.floor.move(order_id, "ready")
        box.floor.move(order_id, "delivered")
        done = [("accepted", "done"), ("ready", "done"), ("delivered", "done")]
        wait_for(lambda: notices(worker, order_id) == done, what="every stage told to the shop")
        states, shown = presta.order_story(int(order_id))
        assert states == ["3", "5"]  # processing in progress, then delivered: each with its template mail
        assert shown == [
            "Hemos aceptado tu pedido: estará listo en unos 20 minutos.",
            "Tu pedido está listo y sale hacia ti.",
            "Pedido entregado. ¡Gracias!",
        ]
        assert len(box.kitchen.tickets) == 1 and len(box.counter.tickets) == 1


def test_an_online_order_with_the_edited_pickup_carrier_prints_as_a_pickup(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator
) -> None:
    """The owner edited the click-and-collect carrier (PrestaShop saved it with a new id); before, an
    order with the new id printed as DELIVERY and went down the delivery stages."""
    edited = presta.edit_carrier(1)
    shop = shop_config(SHOP, presta, ["till-1"])
    settings = {**shop.credentials, "pickup_carriers": [1]}
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [replace(shop, credentials=settings)]
    )
    with running_worker(config), pizzeria_box(tmp_path, broker) as box:
        presta.place_food_order([("PIZ-BARB", 1, {}), ("CANA", 1, {})], carrier=edited)
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        assert "PICKUP" in counter.text and "DELIVERY" not in counter.text


def test_a_phone_order_is_made_in_prestashop_prints_at_two_stations_and_is_collected_there(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """PrestaShop shops used to park phone orders ("not created in PrestaShop shops yet"): nothing printed."""
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, presta, ["till-1"])]
    )
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        wait_for_catalog(box)
        assert main(phone_order_argv(broker.url)) == 0
        assert '"ok": true' in capsys.readouterr().out
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=30)
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        assert "PHONE ORDER" in kitchen.text and "2 x Pizza Margarita" in kitchen.text
        assert "Extra: Aceitunas" in kitchen.text and "> sin cebolla" in kitchen.text
        assert "Caña" not in kitchen.text and "1 x Caña" in counter.text
        assert "TO PAY" in counter.text and "21.50" in counter.text.replace(",", ".")
        assert "Luis Peña" in counter.text
        [order_id] = [str(i) for i in presta.rows["orders"]]
        assert presta.stock("PIZ-MARG") == 28 and presta.stock("CANA") == 89  # the shop took them, once

        def level(sku: str) -> tuple[int, int]:
            found = query(worker, lambda: ledger.levels(SHOP, [sku])[sku])
            return found.on_hand, found.available

        assert level("PIZ-MARG") == (30, 28)  # the bridge holds them as the order's, not as a second sale

        box.floor.move(order_id, "ready")
        box.floor.move(order_id, "collected")
        done = [("code", "done"), ("ready", "done"), ("collected", "done")]
        wait_for(lambda: notices(worker, order_id) == done, what="every stage told to the shop")
        states, shown = presta.order_story(int(order_id))
        assert states == ["5"]  # collected: the completed state, its template mail
        assert shown[0].startswith("Tu código de recogida: ")  # a pickup: the code to show at the counter
        assert shown[1:] == ["Tu pedido está listo para recoger.", "Pedido recogido. ¡Gracias!"]
        wait_for(lambda: level("PIZ-MARG") == (28, 28), what="the collected order's units gone once")
        assert presta.stock("PIZ-MARG") == 28 and presta.stock("CANA") == 89
        assert len(box.kitchen.tickets) == 1 and len(box.counter.tickets) == 1


def test_a_delivery_phone_order_with_a_paid_carrier_is_made_unpaid_and_prints_its_delivery_in_the_amount_due(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, the bridge sent the products' sum as `total_paid`: PrestaShop made the order in "Payment
    error" (no stock taken), the request was parked, and nothing printed."""
    carrier = presta.add_carrier(
        "Reparto a domicilio", [("0", "25", 250), ("25", "1000", 100)], tax_percent="10"
    )
    shop = shop_config(SHOP, presta, ["till-1"])
    settings = {
        **shop.credentials,
        "pickup_carriers": [1],
        "phone_delivery_carrier": carrier,
        "phone_state": 13,
    }
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [replace(shop, credentials=settings)]
    )
    with running_worker(config), pizzeria_box(tmp_path, broker) as box:
        wait_for_catalog(box)
        argv = [*phone_order_argv(broker.url), "--delivery", "Calle Mayor 1, 2ºB"]
        assert main(argv) == 0
        capsys.readouterr()
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=30)
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        [order_id] = list(presta.rows["orders"])
        assert presta.order_state(order_id) == 13  # awaiting payment, not "Payment error" (8)
        assert presta.rows["orders"][order_id]["id_carrier"] == str(carrier)
        assert presta.stock("PIZ-MARG") == 28 and presta.stock("CANA") == 89
        # 2 x 9.50 + 2.50 = 21.50 of products (under 25): 2.50 + 10 % = 2.75 of delivery
        assert "TO PAY" in counter.text and "24.25" in counter.text.replace(",", ".")
        assert "DELIVERY" in counter.text and "Calle Mayor 1, 2ºB" in counter.text
        assert "PHONE ORDER" in kitchen.text and "2 x Pizza Margarita" in kitchen.text


def phone_order_counter(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """The demo's phone order placed through a worker and a box on the shop as set up: the PrestaShop
    order's id and the counter ticket's text."""
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, presta, ["till-1"])]
    )
    with running_worker(config), pizzeria_box(tmp_path, broker) as box:
        wait_for_catalog(box)
        assert main(phone_order_argv(broker.url)) == 0
        capsys.readouterr()
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        [order_id] = list(presta.rows["orders"])
        return order_id, counter.text


def test_a_phone_order_with_the_shop_s_automatic_discount_prints_the_discounted_amount_due(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shop gives 10 % off from 20 € (a cart rule without code, which validateOrder puts on the cart);
    before, the bridge sent the undiscounted total: "Payment error", parked, nothing printed."""
    presta.add_cart_rule(
        "10 % desde 20 €", reduction_percent="10", minimum_amount="20", quantity="100", quantity_per_user="9"
    )
    order_id, counter = phone_order_counter(tmp_path, broker, presta, capsys)
    assert presta.order_state(order_id) != 8  # not "Payment error"
    # 2 x 9.50 + 2.50 = 21.50, from 20: 10 % off
    assert "TO PAY" in counter and "19.35" in counter.replace(",", ".")
    assert presta.stock("PIZ-MARG") == 28


def test_a_phone_order_with_a_percent_rule_on_a_shop_rounding_per_line_prints_without_a_cent_apart(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Prices stored without tax to 6 decimals (8.00 and 2.50 with 10 % taken out) on a shop rounding
    each line, as PrestaShop installs: 2 x 7.272727 + 2.272727 = 16.818181 -> 16.82, 10 % of the lines
    14.55 + 2.27 -> 1.68 off, 15.14 to pay. Before, the bridge summed the prices rounded to the cent
    (16.81, 15.13 to pay): "Payment error", parked, nothing printed."""
    presta.set_exact_price("PIZ-MARG", Decimal("7.272727"))
    presta.set_exact_price("CANA", Decimal("2.272727"))
    presta.add_cart_rule("10 %", reduction_percent="10", quantity="100", quantity_per_user="9")
    order_id, counter = phone_order_counter(tmp_path, broker, presta, capsys)
    assert presta.order_state(order_id) != 8  # not "Payment error"
    assert "TO PAY" in counter and "15.14" in counter.replace(",", ".")


def test_phone_orders_the_shop_cannot_fill_are_parked_naming_why_and_the_next_one_still_prints(
    tmp_path: Path, broker: Broker, presta: PrestaShopSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """A product the box still lists but the shop renamed, and more than the shop has: each request is
    parked with its reason, nothing is made in the shop, and the phone order after them prints."""
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, presta, ["till-1"])]
    )
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        wait_for_catalog(box, "PIZ-BARB")
        with presta.lock:  # renamed in the back office; the box's catalog has not heard yet
            [pid] = [p for p, row in presta.rows["products"].items() if row["reference"] == "PIZ-BARB"]
            presta.rows["products"][pid]["reference"] = "PIZ-BBQ"
        order = ["order", "add", "till-1", "--shop", SHOP, "--url", broker.url, "--customer", "Ana"]
        assert main([*order, "--line", "PIZ-BARB x1"]) == 0
        assert main([*order, "--line", "PIZ-MARG x500"]) == 0
        assert main([*order, "--phone", "600999888", "--line", "CANA x2"]) == 0
        capsys.readouterr()
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        assert "PHONE ORDER" in counter.text and "2 x Caña" in counter.text

        def parked() -> list[str]:
            rows = m.Parked.select().where(m.Parked.key.startswith("notice/")).order_by(m.Parked.id)
            return [row.error for row in rows]

        wait_for(lambda: len(query(worker, parked)) == 2, what="both refusals parked")
        unknown, too_many = query(worker, parked)
        assert "PIZ-BARB" in unknown and "500 x PIZ-MARG: the shop has 30" in too_many
        assert presta.phone_order_parts()["orders"] == 1 and presta.stock("PIZ-MARG") == 30
        assert box.kitchen.tickets == []
