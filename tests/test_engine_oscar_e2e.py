"""A real django-oscar shop end to end with the bridge and a till: a real mosquitto, the cloud bridge on
SQLite, a till in its own process (store, core loop, link, print worker, virtual printer), and the engine
seeded and driven through its own admin and store APIs. What a shop owner would see: the shop's products
sell at the till and the shop's stock drops; an order placed in the web shop prints at the till; the
customer's pickup code closes it in Oscar's own status pipeline; a price changed in Oscar reaches the till.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_bridge import models as m
from cloud_bridge.config import ShopConfig
from cloud_bridge.worker import Worker
from devices.barcodes import encode_pickup
from simulators.broker import Broker
from simulators.printer import VirtualPrinter
from tests.bridge_helpers import FAST, bridge_config, broker, customer_code, wait_for
from tests.engine_helpers import OscarShop, oscar_shop
from tests.mqtt_helpers import SHOP, rows
from tests.till_process import TillProcess

__all__ = ["broker"]  # fixtures

APPLES = ("APL-1", "Apples 1 kg", "4006381333931", "2.49", 20)
OIL = ("OIL-1L", "Olive oil 1 L", "8410010210016", "10.95", 6)
WAIT_S = 30.0


@pytest.fixture
def shop() -> Iterator[OscarShop]:
    with oscar_shop() as running:
        yield running


def _price(data_dir: Path, sku: str) -> int | None:
    found = rows(data_dir, "SELECT price_cents FROM product WHERE sku = ?", (sku,))
    return int(found[0][0]) if found else None


def test_an_oscar_shop_sells_at_the_till_prints_its_web_orders_and_closes_them_at_pickup(
    tmp_path: Path, shop: OscarShop, broker: Broker
) -> None:
    records = shop.seed([APPLES, OIL])
    creds = {"username": shop.bridge_user, "password": shop.bridge_password}
    config = bridge_config(
        f"sqlite:///{tmp_path / 'bridge.db'}",
        broker.url,
        [ShopConfig(SHOP, "oscar", shop.url, ("till-1",), creds)],
        timing=replace(FAST, orders_s=0.5, products_s=1.0, shop_timeout_s=30.0),
    )
    data_dir = tmp_path / "till-1"
    data_dir.mkdir()
    worker = Worker(config).start()
    try:
        with VirtualPrinter() as printer:
            till = TillProcess(data_dir, broker.port, "till-1", printer.url).start()
            try:
                # the shop's catalog reaches the till, and its barcode sells there
                wait_for(
                    lambda: (_price(data_dir, "APL-1"), _price(data_dir, "OIL-1L")) == (249, 1095),
                    WAIT_S,
                    "the shop's products on the till",
                )
                assert till.scan(APPLES[2])[0] == "ok"
                wait_for(
                    lambda: shop.record(records["APL-1"])["num_in_stock"] == 19,
                    WAIT_S,
                    "the till's sale to lower Oscar's stock",
                )

                # a web order prints at the till, and its pickup code completes it in Oscar
                placed = shop.place_order(records["OIL-1L"], 2)
                pk = placed["url"].rstrip("/").rpartition("/")[2]
                [ticket] = printer.wait_for_tickets(1, timeout=WAIT_S)
                assert f"#{placed['number']}" in ticket.text and "Olive oil 1 L" in ticket.text
                code = customer_code(SHOP, pk)
                has_key = "SELECT 1 FROM setting WHERE key LIKE 'pickup_key.%'"
                wait_for(lambda: bool(rows(data_dir, has_key)), WAIT_S, "the shop's pickup key on the till")
                # the till names the order by the number its ticket shows big (Oscar's order number)
                assert till.scan(encode_pickup(pk, code)) == ("ok", f"order {placed['number']} collected")
                wait_for(
                    lambda: shop.order(pk)["status"] == "Collected",
                    WAIT_S,
                    "the order collected in Oscar",
                    lambda: str(shop.order(pk)["status"]),
                )

                # a price changed in Oscar reaches the till
                shop.admin("PATCH", f"/stockrecords/{records['OIL-1L']}/", {"price": "9.99"})
                wait_for(
                    lambda: _price(data_dir, "OIL-1L") == 999,
                    WAIT_S,
                    "Oscar's new oil price on the till",
                )
            finally:
                till.stop()
        # the order's units were taken by Oscar (allocated), so the bridge never took them a second time
        oil = shop.record(records["OIL-1L"])
        assert (oil["num_in_stock"], oil["num_allocated"]) == (6, 2)
        assert shop.record(records["APL-1"])["num_in_stock"] == 19
        assert m.Parked.select().count() == 0
    finally:
        worker.stop()
