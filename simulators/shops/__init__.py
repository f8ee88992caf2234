"""Simulated online shops (WooCommerce, PrestaShop, Shopify, Magento) that follow each API's documented
behaviour and quirks, with fault injection, a response delay, API call counts and online orders placed from
any thread. Product code: the tests and `tillbridge demo` use them. Each module's docstring says what it
does not model.
"""

from simulators.shops.clock import ManualClock, SystemClock
from simulators.shops.magento import MagentoSimulator
from simulators.shops.prestashop import PrestaShopSimulator
from simulators.shops.seed import Item, OutOfStock, SeedProduct
from simulators.shops.server import Fault, Request, Response, ShopSimulator
from simulators.shops.shopify import ShopifySimulator
from simulators.shops.woocommerce import WooCommerceSimulator

__all__ = [
    "Fault",
    "Item",
    "MagentoSimulator",
    "ManualClock",
    "OutOfStock",
    "PrestaShopSimulator",
    "Request",
    "Response",
    "SeedProduct",
    "ShopSimulator",
    "ShopifySimulator",
    "SystemClock",
    "WooCommerceSimulator",
]
