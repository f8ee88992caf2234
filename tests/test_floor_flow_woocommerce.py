"""A WooCommerce pizzeria end to end: an online order → the kitchen's ticket (pizzas) and the counter's (the
whole order) → accepted with an estimate → ready (the customer's mailed notes seen by the shop) → collected
at the counter with the pickup code the shop mailed → completed in the shop. Real mosquitto, the bridge,
the WooCommerce simulator, a box wired from its config with two virtual printers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.barcodes import encode_pickup
from devices.readings import ScanRead
from simulators.broker import Broker
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import (
    bridge_config,
    broker,
    customer_code,
    seed,
    shop_config,
    start_simulator,
    wait_for,
)
from tests.floor_flow import notices, phone_order_argv, pizzeria_box, running_worker, wait_for_catalog
from tests.mqtt_helpers import SHOP
from tillbridge.cli import main

__all__ = ["broker"]  # fixtures


@pytest.fixture
def woo() -> Iterator[WooCommerceSimulator]:
    sim = start_simulator("woocommerce", seed(2, 10))
    assert isinstance(sim, WooCommerceSimulator)
    sim.add_product("PIZ-MARG", "Pizza Margarita", 950, 30, categories=["Pizzas"])
    sim.add_product("CANA", "Caña", 250, 90, categories=["Bebidas"])
    yield sim
    sim.stop()


def test_an_online_order_prints_at_two_stations_goes_ready_and_is_collected_with_the_mailed_code(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator
) -> None:
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, woo, ["till-1"])]
    )
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        order_id = str(
            woo.place_food_order(
                [("PIZ-MARG", 2, {"Extra": "Aceitunas", "Nota": "bien hecha"}), ("CANA", 1, {})],
                pickup=True,
                customer="Begoña Núñez",
                note="Soy alérgica a los frutos secos",
                meta={"pickup_time": "asap"},
            )
        )
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=20)
        [counter] = box.counter.wait_for_tickets(1, timeout=20)
        assert "2 x Pizza Margarita" in kitchen.text and "Extra: Aceitunas" in kitchen.text
        assert "Caña" not in kitchen.text and "ALLERGIES" in kitchen.text
        assert (
            "1 x Caña" in counter.text
            and "PAID ONLINE" in counter.text
            and f"[QR: TBOUT{order_id}]" in counter.text  # its hand-over code, by number
        )

        code = customer_code(SHOP, order_id)
        mailed = lambda: [n["note"] for n in woo.order_notes(int(order_id)) if n["customer_note"]]  # noqa: E731
        wait_for(
            lambda: any(code in note for note in mailed()), what="the pickup code mailed to the customer"
        )

        assert box.floor.move(order_id, "accepted", eta_min=15).stage == "accepted"
        assert box.floor.move(order_id).stage == "ready"
        wait_for(lambda: len(mailed()) == 3, what="accepted and ready mailed to the customer")
        assert mailed()[1:] == [
            "Hemos aceptado tu pedido: estará listo en unos 15 minutos.",
            "Tu pedido está listo para recoger.",
        ]
        assert woo.order_status(int(order_id)) == "processing"

        box.core.post(ScanRead("counter", encode_pickup(order_id, code)))
        wait_for(lambda: woo.order_status(int(order_id)) == "completed", what="completed in the shop")
        assert [o.order_id for o in box.floor.orders(["collected"])] == [order_id]
        assert notices(worker, order_id) == [("code", "done"), ("accepted", "done"), ("ready", "done")]
        assert len(box.kitchen.tickets) == 1 and len(box.counter.tickets) == 1  # each printed once


def test_a_phone_order_taken_with_the_cli_is_created_in_the_shop_and_prints_like_an_online_one(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, woo, ["till-1"])]
    )
    with running_worker(config), pizzeria_box(tmp_path, broker) as box:
        argv = phone_order_argv(broker.url)
        argv += ["--delivery", "Calle Mayor 1, Madrid", "--note", "Paga con tarjeta"]
        wait_for_catalog(box)
        assert main(argv) == 0
        assert '"ok": true' in capsys.readouterr().out
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=30)
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        assert "PHONE ORDER" in kitchen.text and "2 x Pizza Margarita" in kitchen.text
        assert "> sin cebolla" in kitchen.text and "DELIVERY" in kitchen.text
        assert (
            "Calle Mayor 1, Madrid" in counter.text
            and "TO PAY" in counter.text
            and "1 x Caña" in counter.text
        )
        [order_id] = list(woo.orders)
        assert woo.stock("PIZ-MARG") == 28  # one stock truth: the shop took the units
        assert woo.order_status(order_id) == "processing"

        with pytest.raises(SystemExit):  # a line without a product is refused before anything is sent
            main(["order", "add", "till-1", "--shop", SHOP, "--customer", "X"])
        bad = [
            "order",
            "add",
            "till-1",
            "--shop",
            SHOP,
            "--url",
            broker.url,
            "--customer",
            "X",
            "--line",
            "CANA x0",
        ]
        assert main(bad) == 1
        assert "lines[0].qty" in capsys.readouterr().out
        assert len(woo.orders) == 1


def test_stages_moved_while_the_box_is_cut_off_reach_the_shop_in_order_once_it_is_back(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator
) -> None:
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, woo, ["till-1"])]
    )
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        order_id = str(
            woo.place_food_order(
                [("PIZ-MARG", 1, {})], pickup=False, paid=False, address={"address_1": "C/ Luna 3"}
            )
        )
        box.counter.wait_for_tickets(1, timeout=20)
        broker.stop()  # the shop's internet is down: the box keeps working
        box.floor.move(order_id, "accepted", eta_min=30)
        box.floor.move(order_id, "ready")
        box.floor.move(order_id, "delivered")
        assert [o.order_id for o in box.floor.orders(["delivered"])] == [order_id]
        broker.restart()
        done = [("accepted", "done"), ("ready", "done"), ("delivered", "done")]
        wait_for(lambda: notices(worker, order_id) == done, timeout=60, what="the moves told to the shop")
        mailed = [n["note"] for n in woo.order_notes(int(order_id))]
        assert mailed == [
            "Hemos aceptado tu pedido: estará listo en unos 30 minutos.",
            "Tu pedido está listo y sale hacia ti.",
            "Pedido entregado. ¡Gracias!",
        ]
        assert woo.order_status(int(order_id)) == "completed"
