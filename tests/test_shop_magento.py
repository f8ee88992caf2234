"""The Magento 2 connector against the Magento simulator over real HTTP: MSI source items and salable
quantity (reservations), batched all-or-nothing source-item writes, searchCriteria paging that repeats
its last page, orders with their pickup completion and status history, Magento's error bodies, and
hypothesis on everything the connector parses.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors import ConnectorOptions, OrderState, StockChange, make_connector
from cloud_bridge.connectors._values import Invalid
from cloud_bridge.connectors.magento import MagentoConnector, describe_magento, parse_order, read_order
from cloud_bridge.db import Database
from cloud_bridge.errors import RequestRejected, ShopAuthError, ShopError, StaleStock, UnknownSku
from cloud_bridge.journal import apply_batch
from cloud_bridge.retry import NO_RETRY, RetryPolicy
from simulators.shops import Fault, MagentoSimulator
from simulators.shops.seed import Item
from tests.bridge_helpers import (
    Clock,
    RecordingPublisher,
    batch,
    database,
    driver,
    postgres,
    sale,
    seed,
    shop_config,
)
from tests.shop_helpers import mutated
from wire import Order

__all__ = ["database", "postgres"]  # fixtures

SHIRT_M = "8410000000139"
SEED = [
    Item("OIL-1L", "Olive oil 1 L", 1095, 10, ("8410010210016",)),
    Item("BREAD", "Bread", 150, 30),
    Item("TS-M", "T-shirt M", 1600, 4, (SHIRT_M,)),
]


@pytest.fixture
def magento() -> Iterator[MagentoSimulator]:
    with MagentoSimulator(SEED) as sim:
        sim.add_product(Item("TS", "T-shirt", 1600, 0), type_id="configurable")
        yield sim


def connect(sim: MagentoSimulator, **settings: Any) -> MagentoConnector:
    options = ConnectorOptions(timeout=5, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    made = make_connector(
        "mage", "magento", {"base_url": sim.url, "access_token": sim.access_token, **settings}, options
    )
    assert isinstance(made, MagentoConnector)
    return made


@pytest.fixture
def connector(magento: MagentoSimulator) -> Iterator[MagentoConnector]:
    made = connect(magento)
    yield made
    made.close()


def test_the_box_gets_sellable_products_with_their_barcodes_and_prices_and_no_configurable_parent(
    magento: MagentoSimulator, connector: MagentoConnector
) -> None:
    products, cursor = connector.products_since(None)
    assert {p.sku: (p.name, p.price_cents, p.barcodes) for p in products} == {
        "OIL-1L": ("Olive oil 1 L", 1095, ("8410010210016",)),
        "BREAD": ("Bread", 150, ()),
        "TS-M": ("T-shirt M", 1600, (SHIRT_M,)),
    }
    assert connector.products_since(cursor)[0] == []
    magento.set_price("BREAD", 175)
    assert [(p.sku, p.price_cents) for p in connector.products_since(cursor)[0]] == [("BREAD", 175)]


def test_a_catalog_larger_than_a_page_is_read_once_although_magento_repeats_its_last_page(
    magento: MagentoSimulator,
) -> None:
    for n in range(247):
        magento.add_product(Item(f"X-{n:03d}", f"Item {n}", 100 + n, 1))
    connector = connect(magento)
    products, _ = connector.products_since(None)
    skus = [p.sku for p in products]
    assert len(skus) == len(set(skus)) == 250
    assert magento.calls["GET /products"] == 3  # 100 + 100 + 50, stopped by total_count


def test_buyers_see_the_salable_quantity_and_a_write_keeps_the_units_reserved_for_orders(
    magento: MagentoSimulator, connector: MagentoConnector
) -> None:
    magento.place_order("OIL-1L", 3)
    assert connector.get_stock(["OIL-1L"])["OIL-1L"].quantity == 7
    [result] = connector.set_stock([StockChange("OIL-1L", 5, expected=7)])
    assert result.ok and result.quantity == 5
    assert (magento.stock("OIL-1L"), magento.salable("OIL-1L")) == (8, 5)


def test_writes_go_in_batches_and_unknown_or_stale_skus_are_refused_without_being_sent(
    magento: MagentoSimulator, connector: MagentoConnector
) -> None:
    for n in range(150):
        magento.add_product(Item(f"X-{n:03d}", f"Item {n}", 100, 1))
    changes = [StockChange(f"X-{n:03d}", 2) for n in range(150)]
    changes += [StockChange("NOPE", 1), StockChange("BREAD", 1, expected=99), StockChange("TS", 1)]
    results = connector.set_stock(changes)
    assert all(r.ok for r in results[:150]) and magento.stock("X-149") == 2
    assert magento.calls["POST /inventory/source-items"] == 2
    unknown, stale, parent = results[150:]
    assert isinstance(unknown.error, UnknownSku) and isinstance(parent.error, UnknownSku)
    assert isinstance(stale.error, StaleStock) and magento.stock("BREAD") == 30


def test_a_refused_batch_fails_every_item_in_it_with_magentos_message_filled_in(
    magento: MagentoSimulator, connector: MagentoConnector
) -> None:
    body = {
        "message": "Validation Failed",
        "errors": [{"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}}],
    }
    magento.inject(Fault(400, match="POST /inventory/source-items", body=json.dumps(body).encode()))
    results = connector.set_stock([StockChange("OIL-1L", 4), StockChange("BREAD", 4)])
    assert [type(r.error) for r in results] == [RequestRejected, RequestRejected]
    assert 'Validation Failed; "quantity" should be numeric.' in str(results[0].error)
    assert magento.stock("OIL-1L") == 10 and magento.stock("BREAD") == 30


def test_a_wrong_token_is_an_auth_error_naming_the_resource_magento_refused(
    magento: MagentoSimulator,
) -> None:
    options = ConnectorOptions(timeout=5, retry=NO_RETRY)
    wrong = MagentoConnector("mage", magento.url, "not-the-token", options=options)
    with pytest.raises(ShopAuthError, match="Magento_InventoryApi::source"):
        wrong.get_stock(["OIL-1L"])


def test_a_pickup_order_reads_once_and_collecting_it_ships_it_and_notes_it_in_its_history(
    magento: MagentoSimulator, connector: MagentoConnector
) -> None:
    _, cursor = connector.orders_since(None)
    order_id = magento.place_order("TS-M", 2, customer="Luis Gómez", configurable="TS")
    [order], cursor = connector.orders_since(cursor)
    assert (order.order_id, order.state, order.pickup, order.customer, order.total_cents) == (
        str(order_id),
        OrderState.PAID,
        True,
        "Luis Gómez",
        3200,
    )
    assert [(line.sku, line.qty, line.unit_price_cents) for line in order.lines] == [("TS-M", 2, 1600)]
    assert order.holds_stock and connector.orders_since(cursor)[0] == []

    done = connector.complete_order(order.order_id)
    assert done.state is OrderState.COMPLETED and magento.order_state(order_id) == ("complete", "complete")
    assert (magento.stock("TS-M"), magento.salable("TS-M")) == (2, 2)  # shipped: off the shelf, unreserved
    assert [h["comment"] for h in magento.orders[order_id].history] == [
        "Collected at the shop's till (tillbridge)."
    ]
    assert connector.complete_order(order.order_id).state is OrderState.COMPLETED  # a retry is harmless
    assert len(magento.orders[order_id].history) == 1


def test_a_cancelled_order_cannot_be_collected_and_the_error_says_why(
    magento: MagentoSimulator, connector: MagentoConnector
) -> None:
    order_id = magento.place_order("OIL-1L", 1)
    magento.cancel_order(order_id)
    with pytest.raises(RequestRejected, match="does not allow a shipment"):
        connector.complete_order(str(order_id))
    assert connector.get_order(str(order_id)).state is OrderState.CANCELLED
    assert magento.salable("OIL-1L") == 10


def test_an_unknown_order_is_refused_with_magentos_message(connector: MagentoConnector) -> None:
    with pytest.raises(RequestRejected, match="entity that was requested doesn't exist"):
        connector.get_order("404")


MAGENTO_ORDER = {
    "entity_id": 7,
    "increment_id": "000000007",
    "state": "processing",
    "status": "processing",
    "created_at": "2026-05-01 12:00:00",
    "updated_at": "2026-05-01 12:00:00",
    "grand_total": 21.9,
    "order_currency_code": "EUR",
    "customer_firstname": "Ana",
    "customer_lastname": "P",
    "items": [
        {"item_id": 70, "sku": "OIL-1L", "name": "Oil", "qty_ordered": 2.0, "price_incl_tax": 10.95},
        {"item_id": 71, "parent_item_id": 70, "sku": "OIL-1L", "qty_ordered": 2.0, "price_incl_tax": 0},
    ],
    "extension_attributes": {"shipping_assignments": [{"shipping": {"method": "instore_pickup"}}]},
}
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def test_the_sample_order_reads_as_one_pickup_line() -> None:
    order = parse_order(MAGENTO_ORDER)
    assert [(line.sku, line.qty, line.unit_price_cents) for line in order.lines] == [("OIL-1L", 2, 1095)]
    assert order.pickup and order.number == "000000007" and order.total_cents == 2190


@given(mutated(MAGENTO_ORDER, junk) | junk)
@settings(max_examples=300, deadline=None)
def test_any_order_reads_or_comes_back_with_its_problem(raw: Any) -> None:
    order = read_order(raw)
    try:
        full = parse_order(raw)
    except Invalid as exc:
        assert order.problem == str(exc)
    else:
        assert order == full and order.problem is None


@given(st.binary(max_size=120) | junk.map(lambda v: json.dumps(v).encode()))
@settings(max_examples=200, deadline=None)
def test_any_error_body_is_described_without_a_crash(body: bytes) -> None:
    code, message = describe_magento(body)
    assert isinstance(code, str) and isinstance(message, str)


def test_magentos_placeholders_are_filled_from_a_list_or_by_name() -> None:
    by_position = json.dumps({"message": "The %1 product is %2.", "parameters": ["OIL-1L", "gone"]})
    assert describe_magento(by_position.encode()) == ("", "The OIL-1L product is gone.")
    named = json.dumps({"message": "Access to %resources", "parameters": {"resources": "X::y"}})
    assert describe_magento(named.encode()) == ("", "Access to X::y")


@given(mutated({"items": [{"sku": "OIL-1L", "quantity": 3.0}], "total_count": 1}, junk))
@settings(max_examples=60, deadline=None)
def test_a_garbled_source_item_search_is_a_typed_error_or_a_value(answer: Any) -> None:
    with MagentoSimulator([]) as sim:
        sim.inject(Fault(200, match="GET /inventory/source-items", body=json.dumps(answer).encode()))
        connector = MagentoConnector(
            "mage", sim.url, sim.access_token, options=ConnectorOptions(retry=NO_RETRY)
        )
        with contextlib.suppress(ShopError):  # anything else escaping fails the test
            connector.get_stock(["OIL-1L"])


def test_the_bridge_writes_till_sales_to_magento_in_one_batch_and_leaves_online_reservations_alone(
    database: Database,
) -> None:
    sim = MagentoSimulator(seed(4, 20)).start()
    try:
        publisher, clock = RecordingPublisher(), Clock()
        bridge = driver(database, shop_config("shop", sim, ["till-1"]), publisher, clock)
        bridge.run_pass(force=True)
        order_id = str(sim.place_order("SKU-001", 2))
        sold, payload = batch(*(sale(seq, f"SKU-00{seq % 2}") for seq in range(1, 11)))
        apply_batch(database, "shop", "till-1", sold, payload, time.time())
        for _ in range(2):
            clock.advance(1.0)
            assert bridge.run_pass(force=True)
        assert (sim.stock("SKU-000"), sim.salable("SKU-000")) == (15, 15)
        assert (sim.stock("SKU-001"), sim.salable("SKU-001")) == (15, 13)  # 5 sold at the till, 2 held online
        assert sim.calls["POST /inventory/source-items"] == 1
        [order] = publisher.orders("till-1")
        assert isinstance(order, Order) and (order.order_id, order.kind) == (order_id, "pickup")
    finally:
        sim.stop()
