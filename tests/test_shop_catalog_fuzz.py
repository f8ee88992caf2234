"""Whatever a shop sends as a product, variation, combination or variant, the catalog readers give items (a
value they cannot read goes into that item's `problem`) or say the page is malformed: never a crash.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors._values import Invalid
from cloud_bridge.connectors.base import ShopProduct
from cloud_bridge.connectors.catalog_fields import CatalogFields
from cloud_bridge.connectors.prestashop import PrestaShopConnector
from cloud_bridge.connectors.shopify import _catalog_entry
from cloud_bridge.connectors.woocommerce import _product

KEYS = [
    "id",
    "sku",
    "name",
    "price",
    "regular_price",
    "date_modified_gmt",
    "global_unique_id",
    "meta_data",
    "attributes",
    "key",
    "value",
    "option",
    "options",
    "reference",
    "date_upd",
    "ean13",
    "upc",
    "isbn",
    "unity",
    "barcode",
    "title",
    "updatedAt",
    "product",
    "unit",
]
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
VALUES = st.recursive(
    SCALARS | st.sampled_from(["2024-05-01T10:00:00", "12.50", "8410000000016", "kg", "lb", "_unit", "_ean"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=15,
)
OBJECTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=12)
WOO_FIELDS = CatalogFields(("_ean", "_barcode"), "_unit")


def readable(read: Any) -> None:
    try:
        found = read()
    except Invalid:
        return  # the connector reports the page as malformed, naming the field
    for product in found if isinstance(found, list) else [found]:
        assert isinstance(product, ShopProduct)
        assert product.problem or all(isinstance(code, str) and code for code in product.barcodes)


@settings(max_examples=150, deadline=None)
@given(obj=OBJECTS)
def test_woocommerce_products_and_variations(obj: dict[str, Any]) -> None:
    readable(lambda: _product(obj, WOO_FIELDS, "Parent"))


@settings(max_examples=150, deadline=None)
@given(node=OBJECTS)
def test_shopify_variants(node: dict[str, Any]) -> None:
    readable(lambda: _catalog_entry(node))


@settings(max_examples=150, deadline=None)
@given(row=OBJECTS, combinations=st.lists(OBJECTS, max_size=3))
def test_prestashop_products_and_combinations(
    row: dict[str, Any], combinations: list[dict[str, Any]]
) -> None:
    shop = PrestaShopConnector("fuzz", "http://127.0.0.1:9", "key", unit_field="unity")
    try:
        readable(lambda: shop._catalog_entries(row, combinations))
    finally:
        shop.close()
