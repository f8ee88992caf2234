"""The cloud bridge's exception tree.

Shop errors are split by what the bridge should do next: a `TransientShopError` is retried with backoff
(5xx, timeouts, a dropped connection, 429 with Retry-After), a `PermanentShopError` is parked where the fleet
view shows it (bad credentials, an unknown sku, a request the shop refuses) because retrying cannot help.
Every message names the shop and what went wrong, never a secret.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error the cloud bridge raises on purpose."""


class ShopConfigError(BridgeError, ValueError):
    """A connector was given settings it cannot use; the message names the key."""


class BadCursor(BridgeError, ValueError):
    """A polling cursor that this code did not write (or that was damaged in storage)."""


class ShopError(BridgeError):
    """Something went wrong talking to one shop; `shop` is the shop's id in the bridge config."""

    def __init__(self, shop: str, problem: str) -> None:
        super().__init__(f"shop {shop!r}: {problem}")
        self.shop = shop
        self.problem = problem


class TransientShopError(ShopError):
    """Retrying later may succeed. `retry_after` is the wait the shop asked for, in seconds, if it said."""

    def __init__(self, shop: str, problem: str, retry_after: float | None = None) -> None:
        super().__init__(shop, problem)
        self.retry_after = retry_after


class RateLimited(TransientShopError):
    """The shop asked us to slow down (HTTP 429, Shopify's THROTTLED); wait `retry_after` seconds."""

    retry_after: float

    def __init__(self, shop: str, problem: str, retry_after: float) -> None:
        super().__init__(shop, problem, retry_after)


class ShopTimeout(TransientShopError, TimeoutError):
    """The shop did not answer in time; the request may or may not have been applied."""


class ShopUnreachable(TransientShopError, ConnectionError):
    """No connection to the shop, or it broke before a full answer (DNS, refused, reset)."""


class MalformedResponse(TransientShopError, ValueError):
    """The shop answered with something that is not what its API documents (a proxy's error page, cut-off
    JSON, XML with a DTD). Transient because such answers usually come from a struggling server or proxy;
    the retry budget still bounds how often it is tried.
    """


class NotApplied(TransientShopError):
    """This item was not written because another item of the same all-or-nothing request failed."""


class StaleStock(TransientShopError):
    """The shop's quantity was not the `expected` one (compare-and-swap refused); `current` is what the shop
    has now, when it said. Recompute from the fresh value and write again.
    """

    def __init__(self, shop: str, problem: str, current: int | None) -> None:
        super().__init__(shop, problem)
        self.current = current


class PermanentShopError(ShopError):
    """Retrying the same request cannot succeed until someone changes the shop or the bridge config."""


class ShopAuthError(PermanentShopError):
    """The shop refused our credentials (HTTP 401/403, a revoked key, missing permissions)."""


class RequestRejected(PermanentShopError):
    """The shop refused the request as invalid (HTTP 400/404/405/413, a GraphQL or validation error)."""

    def __init__(self, shop: str, problem: str, status: int | None = None, code: str = "") -> None:
        super().__init__(shop, problem)
        self.status = status
        self.code = code


class UnknownSku(PermanentShopError):
    """The shop has no product or variation with this sku."""

    def __init__(self, shop: str, sku: str) -> None:
        super().__init__(shop, f"no product with sku {sku!r}")
        self.sku = sku


class AmbiguousSku(PermanentShopError):
    """Several products carry this sku (PrestaShop and Shopify do not enforce unique skus)."""

    def __init__(self, shop: str, sku: str, count: int) -> None:
        super().__init__(shop, f"{count} products carry sku {sku!r}; make it unique in the shop")
        self.sku = sku


class StockNotManaged(PermanentShopError):
    """The shop does not track stock for this sku (WooCommerce `manage_stock: false`, Shopify `tracked:
    false`, not stocked at the configured location), so a quantity written to it would be ignored.
    """


class UnsupportedOperation(PermanentShopError):
    """The platform's API cannot do this (PrestaShop has no webhooks, WooCommerce no atomic deltas)."""


class WebhookRejected(ShopError):
    """A webhook that must not be acted on: unsigned, signed with another secret, or tampered with.
    Answer 401 and drop it; polling covers anything real that was lost.
    """


class MalformedWebhook(ShopError, ValueError):
    """A correctly signed webhook whose body is not what the platform documents. Answer 200 (the shop would
    only resend the same body) and rely on polling.
    """


# --- the bridge service (config, database) -------------------------------------------------------------


class BridgeConfigError(BridgeError, ValueError):
    """The bridge's config file cannot be used. `problems` holds every problem found, one per line, each
    naming the file and the key; the message is all of them.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class BridgeDatabaseError(BridgeError):
    """The bridge's database cannot be opened or has a schema this release does not know."""
