"""PrestaShop 8's stock model as its Webservice documents it: stock is kept per combination, the product's
own row holds their sum (PrestaShop recomputes it, so a number written there does not stick), and a row
with `depends_on_stock` gets its quantity from physical stock. The connector refuses those writes by name
instead of writing numbers the shop would throw away.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud_bridge.connectors import StockChange
from cloud_bridge.errors import StockNotManaged
from simulators.shops import ManualClock, PrestaShopSimulator
from tests.shop_helpers import presta


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator([]) as shop:
        shirt = shop.add_product("TS", "T-shirt", 1500, 0)
        shop.add_combination(shirt, "TS-S", 3)
        shop.add_combination(shirt, "TS-M", 4)
        shop.add_product("SOAP", "Soap", 250, 12)
        yield shop


def test_a_combination_sells_on_its_own_row_and_the_products_row_follows_as_their_sum(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    connector = presta(sim, clock)
    levels = connector.get_stock(["TS", "TS-S", "TS-M"])
    assert {sku: level.quantity for sku, level in levels.items()} == {"TS": 7, "TS-S": 3, "TS-M": 4}
    [result] = connector.set_stock([StockChange("TS-M", 2, expected=4)])
    assert result.ok and (sim.stock("TS-M"), sim.stock("TS")) == (2, 5)


def test_a_write_to_the_product_row_of_a_product_with_combinations_is_refused_by_name(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    """Before, the connector wrote the sum row and reported success; PrestaShop put the sum back at once."""
    [result] = presta(sim, clock).set_stock([StockChange("TS", 20)])
    assert isinstance(result.error, StockNotManaged) and "per combination" in str(result.error)
    assert sim.stock("TS") == 7


def test_a_row_that_depends_on_physical_stock_is_not_written(
    sim: PrestaShopSimulator, clock: ManualClock
) -> None:
    with sim.lock:  # the shop's admin sets the flag
        row = next(r for r in sim.rows["stock_availables"].values() if r["quantity"] == "12")
        row["depends_on_stock"] = "1"
    [result] = presta(sim, clock).set_stock([StockChange("SOAP", 3)])
    assert isinstance(result.error, StockNotManaged) and "depends_on_stock" in str(result.error)
    assert sim.stock("SOAP") == 12
