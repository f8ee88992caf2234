"""Whatever a shop or a webhook sender sends, the connectors answer with values or typed `ShopError`s,
never with a crash: bodies from hypothesis, over real HTTP from a server that answers anything.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors import ConnectorOptions, StockChange, StockDelta
from cloud_bridge.connectors._values import Invalid
from cloud_bridge.connectors.base import ShopConnector
from cloud_bridge.connectors.magento import MagentoConnector
from cloud_bridge.connectors.oscar import OscarConnector
from cloud_bridge.connectors.prestashop import PrestaShopConnector
from cloud_bridge.connectors.prestashop_xml import parse as parse_xml
from cloud_bridge.connectors.shopify import (
    ShopifyConnector,
    local_quantities,
    parse_order,
    parse_rest_order,
    read_order,
)
from cloud_bridge.connectors.woocommerce import WooCommerceConnector
from cloud_bridge.connectors.woocommerce import parse_order as parse_woo_order
from cloud_bridge.connectors.woocommerce import read_order as read_woo_order
from cloud_bridge.errors import ShopError
from cloud_bridge.retry import NO_RETRY
from simulators.shops import ManualClock
from simulators.shops.webhooks import sign
from tests.shop_helpers import CannedShop, mutated

FIELDS = [
    "id",
    "sku",
    "status",
    "quantity",
    "stock_quantity",
    "manage_stock",
    "parent_id",
    "date_modified_gmt",
    "date_created_gmt",
    "total",
    "line_items",
    "update",
    "error",
    "code",
    "data",
    "products",
    "orders",
    "stock_availables",
    "reference",
    "id_product",
    "id_product_attribute",
    "current_state",
    "date_upd",
    "date_add",
    "total_paid",
    "associations",
    "order_rows",
    "productVariants",
    "nodes",
    "inventoryItem",
    "inventoryLevel",
    "quantities",
    "name",
    "tracked",
    "extensions",
    "cost",
    "throttleStatus",
    "errors",
    "userErrors",
    "field",
    "inventoryAdjustmentGroup",
    "changes",
    "item",
    "quantityAfterChange",
    "pageInfo",
    "hasNextPage",
    "endCursor",
    "updatedAt",
    "createdAt",
    "totalPriceSet",
    "shopMoney",
    "amount",
    "price",
    "variants",
    "admin_graphql_api_id",
    "updated_at",
    "created_at",
]
SKUS = ["OIL-1L", "MILK-1L", "BREAD"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**16), 10**16)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [*SKUS, "2024-05-01T12:00:00Z", "2024-05-01 12:00:00", "12.50", "available", "OPEN", "1"]
    )
    | st.text(max_size=8)
)
json_like: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=6),
    max_leaves=25,
)
xml_like = st.recursive(
    st.text(alphabet="abc12<>&;![]", max_size=6),
    lambda inner: st.builds(
        lambda tag, kids: f"<{tag}>{''.join(kids)}</{tag}>",
        st.sampled_from(["prestashop", "stock_available", "quantity", "errors", "error", "id", "x"]),
        st.lists(inner, max_size=3),
    ),
    max_leaves=12,
)

WOO_ORDER = {
    "id": 12,
    "number": "12",
    "status": "processing",
    "currency": "EUR",
    "total": "3.00",
    "date_created_gmt": "2024-05-01T12:00:00",
    "date_modified_gmt": "2024-05-01T12:00:00",
    "billing": {"first_name": "Ana", "last_name": "P"},
    "shipping_lines": [{"method_id": "local_pickup"}],
    "line_items": [
        {"id": 5, "sku": "OIL-1L", "name": "Oil", "quantity": 1, "total": "3.00", "total_tax": "0"}
    ],
}
WOO_PRODUCT = {
    "id": 101,
    "sku": "OIL-1L",
    "type": "simple",
    "parent_id": 0,
    "manage_stock": True,
    "stock_quantity": 5,
    "date_modified_gmt": "2024-05-01T12:00:00",
    "price": "1.00",
    "name": "Oil",
}
PRESTA = {
    "products": [
        {
            "id": 1,
            "reference": "OIL-1L",
            "price": "1.000000",
            "date_upd": "2024-05-01 12:00:00",
            "name": [{"id": "1", "value": "Oil"}],
        }
    ],
    "combinations": [{"id": 3, "id_product": "1", "reference": "MILK-1L"}],
    "stock_availables": [{"id": 2, "id_product": "1", "id_product_attribute": "0", "quantity": "5"}],
    "orders": [
        {
            "id": 12,
            "reference": "X",
            "current_state": "2",
            "valid": "1",
            "date_add": "2024-05-01 12:00:00",
            "date_upd": "2024-05-01 12:00:00",
            "total_paid": "3.000000",
            "id_carrier": "1",
            "associations": {
                "order_rows": [
                    {
                        "id": "4",
                        "product_quantity": "1",
                        "product_reference": "OIL-1L",
                        "unit_price_tax_incl": "3.000000",
                    }
                ]
            },
        }
    ],
}
SHOPIFY_ORDER = {
    "id": "gid://shopify/Order/12",
    "name": "#12",
    "createdAt": "2024-05-01T12:00:00Z",
    "updatedAt": "2024-05-01T12:00:00Z",
    "cancelledAt": None,
    "displayFinancialStatus": "PAID",
    "displayFulfillmentStatus": "UNFULFILLED",
    "currencyCode": "EUR",
    "totalPriceSet": {"shopMoney": {"amount": "3.00"}},
    "customer": {"displayName": "Ana"},
    "lineItems": {
        "nodes": [
            {
                "id": "gid://shopify/LineItem/1",
                "sku": "OIL-1L",
                "name": "Oil",
                "quantity": 1,
                "discountedUnitPriceSet": {"shopMoney": {"amount": "3.00"}},
            }
        ]
    },
    "fulfillmentOrders": {
        "nodes": [
            {
                "id": "gid://shopify/FulfillmentOrder/1",
                "status": "OPEN",
                "deliveryMethod": {"methodType": "PICK_UP"},
            }
        ]
    },
}
SHOPIFY_SPLIT = {  # a split order's fulfillment orders with their line items (`SPLIT_LINES`)
    "fulfillmentOrders": {
        "nodes": [
            {
                "id": f"gid://shopify/FulfillmentOrder/{n}",
                "status": "OPEN",
                "assignedLocation": {"location": {"id": f"gid://shopify/Location/{n}"}},
                "lineItems": {
                    "nodes": [
                        {
                            "lineItem": {"id": f"gid://shopify/LineItem/{n}", "sku": "OIL-1L"},
                            "totalQuantity": 2,
                            "remainingQuantity": 1,
                        }
                    ]
                },
            }
            for n in (1, 2)
        ]
    }
}
SHOPIFY = {
    "data": {
        "productVariants": {
            "nodes": [
                {
                    "id": "gid://shopify/ProductVariant/1",
                    "sku": "OIL-1L",
                    "price": "1.00",
                    "updatedAt": "2024-05-01T12:00:00Z",
                    "product": {"title": "Oil"},
                    "inventoryItem": {
                        "id": "gid://shopify/InventoryItem/1",
                        "tracked": True,
                        "inventoryLevel": {
                            "updatedAt": "2024-05-01T12:00:00Z",
                            "quantities": [{"name": "available", "quantity": 5}],
                        },
                    },
                }
            ],
            "pageInfo": {"hasNextPage": False, "endCursor": "x"},
        },
        "inventoryAdjustQuantities": {
            "inventoryAdjustmentGroup": {
                "changes": [
                    {
                        "name": "available",
                        "delta": -1,
                        "quantityAfterChange": 4,
                        "item": {"id": "gid://shopify/InventoryItem/1"},
                    }
                ]
            },
            "userErrors": [
                {
                    "code": "CHANGE_FROM_QUANTITY_STALE",
                    "field": ["input", "changes", "0", "delta"],
                    "message": "stale",
                }
            ],
        },
        "orders": {"nodes": [SHOPIFY_ORDER], "pageInfo": {"hasNextPage": False, "endCursor": None}},
        "order": {**SHOPIFY_ORDER},
    },
    "extensions": {
        "cost": {
            "requestedQueryCost": 10,
            "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": 900, "restoreRate": 50},
        }
    },
}
OSCAR_PRODUCT = {
    "id": 1,
    "title": "Apples",
    "upc": "4006381333931",
    "date_updated": "2026-12-06T21:42:42.229607Z",
    "stockrecords": [
        {
            "url": "http://127.0.0.1/api/admin/stockrecords/1/",
            "partner": "http://127.0.0.1/api/admin/partners/1/",
            "partner_sku": "OIL-1L",
            "price": "2.49",
            "num_in_stock": 20,
            "num_allocated": None,
            "date_updated": "2026-12-06T21:42:42.243740Z",
        }
    ],
}
TEMPLATES: list[Any] = [
    [WOO_PRODUCT],
    {"update": [WOO_PRODUCT]},
    WOO_ORDER,
    [WOO_ORDER],
    PRESTA,
    SHOPIFY,
    [OSCAR_PRODUCT],
]


def broken(template: Any) -> st.SearchStrategy[Any]:
    """A realistic answer with some leaves replaced by junk and some keys dropped."""
    return mutated(template, json_like, junk_one_in=12, drop_one_in=15)


answers = st.sampled_from(TEMPLATES).flatmap(broken)


def _typed_only(call: Callable[[], Any]) -> None:
    with contextlib.suppress(ShopError):
        call()


@pytest.fixture(scope="module")
def canned() -> Iterator[CannedShop]:
    server = CannedShop()
    yield server
    server.close()


def _connectors(url: str) -> list[ShopConnector]:
    options = ConnectorOptions(timeout=2, retry=NO_RETRY, clock=ManualClock())
    return [
        WooCommerceConnector("w", url, "ck", "cs", webhook_secrets=("s",), options=options),
        PrestaShopConnector("p", url, "K" * 32, options=options),
        ShopifyConnector("s", url, "t", "1", webhook_secrets=("s",), options=options),
        OscarConnector("o", url, "u", "pw", options=options),
        MagentoConnector("m", url, "t", options=options),
    ]


OPERATIONS: list[Callable[[ShopConnector], Any]] = [
    lambda c: c.get_stock(SKUS),
    lambda c: c.set_stock([StockChange(s, 3, expected=2) for s in SKUS]),
    lambda c: c.adjust_stock([StockDelta("OIL-1L", -1)], "k") if c.supports_deltas else None,
    lambda c: c.orders_since(None),
    lambda c: c.products_since(None),
    lambda c: c.get_order("12"),
    lambda c: c.complete_order("12"),
]


@given(
    st.one_of(json_like.map(lambda v: json.dumps(v).encode()), st.binary(max_size=60)),
    st.sampled_from(OPERATIONS),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_json_answers_never_crash_a_connector(canned: CannedShop, body: bytes, operation: Any) -> None:
    canned.status, canned.content_type, canned.body = 200, "application/json", body
    for connector in _connectors(canned.url):
        _typed_only(functools.partial(operation, connector))


@given(xml_like.map(str.encode), st.sampled_from([200, 400, 401, 404, 500]))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_xml_answers_never_crash_the_prestashop_connector(
    canned: CannedShop, body: bytes, status: int
) -> None:
    canned.status, canned.content_type, canned.body = status, "text/xml", body
    connector = _connectors(canned.url)[1]
    _typed_only(lambda: connector.set_stock([StockChange("OIL-1L", 1)]))
    _typed_only(lambda: connector.complete_order("3"))


@given(
    json_like | st.sampled_from([WOO_ORDER, WOO_PRODUCT]).flatmap(broken),
    st.sampled_from(["order.created", "order.updated", "product.updated", "action.x", ""]),
)
@settings(max_examples=150)
def test_signed_woocommerce_webhooks_with_any_body_are_typed(payload: Any, topic: str) -> None:
    connector = _connectors("http://127.0.0.1:9")[0]
    body = json.dumps(payload).encode()
    headers = {"X-WC-Webhook-Signature": sign(body, "s"), "X-WC-Webhook-Topic": topic}
    _typed_only(lambda: connector.verify_webhook(headers, body))


@given(json_like, st.sampled_from(["orders/create", "orders/updated", "products/update", "app/uninstalled"]))
@settings(max_examples=150)
def test_signed_shopify_webhooks_with_any_body_are_typed(payload: Any, topic: str) -> None:
    connector = _connectors("http://127.0.0.1:9")[2]
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Hmac-Sha256": sign(body, "s"), "X-Shopify-Topic": topic}
    _typed_only(lambda: connector.verify_webhook(headers, body))


@given(st.dictionaries(st.text(max_size=30), st.text(max_size=60), max_size=4), st.binary(max_size=80))
@settings(max_examples=150)
def test_unsigned_or_garbled_webhooks_are_rejected_or_pinged(headers: dict[str, str], body: bytes) -> None:
    for connector in _connectors("http://127.0.0.1:9"):
        _typed_only(functools.partial(connector.verify_webhook, headers, body))


@given(st.one_of(json_like, st.sampled_from([WOO_ORDER, SHOPIFY_ORDER]).flatmap(broken)))
@settings(max_examples=300, deadline=None)  # a loaded machine, not the parser, sets how long one takes
def test_order_parsers_raise_only_invalid(payload: Any) -> None:
    for parse in (parse_woo_order, parse_order, parse_rest_order):
        with contextlib.suppress(Invalid):
            parse(payload)


@given(st.one_of(json_like, broken(SHOPIFY_SPLIT)))
@settings(max_examples=200, deadline=None)
def test_the_split_order_reader_raises_only_invalid(payload: Any) -> None:
    with contextlib.suppress(Invalid):
        found = local_quantities(payload, "gid://shopify/Location/1")
        assert all(isinstance(k, str) and len(v) == 2 for k, v in found.items())


@given(st.binary(max_size=200) | xml_like.map(str.encode))
@settings(max_examples=200)
def test_the_xml_reader_raises_only_invalid(body: bytes) -> None:
    with contextlib.suppress(Invalid):
        parse_xml(body, "answer")


@given(
    st.sampled_from([[OSCAR_PRODUCT], [OSCAR_PRODUCT, OSCAR_PRODUCT]]).flatmap(broken),
    st.sampled_from(OPERATIONS),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_garbled_oscar_product_list_is_a_typed_error_or_values(
    canned: CannedShop, answer: Any, operation: Any
) -> None:
    canned.status, canned.content_type, canned.body = 200, "application/json", json.dumps(answer).encode()
    options = ConnectorOptions(timeout=2, retry=NO_RETRY, clock=ManualClock())
    _typed_only(functools.partial(operation, OscarConnector("o", canned.url, "u", "pw", options=options)))


@given(st.one_of(json_like, st.sampled_from([WOO_ORDER, SHOPIFY_ORDER]).flatmap(broken)))
@settings(max_examples=300)
def test_an_order_that_does_not_read_comes_back_with_its_problem(payload: Any) -> None:
    """The orders feed never stops at one order: reading one never raises."""
    for read, parse in ((read_woo_order, parse_woo_order), (read_order, parse_order)):
        order = read(payload)
        try:
            full = parse(payload)
        except Invalid as exc:
            assert order.problem == str(exc)
            assert order.stock_known or not order.lines
        else:
            assert order == full and order.problem is None
