"""A Shopify pizzeria end to end: an online order → the kitchen's ticket and the counter's → accepted → ready
(Shopify's "ready for pickup" notification seen by the simulator) → collected at the counter (the page) →
fulfilled in the shop. Real mosquitto, the bridge, the Shopify simulator, a box wired from its
config with two virtual printers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devices.barcodes import encode_pickup
from devices.printers.decode import Symbol
from devices.readings import ScanRead
from firmware_agent.core import Applied
from simulators.broker import Broker
from simulators.shops import ShopifySimulator
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

HERE = "gid://shopify/Location/1"
OTHER_STORE = "gid://shopify/Location/2"


@pytest.fixture
def shop() -> Iterator[ShopifySimulator]:
    sim = start_simulator("shopify", seed(2, 10))
    assert isinstance(sim, ShopifySimulator)
    sim.add_product("PIZ-MARG", "Pizza Margarita", 950, 30)
    sim.categorise("PIZ-MARG", "Pizzas")
    sim.add_product("CANA", "Caña", 250, 90)
    yield sim
    sim.stop()


def test_an_online_order_prints_at_two_stations_and_ready_sends_shopify_s_pickup_notification(
    tmp_path: Path, broker: Broker, shop: ShopifySimulator
) -> None:
    english = replace(shop_config(SHOP, shop, ["till-1"]), language="en")  # what the shop tells customers
    config = bridge_config(f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [english])
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        order_gid = shop.place_food_order(
            [("PIZ-MARG", 1, {"Extra": "Albahaca"}), ("CANA", 2, {})],
            pickup=True,
            note="Sin prisa",
            attributes={"Pickup time": "asap"},
        )
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=20)
        [counter] = box.counter.wait_for_tickets(1, timeout=20)
        assert "1 x Pizza Margarita" in kitchen.text and "Extra: Albahaca" in kitchen.text
        assert "Caña" not in kitchen.text and "2 x Caña" in counter.text and "Sin prisa" in counter.text
        [order] = box.floor.orders(["new"])
        order_id = order.order_id
        code = customer_code(SHOP, order_id)
        wait_for(
            lambda: any(code in v for _, v in shop.customer_view(order_gid)[1]), what="the code on the order"
        )

        box.floor.move(order_id, "accepted", eta_min=10)
        box.floor.move(order_id, "ready")
        wait_for(
            lambda: shop.customer_view(order_gid)[2] == ["ready_for_pickup"], what="Shopify's notification"
        )
        assert not shop.is_fulfilled(order_gid)
        said = ("Tillbridge", "We have accepted your order: it will be ready in about 10 minutes.")
        assert said in shop.customer_view(order_gid)[1]

        # a Shopify order id (a gid) does not fit the pickup barcode: the counter hands it over on the page
        assert box.floor.move(order_id).stage == "collected"
        wait_for(lambda: shop.is_fulfilled(order_gid), what="fulfilled in the shop")
        done = [("code", "done"), ("accepted", "done"), ("ready", "done"), ("collected", "done")]
        wait_for(lambda: notices(worker, order_id) == done, what="every notice told")
        assert len(box.kitchen.tickets) == 1 and len(box.counter.tickets) == 1


def test_a_shopify_order_moves_by_a_scan_of_its_ticket_s_code_and_is_collected_with_the_pickup_qr(
    tmp_path: Path, broker: Broker, shop: ShopifySimulator
) -> None:
    """A Shopify order's id is a gid (gid://shopify/Order/…) that no barcode carries: its tickets had no code
    to scan and the customer's pickup QR could not name it, so the floor moved it only on the page. Now it
    is known by its number (#N in Shopify, N on the floor) on the tickets, the codes, the board and the
    journal."""
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, shop, ["till-1"])]
    )
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        seen: list[Applied] = []
        box.core.listeners.append(seen.append)  # what the box's page shows of each scan and entry
        order_gid = shop.place_food_order([("PIZ-MARG", 1, {}), ("CANA", 1, {})], pickup=True)
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=20)
        [counter] = box.counter.wait_for_tickets(1, timeout=20)
        number = shop.orders[int(order_gid.rsplit("/", 1)[1])].number  # its name in Shopify: #number
        for ticket in (kitchen, counter):
            assert f"#{number}" in ticket.text and f"[CODE128: TBGO{number}]" in ticket.text
        assert f"[CODE128: TBRP{number}]" in counter.text
        [order] = box.floor.orders(["new"])
        assert order.order_id == order_gid and order.to_json()["number"] == str(number)  # the board's

        def scan(code: str, stage: str) -> None:
            box.core.post(ScanRead("counter", code))
            wait_for(lambda: getattr(box.floor.order(order_gid), "stage", "") == stage, what=f"{stage}")

        scan(f"TBGO{number}", "accepted")
        scan(f"tbgo{number}", "ready")  # a wedge with Caps Lock on
        wait_for(
            lambda: shop.customer_view(order_gid)[2] == ["ready_for_pickup"], what="Shopify's notification"
        )
        assert not shop.is_fulfilled(order_gid)

        code = customer_code(SHOP, order_gid)
        scan(encode_pickup(str(number), code), "collected")  # the customer's QR: the number and the code
        wait_for(lambda: shop.is_fulfilled(order_gid), what="fulfilled in the shop")
        done = [("code", "done"), ("accepted", "done"), ("ready", "done")]  # collected: by the pickup code
        wait_for(lambda: notices(worker, order_gid) == done, what="every notice told")
        assert len(box.kitchen.tickets) == 1 and len(box.counter.tickets) == 1
    said = [a.outcome.message for a in seen if isinstance(a.event, ScanRead)]
    assert said == [f"order {number} accepted", f"order {number} ready", f"order {number} collected"]
    [collected] = [r.data for a in seen for r in a.records if r.kind == "order_collected"]
    assert collected == {"order_id": order_gid, "pickup_code": code, "number": str(number)}


def test_scanning_the_qr_on_a_shopify_order_s_counter_ticket_hands_it_over_and_fulfils_it(
    tmp_path: Path, broker: Broker, shop: ShopifySimulator
) -> None:
    """The counter ticket's QR held the order's id, a Shopify gid: scanning it at the counter named no
    order ("not in the catalog") and collected nothing. It holds the order's hand-over code now."""
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, shop, ["till-1"])]
    )
    with running_worker(config) as worker, pizzeria_box(tmp_path, broker) as box:
        seen: list[Applied] = []
        box.core.listeners.append(seen.append)
        order_gid = shop.place_food_order([("PIZ-MARG", 1, {}), ("CANA", 1, {})], pickup=True)
        box.kitchen.wait_for_tickets(1, timeout=20)
        [counter] = box.counter.wait_for_tickets(1, timeout=20)
        number = shop.orders[int(order_gid.rsplit("/", 1)[1])].number
        [qr] = [line.data for line in counter.lines if isinstance(line, Symbol) and line.kind == "QR"]
        assert "gid://" not in qr

        box.floor.move(order_gid, "ready")
        box.core.post(ScanRead("counter", qr))  # the bag leaves the counter with its ticket
        wait_for(lambda: getattr(box.floor.order(order_gid), "stage", "") == "collected", what="collected")
        wait_for(lambda: shop.is_fulfilled(order_gid), what="fulfilled in the shop")
        done = [("code", "done"), ("ready", "done"), ("collected", "done")]
        wait_for(lambda: notices(worker, order_gid) == done, what="every notice told")
    said = [a.outcome.message for a in seen if isinstance(a.event, ScanRead)]
    assert said == [f"order {number} collected"]


