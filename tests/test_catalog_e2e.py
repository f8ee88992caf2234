"""From a shop's product with a barcode to that barcode sold at a till: a real mosquitto, the cloud bridge, a
box whose store starts empty, and a WooCommerce shop. The box learns the catalog from the shop alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_bridge import models as m
from cloud_bridge.worker import Worker
from devices.readings import ScanRead
from firmware_agent.link import Link
from firmware_agent.store import Store
from simulators.broker import Broker
from simulators.shops import WooCommerceSimulator
from simulators.shops.seed import Item
from tests.bridge_helpers import bridge_config, broker, shop_config, start_simulator, wait_for
from tests.core_helpers import running_core
from tests.mqtt_helpers import SHOP, WAIT_S, link_config, rows, settle
from tests.mqtt_helpers import RunningBox as Box

__all__ = ["broker"]  # fixtures

UPC_A = "036000291452"  # kept in the shop as the 12 digits printed under the bars
SHIRT_M = "8410000000139"


@pytest.fixture
def woo() -> Iterator[WooCommerceSimulator]:
    sim = start_simulator("woocommerce", [Item("SOUP", "Sopa de tomate", 199, 10, (UPC_A,))])
    assert isinstance(sim, WooCommerceSimulator)
    sim.add_variable_product("Camiseta", [("TS-S", "S", 1500, 3), ("TS-M", "M", 1600, 4)], ["", SHIRT_M])
    yield sim
    sim.stop()


@pytest.fixture
def empty_box(tmp_path: Path, broker: Broker) -> Iterator[Box]:
    """A box with no catalog at all, online before the bridge has ever looked at the shop."""
    store = Store.open(tmp_path / "tillbridge.db")
    with running_core(tmp_path, store=store) as running:
        link = Link(link_config(tmp_path, broker.url, "till-1"))
        link.start(running.core)
        try:
            assert link.online.wait(WAIT_S)
            yield Box(running, link, "till-1")
        finally:
            link.stop()


def test_a_barcode_kept_in_the_shop_sells_at_the_till_and_lowers_the_shop_stock(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, empty_box: Box
) -> None:
    shop = shop_config(SHOP, woo, ["till-1"])
    config = bridge_config(f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop])
    worker = Worker(config).start()
    try:
        settle(empty_box, lambda: _products(tmp_path) >= 3, what="the shop's catalog on the box")
        empty_box.core.post(ScanRead("till", "0" + UPC_A))  # the scanner sends the UPC-A as 13 digits
        empty_box.core.post(ScanRead("till", SHIRT_M))  # a variation's own barcode
        empty_box.core.post(ScanRead("till", SHIRT_M))
        wait_for(lambda: woo.stock("SOUP") == 9, what="the shop's soup stock to drop to 9")
        wait_for(lambda: woo.stock("TS-M") == 2, what="the shop's medium shirts to drop to 2")
        assert woo.stock("TS-S") == 3
        assert m.Parked.select().count() == 0
    finally:
        worker.stop()
    sold = rows(tmp_path, "SELECT sku, stock FROM product ORDER BY sku")
    assert sold == [("SOUP", 9), ("TS-M", 2), ("TS-S", 3)]


def _products(data_dir: Path) -> int:
    return int(rows(data_dir, "SELECT COUNT(*) FROM product")[0][0])
