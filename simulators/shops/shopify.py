"""A Shopify store speaking the GraphQL Admin API (`/admin/api/{version}/graphql.json`), for tests and
the demo.

Modelled, as documented: the `X-Shopify-Access-Token` header; the cost-based leaky bucket (requested cost
charged up front, `extensions.cost.throttleStatus` on every answer, THROTTLED with HTTP 200 when the bucket
lacks the points, MAX_COST_EXCEEDED above 1000); `productVariants`/`orders` connections with `first` ≤ 250,
`after` cursors and the search syntax the connector uses (`sku:`, `updated_at:>'…'`, `OR`);
`inventoryAdjustQuantities` (relative) and `inventorySetQuantities` (absolute) with `changeFromQuantity`
compare-and-swap (CHANGE_FROM_QUANTITY_STALE), at most 250 items per input array (more refused as a
whole), all-or-nothing `userErrors` (each naming its item's index), and `@idempotent(key:)`
deduplication (same key and input: the first result again, nothing applied; other input:
IDEMPOTENCY_KEY_PARAMETER_MISMATCH; after a failed attempt: IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED), the
directive required for adjustments from 2026-04 and `changeFromQuantity` required per quantity for sets;
orders moving units from `available` to `committed` and fulfilment taking them off `on_hand`; webhooks with
REST-shaped bodies signed base64 HMAC-SHA256 with the app secret, retried `webhook_retries` times;
`draftOrderCreate` (lines by `variantId`, userErrors naming the line's field) and `draftOrderComplete(
paymentPending: true)` (an order PENDING with everything outstanding, its units committed), mutations at 10
points; `orders(query: "tag:…")`, `draftOrders(query: "tag:… AND status:open")`.

Orders carry the location their fulfillment order is assigned to (`assignedLocation`); an order at another
location moves no stock here. A split order (`place_split_order`) has one fulfillment order per assigned
location, each with its line items and quantities (`totalQuantity`, `remainingQuantity`); fulfilling one
closes only that one, and the order is FULFILLED when all are (PARTIALLY_FULFILLED before). The merchant
can move an open fulfillment order, or some of its units, to another location (`move_order`, Shopify's
`fulfillmentOrderMove`): the units leave `committed` for `available` here, `updatedAt` moves and
orders/updated fires. Not modelled: other locations' stock, no refunds, no returns; the search index lag
after product changes; the cost refund for pages shorter than `first`; selection cost of
anything but connections and objects; fragments; per-field deprecations; bulk operations; REST Admin;
webhook subscriptions through GraphQL (use `subscribe()`); Shopify's hours-long retry schedule (retries
come `retry_delay` apart).
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from simulators.shops.graphql import Field, GraphQLError, cost, parse, prune
from simulators.shops.seed import OutOfStock, SeedProduct, decimal, items, now_s
from simulators.shops.server import Request, Response
from simulators.shops.webhooks import Delivery, WebhookSender, WebhookShop, sign

LOCATION: Final = "gid://shopify/Location/1"
MAX_QUERY_COST: Final = 1000
MUTATION_COST: Final = 10
MAX_PAGE: Final = 250
MAX_INPUT: Final = 250  # items of an input array (inventory changes and quantities per mutation)
REASONS: Final = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
Obj = dict[str, Any]


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _num(global_id: Any, kind: str) -> int | None:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", global_id) if isinstance(global_id, str) else None
    return int(match.group(1)) if match else None


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Variant:
    id: int
    product_id: int
    sku: str
    price_cents: int
    item_id: int
    tracked: bool
    available: int
    committed: int = 0
    stocked: bool = True
    updated: datetime = field(default_factory=now_s)
    barcode: str | None = None
    title: str = "Default Title"
    metafields: dict[str, str] = field(default_factory=dict)  # "namespace.key" -> value


@dataclass
class Product:
    id: int
    title: str
    updated: datetime
    variant_ids: list[int]
    metafields: dict[str, str] = field(default_factory=dict)
    product_type: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass
class Line:
    id: int
    variant_id: int
    qty: int
    properties: list[tuple[str, str]] = field(
        default_factory=list
    )  # line-item properties (`customAttributes`)


@dataclass
class Split:
    """One fulfillment order of a split order: the lines (line id, quantity) one location ships."""

    id: int
    location: str
    lines: list[tuple[int, int]]
    closed: bool = False


@dataclass
class Order:
    id: int
    number: int
    lines: list[Line]
    pickup: bool
    customer: str
    created: datetime
    updated: datetime
    cancelled: datetime | None = None
    fulfilled: bool = False
    location: str = LOCATION  # where its fulfillment order is assigned
    note: str = ""
    attributes: list[tuple[str, str]] = field(default_factory=list)  # note attributes
    phone: str = ""
    address: dict[str, str] = field(default_factory=dict)
    paid: bool = True
    prepared_for_pickup: bool = False  # "ready for pickup": Shopify notifies the customer
    notifications: list[str] = field(default_factory=list)  # what Shopify sent the customer
    splits: list[Split] = field(default_factory=list)  # a split order's fulfillment orders (else one: itself)
    tags: list[str] = field(default_factory=list)
    payment_pending: bool = False  # completed from a draft with `paymentPending: true`: PENDING, all due
    method: str = ""  # the fulfillment order's delivery method when not PICK_UP / SHIPPING (a draft's: NONE)


@dataclass
class Draft:
    """A draft order (`draftOrderCreate`): holds no stock until `draftOrderComplete` makes it an order."""

    id: int
    input: Obj
    order_id: int | None = None


@dataclass
class Idempotent:
    fingerprint: str
    result: Obj
    failed: bool


class CostBucket:
    """Shopify's leaky bucket: `size` points, refilled at `rate` points per second of the shared clock."""

    def __init__(self, size: float, rate: float, clock: Any) -> None:
        self.size, self.rate, self.clock = size, rate, clock
        self.available = size
        self.stamp = clock.monotonic()

    def level(self) -> float:
        now = self.clock.monotonic()
        self.available = min(self.size, self.available + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.available

    def try_spend(self, points: float) -> bool:
        if self.level() < points:
            return False
        self.available -= points
        return True

    def status(self) -> Obj:
        return {
            "maximumAvailable": self.size,
            "currentlyAvailable": int(self.level()),
            "restoreRate": self.rate,
        }


class UserError(Exception):
    def __init__(self, code: str, field_path: list[str], message: str) -> None:
        super().__init__(message)
        self.body = {"code": code, "field": field_path, "message": message}


class ShopifySimulator(WebhookShop):
    platform = "shopify"

    def __init__(
        self,
        seed: Iterable[SeedProduct] | None = None,
        *,
        access_token: str = "shpat_simulator",
        client_secret: str = "shopify-app-secret",
        api_version: str = "2026-04",
        bucket_size: float = 2000.0,
        restore_rate: float = 100.0,
        webhook_retries: int = 8,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.access_token = access_token
        self.client_secret = client_secret
        self.api_version = api_version
        self.bucket = CostBucket(bucket_size, restore_rate, self.clock)
        self.throttled = 0  # requests that arrived while the bucket lacked the points for them
        self.webhook_retries = webhook_retries
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.orders: dict[int, Order] = {}
        self.drafts: dict[int, Draft] = {}
        self.idempotency: dict[str, Idempotent] = {}
        self.subscriptions: list[tuple[str, str]] = []
        self._ids = itertools.count(1001)
        self._sender = WebhookSender("shopify")
        for item in items(seed):
            barcode = item.barcodes[0] if item.barcodes else None
            self.add_product(item.sku, item.name, item.price_cents, item.stock, barcode=barcode)
            if item.unit != "each":
                self.products[max(self.products)].metafields["custom.unit"] = item.unit

    # --- shop-side actions -----------------------------------------------------------------------------

    def add_product(
        self,
        sku: str,
        title: str,
        price_cents: int,
        stock: int,
        *,
        tracked: bool = True,
        barcode: str | None = None,
    ) -> str:
        return self.add_variants(
            title, [(sku, "Default Title", price_cents, stock, barcode)], tracked=tracked
        )[0]

    def add_variants(
        self,
        title: str,
        variants: Sequence[tuple[str, str, int, int, str | None]],
        *,
        tracked: bool = True,
    ) -> list[str]:
        """A product with one variant per (sku, variant title, price_cents, stock, barcode); their gids."""
        with self.lock:
            product = Product(next(self._ids), title, now_s(), [])
            self.products[product.id] = product
            for sku, name, price, stock, barcode in variants:
                variant = Variant(next(self._ids), product.id, sku, price, next(self._ids), tracked, stock)
                variant.barcode, variant.title = barcode, name
                product.variant_ids.append(variant.id)
                self.variants[variant.id] = variant
            return [gid("ProductVariant", i) for i in product.variant_ids]

    def stock(self, sku: str) -> int:
        with self.lock:
            return self._variant(sku).available

    def edit_stock(self, sku: str, delta: int) -> int:
        """The merchant changes the available number in the shop's admin by `delta`; returns it."""
        with self.lock:
            variant = self._variant(sku)
            variant.available += delta
            variant.updated = now_s()
            return variant.available

    def unstock(self, sku: str) -> None:
        """The merchant removes the item from the location: writes to it fail as that item's userError
        (ITEM_NOT_STOCKED_AT_LOCATION), and the other items of the request are not applied.
        """
        with self.lock:
            self._variant(sku).stocked = False

    def on_hand(self, sku: str) -> int:
        with self.lock:
            variant = self._variant(sku)
            return variant.available + variant.committed

    def set_price(self, sku: str, price_cents: int) -> None:
        with self.lock:
            variant = self._variant(sku)
            variant.price_cents = price_cents
            variant.updated = self.products[variant.product_id].updated = now_s()
            self._fire("products/update", self._product_rest(self.products[variant.product_id]))

    def spend(self, points: float) -> None:
        """Drains the bucket as another client of the same app would."""
        with self.lock:
            self.bucket.level()
            self.bucket.available = max(0.0, self.bucket.available - points)

    def subscribe(self, topic: str, url: str) -> None:
        with self.lock:
            self.subscriptions.append((topic, url))

    def place_order(
        self,
        sku: str,
        qty: int,
        *,
        pickup: bool = False,
        customer: str = "Ana Pérez",
        location: str = LOCATION,
    ) -> str:
        """A paid order: units move from `available` to `committed`; fires orders/create. An order routed to
        another `location` takes its units there (that location's stock is not modelled).
        """
        with self.lock:
            variant = self._variant(sku)
            if location == LOCATION:
                if variant.tracked and variant.available < qty:
                    raise OutOfStock(
                        f"shopify simulator: {qty} × {sku} wanted, {variant.available} available"
                    )
                variant.available -= qty
                variant.committed += qty
                variant.updated = now_s()
            number = next(self._ids)
            order = Order(
                number,
                number,
                [Line(next(self._ids), variant.id, qty)],
                pickup,
                customer,
                now_s(),
                now_s(),
                location=location,
            )
            self.orders[order.id] = order
            self._fire("orders/create", self._order_rest(order))
            return gid("Order", order.id)

    def place_split_order(self, items: list[tuple[str, int, str]], *, pickup: bool = True) -> str:
        """A paid order whose items (sku, qty, location) Shopify assigned to several locations: one line
        per item, one fulfillment order per location. Only this store's lines take units here."""
        with self.lock:
            number = next(self._ids)
            order = Order(number, number, [], pickup, "Ana Pérez", now_s(), now_s())
            by_location: dict[str, list[tuple[int, int]]] = {}
            for sku, qty, location in items:
                variant = self._variant(sku)
                if location == LOCATION:
                    variant.available -= qty
                    variant.committed += qty
                    variant.updated = now_s()
                line = Line(next(self._ids), variant.id, qty)
                order.lines.append(line)
                by_location.setdefault(location, []).append((line.id, qty))
            order.splits = [Split(next(self._ids), where, lines) for where, lines in by_location.items()]
            self.orders[order.id] = order
            self._fire("orders/create", self._order_rest(order))
            return gid("Order", order.id)

    def split_closed(self, order_gid: str) -> dict[str, bool]:
        """Location → whether its fulfillment order of a split order is closed (fulfilled)."""
        with self.lock:
            return {s.location: s.closed for s in self.orders[_num(order_gid, "Order") or 0].splits}

    def place_food_order(
        self,
        items: list[tuple[str, int, dict[str, str]]],
        *,
        pickup: bool = True,
        customer: str = "Ana Pérez",
        note: str = "",
        attributes: dict[str, str] | None = None,
        phone: str = "",
        address: dict[str, str] | None = None,
        paid: bool = True,
    ) -> str:
        """A take-away order: items of (sku, qty, line-item properties: options, toppings, a note), the
        order's note and note attributes (a slot app's "Pickup time"), phone, shipping address; `paid`
        False leaves it all outstanding (pay at pickup). Fires orders/create."""
        with self.lock:
            lines = []
            for sku, qty, properties in items:
                variant = self._variant(sku)
                variant.available -= qty
                variant.committed += qty
                variant.updated = now_s()
                lines.append(Line(next(self._ids), variant.id, qty, list(properties.items())))
            number = next(self._ids)
            order = Order(number, number, lines, pickup, customer, now_s(), now_s())
            order.note, order.attributes, order.phone = note, list((attributes or {}).items()), phone
            order.address, order.paid = dict(address or {}), paid
            self.orders[order.id] = order
            self._fire("orders/create", self._order_rest(order))
            return gid("Order", order.id)

    def categorise(self, sku: str, product_type: str, tags: list[str] = []) -> None:  # noqa: B006 - read only
        with self.lock:
            product = self.products[self._variant(sku).product_id]
            product.product_type, product.tags = product_type, list(tags)

    def customer_view(self, order_gid: str) -> tuple[bool, list[tuple[str, str]], list[str]]:
        """(prepared for pickup, note attributes, notifications sent) of an order."""
        with self.lock:
            order = self.orders[_num(order_gid, "Order") or 0]
            return order.prepared_for_pickup, list(order.attributes), list(order.notifications)

    def cancel_order(self, order_gid: str) -> None:
        with self.lock:
            order = self.orders[_num(order_gid, "Order") or 0]
            self._commit(order, self._open_here(order), -1)  # another location's units are there
            order.cancelled = order.updated = now_s()
            self._fire("orders/cancelled", self._order_rest(order))

    def move_order(
        self,
        order_gid: str,
        to_location: str,
        *,
        from_location: str = LOCATION,
        quantities: dict[str, int] | None = None,
    ) -> None:
        """The merchant moves the order's open fulfillment order at `from_location` (a split order's part
        there) to `to_location` (`fulfillmentOrderMove`): whole, its assigned location changes; with
        `quantities` (sku → units), only those units move, into a new fulfillment order at `to_location`.
        The units go from `committed` back to `available` at the location they leave and are committed at
        the one they reach (only this location's stock is modelled); `updatedAt` moves and orders/updated
        fires. A closed (fulfilled, cancelled) fulfillment order cannot move: ValueError.
        """
        with self.lock:
            order = self.orders[_num(order_gid, "Order") or 0]
            if order.cancelled is not None or order.fulfilled:
                raise ValueError(f"shopify simulator: order {order_gid} has no open fulfillment order")
            if quantities is not None and not order.splits:  # it becomes the first of two
                order.splits = [
                    Split(order.id, order.location, [(line.id, line.qty) for line in order.lines])
                ]
            moving = self._move(order, from_location, to_location, quantities)
            self._commit(order, moving if from_location == LOCATION else [], -1)
            self._commit(order, moving if to_location == LOCATION else [], 1)
            order.updated = now_s()
            self._fire("orders/updated", self._order_rest(order))

    def _move(
        self, order: Order, source: str, target: str, quantities: dict[str, int] | None
    ) -> list[tuple[int, int]]:
        """Reassigns the fulfillment order at `source` (or the `quantities` of it) to `target`; returns the
        (line id, units) that moved."""
        if not order.splits:
            if order.location != source:
                raise ValueError(f"shopify simulator: order {order.id} has no fulfillment order at {source}")
            order.location = target
            return [(line.id, line.qty) for line in order.lines]
        split = next((s for s in order.splits if s.location == source and not s.closed), None)
        if split is None:
            raise ValueError(f"shopify simulator: order {order.id} has no open fulfillment order at {source}")
        if quantities is None:
            split.location = target
            return list(split.lines)
        skus = {line.id: self.variants[line.variant_id].sku for line in order.lines}
        kept = dict(split.lines)
        moving = [(line_id, quantities[sku]) for line_id, sku in skus.items() if sku in quantities]
        for line_id, qty in moving:
            if not 0 < qty <= kept.get(line_id, 0):
                raise ValueError(f"shopify simulator: {qty} × {skus[line_id]} are not at {source}")
            kept[line_id] -= qty
        split.lines = [(line_id, qty) for line_id, qty in kept.items() if qty]
        if not split.lines:
            order.splits.remove(split)
        order.splits.append(Split(next(self._ids), target, moving))
        return moving

    def _open_here(self, order: Order) -> list[tuple[int, int]]:
        """(line id, units) of the order's open fulfillment orders at this location: what it holds here."""
        if not order.splits:
            here = order.location == LOCATION and not order.fulfilled
            return [(line.id, line.qty) for line in order.lines] if here else []
        return [entry for s in order.splits if s.location == LOCATION and not s.closed for entry in s.lines]

    def _commit(self, order: Order, entries: list[tuple[int, int]], sign: int) -> None:
        """Moves the units of (line id, units) between `available` and `committed` (1: to committed)."""
        variants = {line.id: self.variants[line.variant_id] for line in order.lines}
        for line_id, qty in entries:
            variant = variants[line_id]
            variant.available -= sign * qty
            variant.committed += sign * qty
            variant.updated = now_s()

    def is_fulfilled(self, order_gid: str) -> bool:
        with self.lock:
            return self.orders[_num(order_gid, "Order") or 0].fulfilled

    def _variant(self, sku: str) -> Variant:
        for variant in self.variants.values():
            if variant.sku == sku:
                return variant
        raise KeyError(f"shopify simulator: no variant with sku {sku!r}")

    # --- HTTP ------------------------------------------------------------------------------------------

    def label(self, request: Request) -> str:
        try:
            query = json.loads(request.body).get("query", "")
            match = re.search(r"\{\s*(\w+)", query)
            return f"graphql {match.group(1) if match else '?'}"
        except (ValueError, AttributeError):
            return f"{request.method} {request.path}"

    def route(self, request: Request) -> Response:
        match = re.fullmatch(r"/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json", request.path)
        if match is None or request.method != "POST":
            return Response.of_json(404, {"errors": "Not Found"})
        if not secrets.compare_digest(request.headers.get("x-shopify-access-token", ""), self.access_token):
            message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
            return Response.of_json(401, {"errors": message})
        try:
            body = json.loads(request.body)
            query, variables = body["query"], body.get("variables") or {}
            if not isinstance(query, str) or not isinstance(variables, dict):
                raise TypeError("query must be a string and variables an object")
        except (ValueError, KeyError, TypeError):
            return Response.of_json(400, {"errors": {"query": "Required parameter missing or invalid"}})
        return self._execute(query, variables, match.group(1))

    def _execute(self, query: str, variables: Obj, version: str) -> Response:
        try:
            operation = parse(query, variables)
            price = sum(MUTATION_COST if operation.kind == "mutation" else cost(f) for f in operation.fields)
        except GraphQLError as exc:
            return Response.of_json(200, {"errors": [{"message": str(exc)}]})
        if price > MAX_QUERY_COST:
            message = (
                f"Query cost is {price}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."
            )
            return Response.of_json(
                200, {"errors": [{"message": message, "extensions": {"code": "MAX_COST_EXCEEDED"}}]}
            )
        if not self.bucket.try_spend(price):
            self.throttled += 1
            return Response.of_json(200, self._throttled(price))
        try:
            data = {f.key: self._resolve(operation.kind, f, version) for f in operation.fields}
        except GraphQLError as exc:
            return Response.of_json(200, {"errors": [{"message": str(exc)}], "extensions": self._cost(price)})
        return Response.of_json(200, {"data": data, "extensions": self._cost(price)})

    def _cost(self, price: int) -> Obj:
        return {
            "cost": {
                "requestedQueryCost": price,
                "actualQueryCost": price,
                "throttleStatus": self.bucket.status(),
            }
        }

    def _throttled(self, price: int) -> Obj:
        extensions = {"cost": {**self._cost(price)["cost"], "actualQueryCost": None}}
        error = {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
        return {"errors": [error], "extensions": extensions}

    def _resolve(self, kind: str, f: Field, version: str) -> Any:
        resolvers: dict[tuple[str, str], Callable[[Field, str], Any]] = {
            ("query", "productVariants"): self._product_variants,
            ("query", "orders"): self._orders,
            ("query", "order"): self._order,
            ("query", "draftOrders"): self._draft_orders,
            ("mutation", "inventoryAdjustQuantities"): self._adjust,
            ("mutation", "inventorySetQuantities"): self._set,
            ("mutation", "fulfillmentCreate"): self._fulfill,
            ("mutation", "orderUpdate"): self._order_update,
            ("mutation", "fulfillmentOrderLineItemsPreparedForPickup"): self._prepared,
            ("mutation", "draftOrderCreate"): self._draft_create,
            ("mutation", "draftOrderComplete"): self._draft_complete,
        }
        resolver = resolvers.get((kind, f.name))
        if resolver is None:
            root = "Mutation" if kind == "mutation" else "QueryRoot"
            raise GraphQLError(f"Field '{f.name}' doesn't exist on type '{root}'")
        return prune(resolver(f, version), f.selections, f.name)

    # queries

    def _product_variants(self, f: Field, version: str) -> Obj:
        found = [v for v in self.variants.values() if _matches(f.args.get("query"), self._variant_facts(v))]
        found.sort(key=lambda v: v.id)
        return _connection(found, f.args, self._variant_node)

    def _orders(self, f: Field, version: str) -> Obj:
        found = [o for o in self.orders.values() if _matches(f.args.get("query"), self._order_facts(o))]
        sort_key = f.args.get("sortKey", "ID")
        found.sort(key=(lambda o: (o.updated, o.id)) if sort_key == "UPDATED_AT" else (lambda o: o.id))
        if f.args.get("reverse"):
            found.reverse()
        return _connection(found, f.args, self._order_node)

    def _order(self, f: Field, version: str) -> Obj | None:
        order = self.orders.get(_num(f.args.get("id"), "Order") or 0)
        return None if order is None else self._order_node(order)

    def _draft_orders(self, f: Field, version: str) -> Obj:
        """`draftOrders(query: "tag:… AND status:open")`, newest first with `reverse`."""
        found = [d for d in self.drafts.values() if _matches(f.args.get("query"), _draft_facts(d))]
        found.sort(key=lambda d: d.id, reverse=bool(f.args.get("reverse")))
        return _connection(found, f.args, _draft_node)

    def _variant_facts(self, v: Variant) -> Obj:
        return {
            "sku": v.sku,
            "updated_at": _stamp(v.updated),
            "id": str(v.id),
            "product_id": str(v.product_id),
        }

    def _order_facts(self, o: Order) -> Obj:
        return {
            "updated_at": _stamp(o.updated),
            "created_at": _stamp(o.created),
            "id": str(o.id),
            "tag": list(o.tags),
        }

    def _variant_node(self, v: Variant) -> Obj:
        product = self.products[v.product_id]
        return {
            "id": gid("ProductVariant", v.id),
            "sku": v.sku,
            "barcode": v.barcode,
            "title": v.title,
            "displayName": f"{product.title} - {v.title}",
            "price": decimal(v.price_cents),
            "updatedAt": _stamp(v.updated),
            "metafield": functools.partial(_metafield, v.metafields),
            "product": {
                "id": gid("Product", product.id),
                "title": product.title,
                "updatedAt": _stamp(product.updated),
                "metafield": functools.partial(_metafield, product.metafields),
            },
            "inventoryItem": {
                "id": gid("InventoryItem", v.item_id),
                "sku": v.sku,
                "tracked": v.tracked,
                "inventoryLevel": functools.partial(self._level, v),
            },
        }

    def _level(self, v: Variant, args: Obj) -> Obj | None:
        if args.get("locationId") != LOCATION or not v.stocked:
            return None
        values = {"available": v.available, "committed": v.committed, "on_hand": v.available + v.committed}
        return {
            "id": f"gid://shopify/InventoryLevel/{v.item_id}?inventory_item_id={v.item_id}",
            "updatedAt": _stamp(v.updated),
            "location": {"id": LOCATION},
            "quantities": lambda a: [{"name": n, "quantity": values.get(n, 0)} for n in a.get("names") or []],
        }

    def _order_node(self, o: Order) -> Obj:
        total = sum(self.variants[line.variant_id].price_cents * line.qty for line in o.lines)
        status = "FULFILLED" if o.fulfilled else "UNFULFILLED"
        if not o.fulfilled and any(s.closed for s in o.splits):
            status = "PARTIALLY_FULFILLED"
        return {
            "id": gid("Order", o.id),
            "name": f"#{o.number}",
            "createdAt": _stamp(o.created),
            "updatedAt": _stamp(o.updated),
            "cancelledAt": _stamp(o.cancelled) if o.cancelled else None,
            "displayFinancialStatus": "PENDING" if o.payment_pending else "PAID",
            "displayFulfillmentStatus": status,
            "currencyCode": "EUR",
            "totalPriceSet": {"shopMoney": {"amount": decimal(total), "currencyCode": "EUR"}},
            "customer": {"displayName": o.customer},
            "note": o.note or None,
            "phone": o.phone or None,
            "customAttributes": [{"key": k, "value": v} for k, v in o.attributes],
            "shippingAddress": {
                **{k: None for k in ("address1", "address2", "zip", "city", "phone")},
                **o.address,
            }
            if o.address
            else None,
            "totalOutstandingSet": {
                "shopMoney": {"amount": decimal(0 if o.paid else total), "currencyCode": "EUR"}
            },
            "lineItems": lambda args: _connection(o.lines, args, self._line_node),
            "fulfillmentOrders": lambda args: _connection(
                [(o, s) for s in o.splits] or [(o, None)], args, self._fulfillment_order_node
            ),
        }

    def _line_node(self, line: Line) -> Obj:
        variant = self.variants[line.variant_id]
        price = {"shopMoney": {"amount": decimal(variant.price_cents), "currencyCode": "EUR"}}
        return {
            "id": gid("LineItem", line.id),
            "sku": variant.sku,
            "name": self.products[variant.product_id].title,
            "variantTitle": None if variant.title == "Default Title" else variant.title,
            "quantity": line.qty,
            "originalUnitPriceSet": price,
            "discountedUnitPriceSet": price,
            "customAttributes": [{"key": k, "value": v} for k, v in line.properties],
            "product": {
                "productType": self.products[variant.product_id].product_type,
                "tags": list(self.products[variant.product_id].tags),
            },
        }

    def _fulfillment_order_node(self, pair: tuple[Order, Split | None]) -> Obj:
        """A fulfillment order: the order's only one (its id is the order's number), or one of its splits."""
        o, split = pair
        closed = o.fulfilled or o.cancelled is not None or (split is not None and split.closed)
        lines = split.lines if split is not None else [(line.id, line.qty) for line in o.lines]
        number = split.id if split is not None else o.id
        return {
            "id": gid("FulfillmentOrder", number),
            "status": "CLOSED" if closed else "OPEN",
            "deliveryMethod": {"methodType": o.method or ("PICK_UP" if o.pickup else "SHIPPING")},
            "assignedLocation": {"location": {"id": split.location if split is not None else o.location}},
            "lineItems": lambda args: _connection(
                lines, args, lambda entry: self._fulfillment_line_node(entry, number, closed)
            ),
        }

    def _fulfillment_line_node(self, entry: tuple[int, int], fo_number: int, closed: bool) -> Obj:
        line_id, qty = entry
        line = next(line for o in self.orders.values() for line in o.lines if line.id == line_id)
        return {
            "id": gid("FulfillmentOrderLineItem", fo_number * 1000 + line_id),
            "lineItem": {"id": gid("LineItem", line_id), "sku": self.variants[line.variant_id].sku},
            "totalQuantity": qty,
            "remainingQuantity": 0 if closed else qty,
        }

    def _fulfillment_order(self, fo_gid: Any) -> tuple[Order, Split | None] | None:
        """The order (and split) a fulfillment order id names."""
        number = _num(fo_gid, "FulfillmentOrder") or 0
        for order in self.orders.values():
            for split in order.splits:
                if split.id == number:
                    return order, split
        whole = self.orders.get(number)
        return None if whole is None or whole.splits else (whole, None)

    # mutations

    def _idempotent(self, f: Field, version: str, required: bool, apply: Callable[[], Obj]) -> Obj:
        key = f.directives.get("idempotent", {}).get("key")
        if key is None:
            if required and version >= "2026-04":
                raise GraphQLError(
                    f"The @idempotent directive is required for {f.name} from API version 2026-04"
                )
            return self._all_or_nothing(apply)
        fingerprint = json.dumps(f.args, sort_keys=True)
        seen = self.idempotency.get(str(key))
        if seen is not None:
            if seen.fingerprint != fingerprint:
                return _failed(
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                    "The same idempotency key cannot be used with different operation parameters.",
                )
            if seen.failed:
                return _failed(
                    "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                    "A previous request with this idempotency key failed. Retry with a new idempotency key.",
                )
            return seen.result
        result = self._all_or_nothing(apply)
        self.idempotency[str(key)] = Idempotent(fingerprint, result, bool(result["userErrors"]))
        return result

    def _all_or_nothing(self, apply: Callable[[], Obj]) -> Obj:
        snapshot = {v.id: (v.available, v.committed, v.updated) for v in self.variants.values()}
        result = apply()
        if result["userErrors"]:
            for vid, (available, committed, updated) in snapshot.items():
                variant = self.variants[vid]
                variant.available, variant.committed, variant.updated = available, committed, updated
            result["inventoryAdjustmentGroup"] = None
        return result

    def _adjust(self, f: Field, version: str) -> Obj:
        payload = f.args.get("input") or {}
        return self._idempotent(f, version, True, lambda: self._apply(payload, "changes", relative=True))

    def _set(self, f: Field, version: str) -> Obj:
        payload = f.args.get("input") or {}
        if version >= "2026-04" and any(
            "changeFromQuantity" not in q for q in payload.get("quantities") or []
        ):
            raise GraphQLError(
                "changeFromQuantity is required for each quantity from 2026-04 (pass null to opt out)"
            )
        return self._idempotent(f, version, False, lambda: self._apply(payload, "quantities", relative=False))

    def _apply(self, payload: Obj, list_name: str, *, relative: bool) -> Obj:
        size = len(payload.get(list_name) or [])
        if size > MAX_INPUT:  # refused as a whole, before anything is applied
            raise GraphQLError(
                f"The input array size of {size} is greater than the maximum allowed of {MAX_INPUT}."
            )
        errors, changes = [], []
        if payload.get("reason") not in REASONS:
            errors.append(
                UserError("INVALID_REASON", ["input", "reason"], "The specified reason is invalid.").body
            )
        if payload.get("name") != "available":
            errors.append(
                UserError("INVALID_NAME", ["input", "name"], "The simulator only tracks 'available'.").body
            )
        for index, entry in enumerate(payload.get(list_name) or []):
            try:
                changes.append(self._apply_one(entry, ["input", list_name, str(index)], relative=relative))
            except UserError as exc:
                errors.append(exc.body)
        group = {
            "createdAt": _stamp(now_s()),
            "reason": payload.get("reason"),
            "changes": changes,
            "referenceDocumentUri": payload.get("referenceDocumentUri"),
        }
        return {"inventoryAdjustmentGroup": group, "userErrors": errors}

    def _apply_one(self, entry: Obj, path: list[str], *, relative: bool) -> Obj:
        item = _num(entry.get("inventoryItemId"), "InventoryItem")
        variant = next((v for v in self.variants.values() if v.item_id == item), None)
        if variant is None:
            raise UserError(
                "INVALID_INVENTORY_ITEM",
                [*path, "inventoryItemId"],
                "The specified inventory item could not be found.",
            )
        if entry.get("locationId") != LOCATION:
            raise UserError(
                "INVALID_LOCATION", [*path, "locationId"], "The specified location could not be found."
            )
        if not variant.stocked:
            raise UserError(
                "ITEM_NOT_STOCKED_AT_LOCATION",
                [*path, "inventoryItemId"],
                "The inventory item is not stocked at the location.",
            )
        expected = entry.get("changeFromQuantity")
        if expected is not None and expected != variant.available:
            raise UserError(
                "CHANGE_FROM_QUANTITY_STALE",
                [*path, "changeFromQuantity"],
                "The changeFromQuantity value does not match persisted value.",
            )
        target = (
            variant.available + int(entry.get("delta") or 0) if relative else int(entry.get("quantity") or 0)
        )
        if not relative and target < 0:
            raise UserError(
                "INVALID_QUANTITY_NEGATIVE", [*path, "quantity"], "The quantity can't be negative."
            )
        if target > 1_000_000_000:
            raise UserError(
                "INVALID_QUANTITY_TOO_HIGH",
                [*path, "quantity"],
                "The total quantity can't be higher than 1,000,000,000.",
            )
        delta = target - variant.available
        variant.available = target
        variant.updated = now_s()
        self._fire("inventory_levels/update", {"inventory_item_id": variant.item_id, "available": target})
        return {
            "name": "available",
            "delta": delta,
            "quantityAfterChange": target,
            "item": {"id": gid("InventoryItem", variant.item_id), "sku": variant.sku},
            "location": {"id": LOCATION},
        }

    def _order_update(self, f: Field, version: str) -> Obj:
        """`orderUpdate(input: {id, customAttributes})`: the attributes are replaced as a whole."""
        data = f.args.get("input") or {}
        order = self.orders.get(_num(data.get("id"), "Order") or 0)
        if order is None:
            return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
        if "customAttributes" in data:
            order.attributes = [(str(a["key"]), str(a["value"])) for a in data["customAttributes"] or []]
        if "note" in data:
            order.note = str(data["note"] or "")
        order.updated = now_s()
        return {"order": {"id": gid("Order", order.id)}, "userErrors": []}

    def _prepared(self, f: Field, version: str) -> Obj:
        """Marks fulfillment orders ready for pickup; Shopify then sends the "ready for pickup" mail."""
        groups = (f.args.get("input") or {}).get("lineItemsByFulfillmentOrder") or []
        for group in groups:
            found = self._fulfillment_order(group.get("fulfillmentOrderId"))
            order: Order | None = found[0] if found is not None else None
            if order is None or order.fulfilled or order.cancelled or not order.pickup:
                message = "Fulfillment order is not an open local pickup."
                return {"userErrors": [{"field": ["input"], "message": message}]}
            order.prepared_for_pickup = True
            order.notifications.append("ready_for_pickup")
            order.updated = now_s()
        return {"userErrors": []}

    def _fulfill(self, f: Field, version: str) -> Obj:
        groups = (f.args.get("fulfillment") or {}).get("lineItemsByFulfillmentOrder") or []
        fulfilled = []
        for group in groups:
            found = self._fulfillment_order(group.get("fulfillmentOrderId"))
            if found is None or found[0].fulfilled or found[0].cancelled or (found[1] and found[1].closed):
                message = "Fulfillment order does not exist or is not open."
                return {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": message}]}
            fulfilled.append(found)
        for order, split in fulfilled:
            order.updated = now_s()
            if split is None:
                order.fulfilled = True
                taken = [(line.variant_id, line.qty) for line in order.lines]
            else:
                split.closed = True
                order.fulfilled = all(s.closed for s in order.splits)
                by_id = {line.id: line.variant_id for line in order.lines}
                taken = [(by_id[i], qty) for i, qty in split.lines] if split.location == LOCATION else []
            for variant_id, qty in taken:
                self.variants[variant_id].committed -= qty
            self._fire(
                "orders/fulfilled" if order.fulfilled else "orders/partially_fulfilled",
                self._order_rest(order),
            )
        number = next(self._ids)
        return {"fulfillment": {"id": gid("Fulfillment", number), "status": "SUCCESS"}, "userErrors": []}

    def _draft_create(self, f: Field, version: str) -> Obj:
        """`draftOrderCreate(input:)`: lines by `variantId` (an unknown one is a userError naming its index),
        note, tags, customAttributes, phone, shippingAddress. Nothing is reserved yet."""
        data = f.args.get("input") or {}
        lines = data.get("lineItems") or []
        if not lines:
            return {
                "draftOrder": None,
                "userErrors": [{"field": ["lineItems"], "message": "Add at least 1 product"}],
            }
        for index, line in enumerate(lines):
            if self.variants.get(_num(line.get("variantId"), "ProductVariant") or 0) is None:
                message = "Product with ID could not be found"
                return {
                    "draftOrder": None,
                    "userErrors": [{"field": ["lineItems", str(index), "variantId"], "message": message}],
                }
            if not isinstance(line.get("quantity"), int) or line["quantity"] < 1:
                message = "Quantity must be greater than or equal to 1"
                return {
                    "draftOrder": None,
                    "userErrors": [{"field": ["lineItems", str(index), "quantity"], "message": message}],
                }
        draft = Draft(next(self._ids), data)
        self.drafts[draft.id] = draft
        return {"draftOrder": {"id": gid("DraftOrder", draft.id)}, "userErrors": []}

    def _draft_complete(self, f: Field, version: str) -> Obj:
        """`draftOrderComplete(id:, paymentPending: true)`: the draft becomes an order with the whole amount
        outstanding (PENDING); its units move to `committed`; orders/create fires. Completing a completed
        draft is a userError."""
        draft = self.drafts.get(_num(f.args.get("id"), "DraftOrder") or 0)
        if draft is None or draft.order_id is not None:
            message = "Draft order does not exist" if draft is None else "This order has been paid"
            return {"draftOrder": None, "userErrors": [{"field": ["id"], "message": message}]}
        data = draft.input
        lines = []
        for line in data["lineItems"]:
            variant = self.variants[_num(line["variantId"], "ProductVariant") or 0]
            variant.available -= line["quantity"]
            variant.committed += line["quantity"]
            variant.updated = now_s()
            properties = [(str(a["key"]), str(a["value"])) for a in line.get("customAttributes") or []]
            lines.append(Line(next(self._ids), variant.id, line["quantity"], properties))
        address = {
            k: str(v)
            for k, v in (data.get("shippingAddress") or {}).items()
            if k in ("address1", "address2", "zip", "city", "phone") and v
        }
        order = Order(next(self._ids), 0, lines, False, "", now_s(), now_s())
        order.number = order.id
        order.note, order.phone, order.address = (
            str(data.get("note") or ""),
            str(data.get("phone") or ""),
            address,
        )
        order.attributes = [(str(a["key"]), str(a["value"])) for a in data.get("customAttributes") or []]
        order.tags = [str(t) for t in data.get("tags") or []]
        order.payment_pending = bool(f.args.get("paymentPending"))
        order.paid = not order.payment_pending
        order.method = "" if address else "NONE"
        self.orders[order.id] = order
        draft.order_id = order.id
        self._fire("orders/create", self._order_rest(order))
        return {
            "draftOrder": {"id": gid("DraftOrder", draft.id), "order": {"id": gid("Order", order.id)}},
            "userErrors": [],
        }

    # webhooks

    def _fire(self, topic: str, payload: Obj) -> None:
        body = json.dumps(payload).encode()  # a snapshot taken when the event happens
        event_id = secrets.token_hex(8)
        for wanted, url in self.subscriptions:
            if wanted == topic:
                headers = {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": topic,
                    "X-Shopify-Hmac-Sha256": sign(body, self.client_secret),
                    "X-Shopify-Shop-Domain": "tillbridge-sim.myshopify.com",
                    "X-Shopify-API-Version": self.api_version,
                    "X-Shopify-Webhook-Id": secrets.token_hex(8),
                    "X-Shopify-Event-Id": event_id,
                    "X-Shopify-Triggered-At": _stamp(now_s()),
                }
                build: Callable[[], tuple[dict[str, str], bytes]] = functools.partial(_fixed, headers, body)
                self._sender.send(Delivery(url, build, retries=self.webhook_retries))

    def _order_rest(self, o: Order) -> Obj:
        node = self._order_node(o)
        first, _, last = o.customer.partition(" ")
        lines = []
        for line in o.lines:
            item = self._line_node(line)
            lines.append(
                {
                    "id": line.id,
                    "admin_graphql_api_id": item["id"],
                    "sku": item["sku"],
                    "name": item["name"],
                    "quantity": line.qty,
                    "price": item["originalUnitPriceSet"]["shopMoney"]["amount"],
                }
            )
        return {
            "id": o.id,
            "admin_graphql_api_id": node["id"],
            "name": node["name"],
            "created_at": node["createdAt"],
            "updated_at": node["updatedAt"],
            "cancelled_at": node["cancelledAt"],
            "financial_status": node["displayFinancialStatus"].lower(),
            "fulfillment_status": "fulfilled" if o.fulfilled else None,
            "currency": "EUR",
            "total_price": node["totalPriceSet"]["shopMoney"]["amount"],
            "customer": {"first_name": first, "last_name": last},
            "line_items": lines,
        }

    def _product_rest(self, p: Product) -> Obj:
        variants = [self.variants[i] for i in p.variant_ids]
        return {
            "id": p.id,
            "admin_graphql_api_id": gid("Product", p.id),
            "title": p.title,
            "updated_at": _stamp(p.updated),
            "variants": [
                {
                    "id": v.id,
                    "sku": v.sku,
                    "barcode": v.barcode,
                    "title": v.title,
                    "price": decimal(v.price_cents),
                    "inventory_item_id": v.item_id,
                    "updated_at": _stamp(v.updated),
                }
                for v in variants
            ],
        }


def _metafield(metafields: dict[str, str], args: Obj) -> Obj | None:
    """`metafield(namespace:, key:)`, or `key: "namespace.key"` alone; null when the item has none."""
    key = str(args.get("key", ""))
    full = f"{args['namespace']}.{key}" if args.get("namespace") else key
    value = metafields.get(full)
    return None if value is None else {"namespace": full.rpartition(".")[0], "key": key, "value": value}


def _draft_facts(d: Draft) -> Obj:
    tags = [str(t) for t in d.input.get("tags") or []]
    return {"id": str(d.id), "tag": tags, "status": "open" if d.order_id is None else "completed"}


def _draft_node(d: Draft) -> Obj:
    return {
        "id": gid("DraftOrder", d.id),
        "status": "OPEN" if d.order_id is None else "COMPLETED",
        "customAttributes": [
            {"key": str(a["key"]), "value": str(a["value"])} for a in d.input.get("customAttributes") or []
        ],
        "order": None if d.order_id is None else {"id": gid("Order", d.order_id)},
    }


def _fixed(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    return headers, body


def _failed(code: str, message: str) -> Obj:
    return {
        "inventoryAdjustmentGroup": None,
        "userErrors": [{"code": code, "field": None, "message": message}],
    }


def _connection(found: list[Any], args: Obj, render: Callable[[Any], Obj]) -> Obj:
    first = args.get("first")
    if not isinstance(first, int) or not 0 < first <= MAX_PAGE:
        raise GraphQLError(f"first must be between 1 and {MAX_PAGE}")
    start = _cursor_offset(args.get("after"))
    page = found[start : start + first]
    end = start + len(page)
    end_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if page else None
    return {
        "nodes": [render(x) for x in page],
        "pageInfo": {"hasNextPage": end < len(found), "endCursor": end_cursor},
    }


def _cursor_offset(after: Any) -> int:
    if after is None:
        return 0
    try:
        return int(base64.b64decode(str(after)).decode().removeprefix("offset:"))
    except ValueError as exc:
        raise GraphQLError(f"Invalid cursor {after!r}") from exc


_TERM: Final = re.compile(r"""(OR|AND)|(\w+):(>=|<=|>|<)?("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+)""")


def _matches(query: Any, facts: Obj) -> bool:
    """Shopify's search syntax, the part the connector uses: `field:value`, `field:>'time'`, AND binding
    tighter than OR. Values are compared as text (times are all UTC ISO 8601, so that orders correctly).
    """
    if not query:
        return True
    groups: list[list[tuple[str, str, str]]] = [[]]
    for match in _TERM.finditer(str(query)):
        if match.group(1) == "OR":
            groups.append([])
        elif match.group(2):
            value = match.group(4)
            if value[0] in "'\"":
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            groups[-1].append((match.group(2), match.group(3) or "=", value))
    return any(group and all(_term(facts, *term) for term in group) for group in groups)


def _term(facts: Obj, name: str, op: str, value: str) -> bool:
    have = facts.get(name)
    if have is None:
        return False
    if isinstance(have, list):  # `tag:x`: one of the tags
        return op == "=" and value in have
    if name.endswith("_at"):
        value = value.replace("+00:00", "Z")
    return bool(
        {
            "=": have == value,
            ">": have > value,
            ">=": have >= value,
            "<": have < value,
            "<=": have <= value,
        }[op]
    )
