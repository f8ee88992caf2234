"""The Oscar connector against a real django-oscar shop (a server process on SQLite), seeded through the
engine's own admin API: what the bridge reads is what the engine shows, and what it writes lands there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from cloud_bridge.connectors import OrderState, StockChange, make_connector
from cloud_bridge.connectors.oscar import OscarConnector
from cloud_bridge.errors import RequestRejected, StaleStock, UnknownSku
from tests.engine_helpers import OscarShop, oscar_shop

PRODUCTS = [
    ("APL-1", "Apples 1 kg", "4006381333931", "2.49", 20),
    ("OIL-1L", "Olive oil 1 L", "8410010210018", "10.95", 6),
]


@pytest.fixture(scope="module")
def shop() -> Iterator[OscarShop]:
    with oscar_shop() as running:
        yield running


@pytest.fixture(scope="module")
def records(shop: OscarShop) -> dict[str, int]:
    return shop.seed(PRODUCTS)


def _connector(shop: OscarShop, username: str, password: str, **settings: object) -> OscarConnector:
    made = make_connector(
        "oscar-shop", "oscar", {"base_url": shop.url, "username": username, "password": password, **settings}
    )
    assert isinstance(made, OscarConnector)
    return made


@pytest.fixture
def connector(shop: OscarShop, records: dict[str, int]) -> Iterator[OscarConnector]:
    made = _connector(shop, shop.bridge_user, shop.bridge_password)
    yield made
    made.close()


def test_the_box_gets_the_engines_products_with_their_barcodes_and_prices(connector: OscarConnector) -> None:
    products, _ = connector.products_since(None)
    seen = {p.sku: (p.name, p.price_cents, p.barcodes, p.problem) for p in products}
    assert seen == {
        "APL-1": ("Apples 1 kg", 249, ("4006381333931",), None),
        "OIL-1L": ("Olive oil 1 L", 1095, ("8410010210018",), None),
    }


def test_a_till_sale_written_by_the_bridge_lowers_the_engines_stock(
    shop: OscarShop, records: dict[str, int], connector: OscarConnector
) -> None:
    before = connector.get_stock(["APL-1"])["APL-1"].quantity
    assert before is not None
    [result] = connector.set_stock([StockChange("APL-1", before - 2, expected=before)])
    assert result.ok and result.quantity == before - 2
    assert shop.record(records["APL-1"])["num_in_stock"] == before - 2


def test_units_promised_to_online_orders_stay_aside(
    shop: OscarShop, records: dict[str, int], connector: OscarConnector
) -> None:
    """Oscar allocates a placed order's units (num_allocated) until it ships: buyers see the rest, and a
    write of the level the bridge wants keeps the promised units on the shelf."""
    shop.admin("PATCH", f"/stockrecords/{records['OIL-1L']}/", {"num_in_stock": 6, "num_allocated": 2})
    assert connector.get_stock(["OIL-1L"])["OIL-1L"].quantity == 4
    [result] = connector.set_stock([StockChange("OIL-1L", 3, expected=4)])
    assert result.ok and result.quantity == 3
    record = shop.record(records["OIL-1L"])
    assert (record["num_in_stock"], record["num_allocated"]) == (5, 2)


def test_a_stale_level_or_an_unknown_sku_is_refused_and_nothing_is_written(
    shop: OscarShop, records: dict[str, int], connector: OscarConnector
) -> None:
    shelf = shop.record(records["APL-1"])["num_in_stock"]
    stale, unknown = connector.set_stock([StockChange("APL-1", 1, expected=999), StockChange("NOPE", 1)])
    assert isinstance(stale.error, StaleStock)
    assert isinstance(unknown.error, UnknownSku)
    assert shop.record(records["APL-1"])["num_in_stock"] == shelf


def test_a_price_changed_in_the_engine_reaches_the_box_and_nothing_else_repeats(
    shop: OscarShop, records: dict[str, int], connector: OscarConnector
) -> None:
    _, cursor = connector.products_since(None)
    shop.admin("PATCH", f"/stockrecords/{records['OIL-1L']}/", {"price": "9.99"})
    changed, _ = connector.products_since(cursor)
    assert [(p.sku, p.price_cents) for p in changed] == [("OIL-1L", 999)]


def test_the_bridges_account_cannot_change_a_product(shop: OscarShop, records: dict[str, int]) -> None:
    """The least rights docs/shops.md names are enough for every test above, and no more."""
    reply = requests.patch(
        f"{shop.url}/api/admin/products/1/",
        json={"title": "Changed by the bridge"},
        auth=(shop.bridge_user, shop.bridge_password),
        timeout=30,
    )
    assert reply.status_code == 403


def test_a_web_order_is_read_once_with_its_skus_and_collecting_it_closes_it_in_oscar(
    shop: OscarShop, records: dict[str, int], connector: OscarConnector
) -> None:
    _, cursor = connector.orders_since(None)
    placed = shop.place_order(records["APL-1"], 3, email="luis@example.invalid")
    [order], cursor = connector.orders_since(cursor)
    assert (order.number, order.state, order.pickup, order.customer) == (
        placed["number"],
        OrderState.PAID,
        True,
        "luis@example.invalid",
    )
    assert [(line.sku, line.qty, line.unit_price_cents) for line in order.lines] == [("APL-1", 3, 249)]
    assert connector.orders_since(cursor)[0] == []

    done = connector.complete_order(order.order_id)
    assert (done.state, shop.order(order.order_id)["status"]) == (OrderState.COMPLETED, "Collected")
    assert connector.complete_order(order.order_id).state is OrderState.COMPLETED  # a retry is harmless
    [moved], cursor = connector.orders_since(cursor)
    assert (moved.order_id, moved.status) == (order.order_id, "Collected")
    assert connector.orders_since(cursor)[0] == []


def test_an_order_the_shop_cancelled_is_not_collected_and_the_error_names_its_status(
    shop: OscarShop, records: dict[str, int], connector: OscarConnector
) -> None:
    placed = shop.place_order(records["APL-1"], 1)
    pk = placed["url"].rstrip("/").rpartition("/")[2]
    staff = _connector(shop, shop.username, shop.password, collected_status="Cancelled")
    try:
        staff.complete_order(pk)  # the shop's staff cancel it in the dashboard
    finally:
        staff.close()
    with pytest.raises(RequestRejected, match="stayed 'Cancelled'"):
        connector.complete_order(pk)
    assert shop.order(pk)["status"] == "Cancelled"


def test_the_bridge_signs_in_once_and_again_only_when_the_shop_forgot_its_session(
    shop: OscarShop, records: dict[str, int]
) -> None:
    """Basic auth made Django hash the password on every call (a noticeable CPU cost to the shop); one
    session serves every call, and a session the shop no longer knows is signed in again once."""
    connector = _connector(shop, shop.bridge_user, shop.bridge_password)
    try:
        for _ in range(3):
            assert connector.get_stock(["APL-1"])["APL-1"].quantity is not None
        assert connector.calls == 1 + 3  # one sign-in, three reads
        connector.http.session.cookies.clear()  # the shop's sessions were flushed
        [result] = connector.set_stock([StockChange("APL-1", 7)])
        record = shop.record(records["APL-1"])
        assert result.ok and record["num_in_stock"] - record["num_allocated"] == 7
        assert connector.calls == 4 + 4  # the refused read, a sign-in, the read, the write
    finally:
        connector.close()