def test_an_order_split_with_another_location_prints_and_fulfils_only_this_store_s_lines(
    tmp_path: Path, broker: Broker, shop: ShopifySimulator
) -> None:
    """Shopify assigned the pizza and the beers here and the wine to the other store: the tickets used to
    carry the wine too, and collecting at the counter fulfilled the other store's part."""
    shop.add_product("VINO", "Vino tinto", 1800, 40)
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, shop, ["till-1"])]
    )
    with running_worker(config), pizzeria_box(tmp_path, broker) as box:
        order_gid = shop.place_split_order(
            [("PIZ-MARG", 1, HERE), ("VINO", 3, OTHER_STORE), ("CANA", 2, HERE)], pickup=True
        )
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=20)
        [counter] = box.counter.wait_for_tickets(1, timeout=20)
        assert "1 x Pizza Margarita" in kitchen.text and "2 x Caña" in counter.text
        assert "Vino" not in kitchen.text + counter.text
        [order] = box.floor.orders(["new"])
        assert shop.stock("VINO") == 40  # its units are the other store's

        box.floor.move(order.order_id, "accepted", eta_min=10)
        box.floor.move(order.order_id, "ready")
        assert box.floor.move(order.order_id).stage == "collected"
        wait_for(lambda: shop.split_closed(order_gid)[HERE], what="this store's part fulfilled")
        assert shop.split_closed(order_gid) == {HERE: True, OTHER_STORE: False}
        assert not shop.is_fulfilled(order_gid)
        assert shop.on_hand("VINO") == 40 and shop.on_hand("CANA") == 88


def test_a_phone_order_taken_with_the_cli_is_created_in_shopify_once_and_prints_with_the_amount_due(
    tmp_path: Path, broker: Broker, shop: ShopifySimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shopify shops used to park phone orders ("not created in Shopify shops yet"): nothing printed."""
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_config(SHOP, shop, ["till-1"])]
    )
    with running_worker(config), pizzeria_box(tmp_path, broker) as box:
        argv = phone_order_argv(broker.url)
        wait_for_catalog(box)
        assert main(argv) == 0
        assert '"ok": true' in capsys.readouterr().out
        [kitchen] = box.kitchen.wait_for_tickets(1, timeout=30)
        [counter] = box.counter.wait_for_tickets(1, timeout=30)
        assert "PHONE ORDER" in kitchen.text and "2 x Pizza Margarita" in kitchen.text
        assert "> sin cebolla" in kitchen.text
        assert "TO PAY" in counter.text and "21.50" in counter.text.replace(",", ".")
        assert "1 x Caña" in counter.text and "Luis Peña" in counter.text
        [order] = shop.orders.values()
        assert order.tags == ["tillbridge-phone"] and order.payment_pending
        assert shop.stock("PIZ-MARG") == 28  # one stock truth: the shop took the units
