"""Money, times and polling cursors: the small parsers every connector relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cloud_bridge.connectors import ConnectorOptions, cursor_at, make_connector
from cloud_bridge.connectors._values import Invalid, as_int, as_time, cents
from cloud_bridge.connectors.base import ShopConnector
from cloud_bridge.connectors.cursor import OVERLAP, PollWindow
from cloud_bridge.connectors.prestashop import PrestaShopConnector
from cloud_bridge.connectors.shopify import ShopifyConnector
from cloud_bridge.connectors.woocommerce import WooCommerceConnector
from cloud_bridge.errors import BadCursor, ShopConfigError

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("21.99", 2199), ("21.990000", 2199), ("0.005", 1), ("-3.5", -350), (7, 700), ("", 0), ("1e2", 10000)],
)
def test_amounts_become_exact_cents(text: str | int, expected: int) -> None:
    assert cents(text, "price") == expected


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "1e30", None, True, [1]])
def test_bad_amounts_are_invalid(bad: object) -> None:
    with pytest.raises(Invalid, match="price"):
        cents(bad, "price")


def test_integers_come_as_numbers_or_quoted_digits() -> None:
    assert as_int("12", "q") == 12 and as_int(-3, "q") == -3 and as_int(4.0, "q") == 4
    for bad in ("--5", "1.5", "", "١٢", True, 10**20):
        with pytest.raises(Invalid):
            as_int(bad, "q")


def test_times_from_each_platform_end_up_in_utc() -> None:
    madrid = timezone(timedelta(hours=2))
    assert as_time("2024-05-01T12:00:00", "t") == T0  # WooCommerce *_gmt fields carry no zone
    assert as_time("2024-05-01T12:00:00Z", "t") == T0  # Shopify
    assert as_time("2024-05-01 14:00:00", "t", madrid) == T0  # PrestaShop, in the shop's zone
    with pytest.raises(Invalid):
        as_time("yesterday", "t")


def test_a_cursor_skips_what_was_returned_and_catches_late_arrivals() -> None:
    window = PollWindow.decode(None)
    cursor = window.advance([("1", T0, "paid"), ("2", T0 + timedelta(seconds=3), "paid")])
    again = PollWindow.decode(cursor)
    assert again.query_from() == T0 + timedelta(seconds=3) - OVERLAP
    assert not again.is_new("2", T0 + timedelta(seconds=3), "paid")
    assert again.is_new("2", T0 + timedelta(seconds=3), "cancelled")  # changed within the same second
    assert again.is_new("3", T0 + timedelta(seconds=1), "paid")  # committed late, still inside the window


def test_a_cursor_forgets_what_left_the_window() -> None:
    window = PollWindow.decode(None)
    window.advance([("1", T0, "")])
    cursor = window.advance([("2", T0 + timedelta(minutes=5), "")])
    assert set(PollWindow.decode(cursor).seen) == {"2"}


@pytest.mark.parametrize(
    "bad", ["", "{}", "[1]", '{"since": "x", "seen": {}}', '{"since": null, "seen": {"1": "x"}}']
)
def test_a_damaged_cursor_is_refused(bad: str) -> None:
    with pytest.raises(BadCursor):
        PollWindow.decode(bad)


def test_a_cursor_can_start_at_a_moment() -> None:
    assert PollWindow.decode(cursor_at(T0)).query_from() == T0
    with pytest.raises(BadCursor):
        cursor_at(datetime(2024, 1, 1))


def test_connectors_are_made_from_config_tables_that_name_bad_keys() -> None:
    options = ConnectorOptions()
    woo = make_connector(
        "w1", "woocommerce", {"base_url": "https://w", "consumer_key": "ck", "consumer_secret": "cs"}
    )
    assert woo.platform == "woocommerce" and not woo.supports_deltas
    shop = make_connector(
        "s1", "shopify", {"base_url": "https://s", "access_token": "t", "location_id": "7"}, options
    )
    assert shop.supports_deltas and shop.supports_cas
    presta = make_connector(
        "p1", "prestashop", {"base_url": "https://p", "key": "K" * 32, "pickup_carriers": [3]}
    )
    assert not presta.supports_webhooks
    with pytest.raises(ShopConfigError, match=r"shops\.w2\.consumer_secret"):
        make_connector("w2", "woocommerce", {"base_url": "https://w", "consumer_key": "ck"})
    with pytest.raises(ShopConfigError, match=r"shops\.p2\.shop_id: expected int"):
        make_connector("p2", "prestashop", {"base_url": "https://p", "key": "k", "shop_id": "1"})
    with pytest.raises(ShopConfigError, match=r"shops\.p3\.colour"):
        make_connector("p3", "prestashop", {"base_url": "https://p", "key": "k", "colour": "red"})
    with pytest.raises(ShopConfigError, match="shopware"):
        make_connector("m", "shopware", {})
    with pytest.raises(ShopConfigError, match="timezone"):
        make_connector("p4", "prestashop", {"base_url": "https://p", "key": "k", "timezone": "Mars/Olympus"})


def test_every_connector_fits_the_one_interface() -> None:
    connectors: list[ShopConnector] = [  # mypy checks the structural fit, isinstance the members
        WooCommerceConnector("w", "https://w", "ck", "cs"),
        PrestaShopConnector("p", "https://p/api", "K" * 32),
        ShopifyConnector("s", "https://s", "t", "gid://shopify/Location/9"),
    ]
    assert all(isinstance(c, ShopConnector) for c in connectors)
    assert [c.platform for c in connectors] == ["woocommerce", "prestashop", "shopify"]
    assert connectors[1].http.base_url == "https://p/api"  # type: ignore[attr-defined]
    with pytest.raises(ShopConfigError, match="location_id"):
        ShopifyConnector("s", "https://s", "t", "gid://shopify/Location/nine")
