"""Shop connectors: one interface (`ShopConnector`), one implementation per platform, chosen by name.

Implementations are imported only when chosen, like python-can's interface registry, so a bridge that
serves only Shopify shops never imports the PrestaShop XML code.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Final

from cloud_bridge.connectors.base import (
    BatchLimits,
    ItemResult,
    OrderLine,
    OrderState,
    ShopConnector,
    ShopOrder,
    ShopProduct,
    StockChange,
    StockDelta,
    StockLevel,
    WebhookEvent,
)
from cloud_bridge.connectors.common import ConnectorOptions
from cloud_bridge.connectors.cursor import cursor_at
from cloud_bridge.connectors.shift import shift_stock
from cloud_bridge.errors import ShopConfigError

# platform -> (module, class, required settings, optional settings with their types)
PLATFORMS: Final[dict[str, tuple[str, str, tuple[str, ...], dict[str, type]]]] = {
    "woocommerce": (
        "cloud_bridge.connectors.woocommerce",
        "WooCommerceConnector",
        ("base_url", "consumer_key", "consumer_secret"),
        {"webhook_secrets": list, "barcode_meta": list, "unit_meta": str, "timezone": str},
    ),
    "prestashop": (
        "cloud_bridge.connectors.prestashop",
        "PrestaShopConnector",
        ("base_url", "key"),
        {
            "shop_id": int,
            "timezone": str,
            "currency": str,
            "pickup_carriers": list,
            "completed_state": int,
            "accepted_state": int,
            "ready_state": int,
            "use_patch": bool,
            "unit_field": str,
            "phone_module": str,
            "phone_state": int,
            "phone_carrier": int,
            "phone_delivery_carrier": int,
            "country_id": int,
            "currency_id": int,
            "lang_id": int,
            "city": str,
        },
    ),
    "shopify": (
        "cloud_bridge.connectors.shopify",
        "ShopifyConnector",
        ("base_url", "access_token", "location_id"),
        {"api_version": str, "webhook_secrets": list, "reason": str, "unit_metafield": str},
    ),
    "magento": (
        "cloud_bridge.connectors.magento",
        "MagentoConnector",
        ("base_url", "access_token"),
        {"source_code": str, "stock_id": int, "barcode_attributes": list, "pickup_methods": list},
    ),
    "oscar": (
        "cloud_bridge.connectors.oscar",
        "OscarConnector",
        ("base_url", "username", "password"),
        {"partner": str, "pickup_methods": list, "collected_status": str},
    ),
}


def make_connector(
    shop: str,
    platform: str,
    settings: Mapping[str, Any],
    options: ConnectorOptions = ConnectorOptions(),  # noqa: B008 - frozen
) -> ShopConnector:
    """A connector for `shop` from its config table; a `ShopConfigError` names the offending key."""
    if platform not in PLATFORMS:
        raise ShopConfigError(f"shops.{shop}.platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    module, cls, required, optional = PLATFORMS[platform]
    for key in required:
        if not isinstance(settings.get(key), str) or not settings[key]:
            raise ShopConfigError(f"shops.{shop}.{key}: required for {platform}, as a non-empty string")
    for key, value in settings.items():
        if key in required:
            continue
        if key not in optional:
            raise ShopConfigError(f"shops.{shop}.{key}: not a {platform} setting")
        if not isinstance(value, optional[key]) or (optional[key] is int and isinstance(value, bool)):
            raise ShopConfigError(f"shops.{shop}.{key}: expected {optional[key].__name__}")
        if key == "webhook_secrets" and isinstance(value, list):
            _check_secrets(shop, value)
    factory = getattr(importlib.import_module(module), cls)
    positional = [settings[key] for key in required]
    extra = {k: _tuple(v) for k, v in settings.items() if k not in required}
    connector: ShopConnector = factory(shop, *positional, options=options, **extra)
    return connector


def _check_secrets(shop: str, secrets: list[Any]) -> None:
    """Webhook secrets must be real keys: with an empty one, anybody could sign a webhook."""
    for index, secret in enumerate(secrets):
        if not isinstance(secret, str) or not secret.strip():
            raise ShopConfigError(
                f"shops.{shop}.webhook_secrets[{index}]: a webhook secret must not be empty "
                "(anyone could sign with an empty key); set the secret the shop signs with"
            )


def _tuple(value: Any) -> Any:
    return tuple(str(v) if not isinstance(v, int) else v for v in value) if isinstance(value, list) else value


__all__ = [
    "PLATFORMS",
    "BatchLimits",
    "ConnectorOptions",
    "ItemResult",
    "OrderLine",
    "OrderState",
    "ShopConnector",
    "ShopOrder",
    "ShopProduct",
    "StockChange",
    "StockDelta",
    "StockLevel",
    "WebhookEvent",
    "cursor_at",
    "make_connector",
    "shift_stock",
]
