"""The one interface every shop connector offers, and the typed values that cross it.

A connector is a thin, synchronous client for one shop: it turns skus into the shop's own ids, batches as
large as the API allows, retries transient errors (honouring Retry-After and Shopify's cost bucket), and
hands back typed values and typed errors. It holds no ledger and makes no stock decisions: what to write
is the bridge's business. One connector instance serves one worker thread at a time.

Money is always integer cents (the shop's decimal strings are parsed exactly; currencies with other than
two decimals are not handled). Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from cloud_bridge.errors import ShopError
from wire import LineOption as LineOption  # a line's options: what the shop names is what the ticket prints
from wire import PhoneOrder, parse_ts


@dataclass(frozen=True)
class StockLevel:
    """What the shop shows buyers as available for one sku. `quantity` is None when the shop does not track
    stock for it. `version` is the shop's change marker for the item where the API has one (WooCommerce
    `date_modified_gmt`, Shopify inventory level `updatedAt`), else None.
    """

    sku: str
    quantity: int | None
    version: str | None = None


@dataclass(frozen=True)
class BatchLimits:
    """How many skus one request of the shop's API can carry, which the bridge plans its calls by
    (`cloud_bridge.shopplan`): `reads` per stock read, `writes` per stock write (1: the API writes one sku
    per request, as PrestaShop's Webservice does). A connector still splits larger lists itself; these say
    what one request holds, so the bridge can gather a window's changes into as few requests as that.
    """

    reads: int
    writes: int

    @property
    def batch_writes(self) -> bool:
        return self.writes > 1


@dataclass(frozen=True)
class StockChange:
    """Set `sku` to `quantity` (absolute). With `expected`, only if the shop still shows `expected`: Shopify
    checks this atomically (`changeFromQuantity`); WooCommerce and PrestaShop check it by reading right
    before writing, which narrows the race window but cannot close it.
    """

    sku: str
    quantity: int
    expected: int | None = None


@dataclass(frozen=True)
class StockDelta:
    """Change `sku` by `delta` units (negative for a sale)."""

    sku: str
    delta: int


@dataclass(frozen=True)
class ItemResult:
    """The outcome for one sku of a write. `quantity` is the shop's quantity after the write, when it said.
    `error` is typed: a `TransientShopError` (e.g. `StaleStock`, `NotApplied`) means try again, a
    `PermanentShopError` (e.g. `UnknownSku`, `StockNotManaged`) means park it.
    """

    sku: str
    quantity: int | None = None
    error: ShopError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class OrderState(StrEnum):
    """The platform's order status folded to what the store cares about."""

    PENDING = "pending"  # not paid yet (or awaiting payment confirmation)
    PAID = "paid"  # paid, to be prepared / printed in the store
    COMPLETED = "completed"  # delivered or collected
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class OrderLine:
    """One line of an order. `options` and `note` are what the kitchen must see; `tags` are the product's
    categories / tags where the shop says them (what routes the line to a station's printer).
    """

    line_id: str
    sku: str
    name: str
    qty: int
    unit_price_cents: int  # what the customer paid per unit, tax included where the platform says
    options: tuple[LineOption, ...] = ()
    note: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShopOrder:
    """An online order as the shop shows it now. `holds_stock` says whether the shop has taken these units out
    of its available stock (so the ledger must not take them out a second time). `status` is the platform's
    raw status. Orders can come back more than once; dedupe on `key`.

    `problem` says what the connector could not read in this order (a missing `total`): the bridge parks it
    and the feed goes on. Its stock facts (status and lines) are still there when they were readable, so
    the ledger counts the units the shop took; `stock_known` is False when even those were not.

    What the floor needs besides (empty where the shop did not say): `note` is the customer's note as they
    wrote it; `requested_at` the slot they asked for (None: as soon as possible); `phone` and `address`
    for delivery; `paid` whether it was paid online, else `due_cents` is to pay at hand-over; `allergies`
    what the customer said about allergies (printed so it stands out); `warnings` what the connector found
    odd but could print around (an absurd quantity, control characters, a line without a product): the
    order still prints, with the warnings, and the bridge parks it for the owner; `source` is "phone" for
    an order entered at the shop (`create_order`). `withdrawn`: nothing of the order is this store's any
    more, its part here moved to another location (cancelled here, no lines); it may come back.
    """

    order_id: str
    number: str
    state: OrderState
    status: str
    placed_at: datetime
    updated_at: datetime
    lines: tuple[OrderLine, ...]
    total_cents: int
    currency: str
    customer: str = ""
    pickup: bool = False
    holds_stock: bool = True
    problem: str | None = None
    stock_known: bool = True
    note: str = ""
    requested_at: datetime | None = None
    phone: str = ""
    address: str = ""
    paid: bool = True
    due_cents: int = 0
    allergies: str = ""
    warnings: tuple[str, ...] = ()
    source: str = "online"
    withdrawn: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        """(order id, update time, status): one key per version of the order (two changes can share a
        second, so the status is part of it).
        """
        return (self.order_id, self.updated_at.isoformat(), self.status)

    @property
    def fingerprint(self) -> str:
        return f"{self.status}|{self.total_cents}|{len(self.lines)}|{self.problem}"


@dataclass(frozen=True)
class ShopProduct:
    """One sellable item's catalog facts (a simple product, or one variation / combination / variant), to
    become a catalog delta for the store's boxes.

    `barcodes` are as the shop keeps them (the bridge normalises and checks them); `unit` is None unless
    the shop is configured to say how the item is sold ("kg", …). `problem` says what the connector could
    not read in this product (an unreadable price): the bridge parks it, and the others still sync.
    """

    sku: str
    name: str
    price_cents: int
    updated_at: datetime
    product_id: str
    tax_included: bool = True
    barcodes: tuple[str, ...] = ()
    unit: str | None = None
    problem: str | None = None

    @property
    def fingerprint(self) -> str:
        return f"{self.price_cents}|{self.name}|{','.join(self.barcodes)}|{self.unit}|{self.problem}"


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: a hint that `resource` `resource_id` changed. Payloads can be stale, repeated and
    out of order, so the bridge should dedupe on `event_id` and treat `order` / `products` as the state at
    delivery time, confirming with `get_order` where it matters.
    """

    platform: str
    topic: str
    resource: str  # "order", "product" or "other"
    resource_id: str
    event_id: str
    order: ShopOrder | None = None
    products: tuple[ShopProduct, ...] = ()
    payload: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False)


class FloorStage(StrEnum):
    """Where an order is on the shop floor, as the box moves it (docs/orders.md). The shop is told of each
    step the way its customers expect: WooCommerce a status and a customer note (its own mails), Shopify
    the pickup-ready notification and a fulfillment, PrestaShop an order state (its template mail).
    """

    ACCEPTED = "accepted"  # the kitchen took it (with an estimated time, optionally)
    READY = "ready"  # ready to collect / to go out
    COLLECTED = "collected"  # handed to the customer at the counter
    DELIVERED = "delivered"  # delivered to the customer's address


@dataclass(frozen=True)
class StageChange:
    """Tell the shop (and through it the customer) that order `order_id` reached `stage`. `message` is the
    customer-facing sentence, in the shop's language; `eta_minutes` the estimate given on acceptance.
    """

    order_id: str
    stage: FloorStage
    message: str
    pickup: bool = True
    eta_minutes: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDraft(PhoneOrder):
    """A phone order taken at the shop, to create in the online shop so stock has one truth: the box's
    `PhoneOrder` as the wire carries it (one definition of its fields), plus `ref`, the box's id for it.
    Creating the same `ref` twice must give the same order (the request may be repeated).
    """

    ref: str

    @classmethod
    def of(cls, ref: str, order: PhoneOrder) -> OrderDraft:
        return cls(ref=ref, **{f.name: getattr(order, f.name) for f in fields(PhoneOrder)})

    @property
    def requested_at(self) -> datetime | None:
        """The slot the customer asked for (None: as soon as possible); `due_at` is its wire text."""
        return parse_ts(self.due_at) if self.due_at else None


@runtime_checkable
class FloorOrders(Protocol):
    """What a connector offers for orders on the shop floor, besides `ShopConnector`. A connector without
    it still prints orders; the bridge then only logs that the shop cannot be told.
    """

    def tell_customer(self, order_id: str, text: str) -> None:
        """A note on the order the customer sees (the shop mails it): their pickup code, an estimate."""
        ...

    def set_stage(self, change: StageChange) -> None:
        """Moves the order in the shop to match `change` (status / fulfillment / state and its mail)."""
        ...

    def create_order(self, draft: OrderDraft) -> ShopOrder:
        """Creates a phone order in the shop (idempotent on `draft.ref`) and returns it as the shop has it."""
        ...


@runtime_checkable
class ShopConnector(Protocol):
    """What the bridge may ask of any shop. Transient failures are retried inside each call; what escapes is
    a `ShopError` subclass (see `cloud_bridge.errors`). Per-item failures of writes are not raised but
    returned in `ItemResult.error`.
    """

    platform: str
    shop: str
    supports_deltas: bool  # adjust_stock is atomic and idempotent (Shopify)
    supports_cas: bool  # set_stock honours StockChange.expected atomically (Shopify)
    supports_webhooks: bool
    limits: BatchLimits  # skus per stock read and per stock write request

    @property
    def calls(self) -> int:
        """HTTP requests sent so far, retries included."""
        ...

    def get_stock(self, skus: Sequence[str]) -> dict[str, StockLevel]:
        """Current levels; skus the shop does not know (or knows twice) are absent."""
        ...

    def set_stock(self, changes: Sequence[StockChange]) -> list[ItemResult]:
        """Absolute writes in the largest batches the API allows; one result per change, in order."""
        ...

    def adjust_stock(self, deltas: Sequence[StockDelta], idempotency_key: str) -> list[ItemResult]:
        """Relative writes applied exactly once per `idempotency_key`, where `supports_deltas`; otherwise
        raises `UnsupportedOperation`. Reuse the key when retrying the same deltas, never for new ones.
        """
        ...

    def orders_since(self, cursor: str | None) -> tuple[list[ShopOrder], str]:
        """Orders created or changed since `cursor` (None: all), oldest change first, and the next cursor.
        Returns at most a few hundred orders; when the list is not empty, call again with the new cursor.
        """
        ...

    def products_since(self, cursor: str | None) -> tuple[list[ShopProduct], str]:
        """Products whose name or price may have changed since `cursor`, and the next cursor."""
        ...

    def get_order(self, order_id: str) -> ShopOrder: ...

    def complete_order(self, order_id: str) -> ShopOrder:
        """Marks the order delivered / collected (click & collect closed at the till)."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        """A verified event, or None for a delivery that only needs a 200 (WooCommerce's creation ping).
        Raises `WebhookRejected` (answer 401) or `MalformedWebhook` (answer 200 and rely on polling).
        """
        ...

    def close(self) -> None: ...
