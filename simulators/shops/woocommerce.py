"""A WooCommerce shop speaking REST API v3 (`/wp-json/wc/v3`), for tests and the demo.

Modelled, as documented: consumer key/secret by HTTP Basic or `consumer_key`/`consumer_secret` query
parameters; products and variations looked up by a comma-separated `sku` list (v3 returns variations too);
absolute `stock_quantity` writes, ignored when `manage_stock` is false; `products/batch` and
`variations/batch` limited to 100 objects (413 `woocommerce_rest_request_entity_too_large`) and answering
200 with per-item errors; `per_page` ≤ 100 (400 above) with `X-WP-Total`/`X-WP-TotalPages`; strict
`modified_after` with second precision; orders reducing stock when they reach processing/on-hold/completed
and restoring it on cancel; webhooks signed with base64 HMAC-SHA256, a creation ping without signature,
payloads built at delivery time, no retries, disabled after more than 5 consecutive failures.

Not modelled: OAuth 1.0a (Basic is accepted over plain HTTP, which real shops refuse), checkout stock holds,
coupons, taxes and shipping costs, `inventory_delta`, pagination `Link` headers, the wp-cron delay before
webhook delivery, redirect handling, and writes to a variation through `/products/{id}` (refused here;
unverified what real WooCommerce does).
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from simulators.shops.seed import Item, OutOfStock, SeedProduct, decimal, items, now_s
from simulators.shops.server import Request, Response
from simulators.shops.webhooks import Delivery, WebhookSender, WebhookShop, sign

PREFIX: Final = "/wp-json/wc/v3"
BATCH_LIMIT: Final = 100
MAX_PER_PAGE: Final = 100
MAX_WEBHOOK_FAILURES: Final = 5
STOCK_REDUCING: Final = frozenset({"processing", "on-hold", "completed"})
ORDER_STATUSES: Final = frozenset(
    {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"}
)
TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S"


@dataclass
class Product:
    id: int
    name: str
    sku: str
    type: str  # simple, variable or variation
    parent_id: int
    regular_price: str
    manage_stock: bool
    stock_quantity: int | None
    modified: datetime
    variations: list[int] = field(default_factory=list)
    global_unique_id: str = ""  # "GTIN, UPC, EAN or ISBN" (WooCommerce 9.2+), on products and variations
    meta: dict[str, str] = field(default_factory=dict)  # meta_data, where barcode plugins keep theirs
    categories: list[str] = field(default_factory=list)  # category names ("Pizzas", "Bebidas")


@dataclass
class Order:
    id: int
    status: str
    lines: list[dict[str, Any]]
    total_cents: int
    created: datetime
    modified: datetime
    pickup: bool
    customer: str
    stock_reduced: bool = False
    omitted: frozenset[str] = frozenset()  # fields left out of its JSON (a plugin that broke the order)
    paid_online: bool = True  # False: cash on delivery / at pickup (`date_paid_gmt` stays null)
    extra: dict[str, Any] = field(default_factory=dict)  # customer_note, meta_data, shipping, billing.phone
    notes: list[dict[str, Any]] = field(default_factory=list)  # order notes (`customer_note` ones mailed)


@dataclass
class Webhook:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str
    status: str = "active"
    failures: int = 0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status}}


def _stamp(when: datetime) -> str:
    return when.strftime(TIME_FORMAT)


class WooCommerceSimulator(WebhookShop):
    platform = "woocommerce"

    def __init__(
        self,
        seed: Iterable[SeedProduct] | None = None,
        *,
        consumer_key: str = "ck_simulator",
        consumer_secret: str = "cs_simulator",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.products: dict[int, Product] = {}
        self.orders: dict[int, Order] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.rejected_skus: dict[str, tuple[int, str, str]] = {}
        self._ids = itertools.count(101)
        self._sender = WebhookSender("woocommerce")
        for item in items(seed):
            barcode = item.barcodes[0] if item.barcodes else ""
            self.add_product(
                item.sku, item.name, item.price_cents, item.stock, barcode=barcode, meta=_seed_meta(item)
            )

    # --- shop-side actions (what the merchant and the customers do) -----------------------------------

    def add_product(
        self,
        sku: str,
        name: str,
        price_cents: int,
        stock: int | None,
        *,
        barcode: str = "",
        meta: Mapping[str, str] | None = None,
        categories: Sequence[str] = (),
    ) -> int:
        with self.lock:
            product = Product(
                next(self._ids),
                name,
                sku,
                "simple",
                0,
                decimal(price_cents),
                stock is not None,
                stock,
                now_s(),
                global_unique_id=barcode,
                meta=dict(meta or {}),
                categories=list(categories),
            )
            self.products[product.id] = product
            return product.id

    def add_variable_product(
        self, name: str, variations: Sequence[tuple[str, str, int, int]], barcodes: Sequence[str] = ()
    ) -> int:
        """A parent with one variation per (sku, label, price_cents, stock), the i-th with `barcodes[i]` as
        its `global_unique_id`; returns the parent id.
        """
        with self.lock:
            parent = Product(next(self._ids), name, "", "variable", 0, "", False, None, now_s())
            self.products[parent.id] = parent
            for index, (sku, label, price, stock) in enumerate(variations):
                child = Product(
                    next(self._ids),
                    f"{name} - {label}",
                    sku,
                    "variation",
                    parent.id,
                    decimal(price),
                    True,
                    stock,
                    now_s(),
                    global_unique_id=barcodes[index] if index < len(barcodes) else "",
                )
                self.products[child.id] = child
                parent.variations.append(child.id)
            return parent.id

    def stock(self, sku: str) -> int | None:
        with self.lock:
            return self._by_sku(sku).stock_quantity

    def edit_stock(self, sku: str, delta: int) -> int:
        """The merchant changes the number in the shop's admin by `delta`; returns the new number."""
        with self.lock:
            product = self._by_sku(sku)
            product.stock_quantity = (product.stock_quantity or 0) + delta
            self._touch(product)
            return product.stock_quantity

    def set_price(self, sku: str, price_cents: int) -> None:
        with self.lock:
            product = self._by_sku(sku)
            product.regular_price = decimal(price_cents)
            self._touch(product)

    def delete_product(self, sku: str) -> None:
        with self.lock:
            del self.products[self._by_sku(sku).id]

    def reject_writes(self, sku: str, status: int = 400, code: str = "woocommerce_rest_cannot_edit") -> None:
        """Makes every write to `sku` fail as a per-item error (a locked or broken product)."""
        with self.lock:
            self.rejected_skus[sku] = (status, code, "Sorry, you are not allowed to edit this resource.")

    def place_order(
        self, sku: str, qty: int, *, pickup: bool = False, status: str = "processing", customer: str = "Ana"
    ) -> int:
        """A customer's order, paid unless `status` says otherwise; lowers stock as the shop's checkout
        does (refusing with `OutOfStock` when there is not enough); fires `order.created`.
        """
        with self.lock:
            product = self._by_sku(sku)
            self._check_stock(product, qty)
            order_id = next(self._ids)
            line = self._line(product, qty)
            now = now_s()
            order = Order(
                order_id, "pending", [line], _cents(product.regular_price) * qty, now, now, pickup, customer
            )
            self.orders[order_id] = order
            self._set_order_status(order, status)
            self._fire("order.created", order_id)
            return order_id

    def place_food_order(
        self,
        items: Sequence[tuple[str, int, Mapping[str, str]]],
        *,
        pickup: bool = True,
        customer: str = "Ana",
        note: str = "",
        meta: Mapping[str, str] | None = None,
        phone: str = "",
        address: Mapping[str, str] | None = None,
        paid: bool = True,
    ) -> int:
        """A take-away order as a food-ordering plugin makes it: items of (sku, qty, item meta — the
        customer's options, toppings and note, as `meta_data` with `display_key` / `display_value`), the
        customer's note, order meta (the slot plugins' keys), billing phone, shipping address; `paid`
        False is cash on delivery (processing, `date_paid_gmt` null). Fires `order.created`.
        """
        with self.lock:
            lines = [self._food_line(sku, qty, item_meta) for sku, qty, item_meta in items]
            now = now_s()
            total = sum(_cents(self._by_sku(sku).regular_price) * qty for sku, qty, _ in items)
            order = Order(
                next(self._ids), "pending", lines, total, now, now, pickup, customer, paid_online=paid
            )
            order.extra = {
                "customer_note": note,
                "meta_data": [
                    {"id": i, "key": k, "value": v} for i, (k, v) in enumerate((meta or {}).items(), 1)
                ],
                "phone": phone,
                "shipping": dict(address or {}),
                "payment_method": "stripe" if paid else "cod",
            }
            self.orders[order.id] = order
            self._set_order_status(order, "processing")
            self._fire("order.created", order.id)
            return order.id

    def _food_line(self, sku: str, qty: int, item_meta: Mapping[str, str]) -> dict[str, Any]:
        product = self._by_sku(sku)
        self._check_stock(product, qty)
        return self._line(product, qty) | {
            "meta_data": [
                {"id": i, "key": k, "value": v, "display_key": k, "display_value": v}
                for i, (k, v) in enumerate(item_meta.items(), 1)
            ],
        }

    @staticmethod
    def _check_stock(product: Product, qty: int) -> None:
        """What the shop's checkout refuses: more units than a stock-managed product has."""
        if product.manage_stock and (product.stock_quantity or 0) < qty:
            raise OutOfStock(
                f"woocommerce simulator: {qty} × {product.sku} wanted, {product.stock_quantity} in stock"
            )

    def _line(self, product: Product, qty: int) -> dict[str, Any]:
        """An order line as the REST API shows it, at the product's regular price."""
        price = _cents(product.regular_price)
        return {
            "id": next(self._ids),
            "name": product.name,
            "product_id": product.parent_id or product.id,
            "variation_id": product.id if product.parent_id else 0,
            "quantity": qty,
            "sku": product.sku,
            "price": float(product.regular_price),
            "subtotal": decimal(price * qty),
            "total": decimal(price * qty),
            "total_tax": "0.00",
        }

    def order_notes(self, order_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(n) for n in self.orders[order_id].notes]

    def cancel_order(self, order_id: int) -> None:
        with self.lock:
            self._set_order_status(self.orders[order_id], "cancelled")
            self._fire("order.updated", order_id)

    def damage_order(self, order_id: int, *fields: str) -> None:
        """The order's JSON loses `fields` (as a broken plugin or a hand-edited database does), or gets
        them back when none are named; either way the order counts as modified.
        """
        with self.lock:
            order = self.orders[order_id]
            order.omitted = frozenset(fields)
            order.modified = now_s()

    def order_status(self, order_id: int) -> str:
        with self.lock:
            return self.orders[order_id].status

    def webhook_status(self, webhook_id: int) -> str:
        with self.lock:
            return self.webhooks[webhook_id].status

    # --- HTTP ------------------------------------------------------------------------------------------

    def label(self, request: Request) -> str:
        path = re.sub(r"/\d+", "/{id}", request.path.removeprefix(PREFIX))
        return f"{request.method} {path}"

    def route(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            path = request.path.removeprefix(PREFIX)
            if path == request.path:
                raise ApiError(
                    404, "rest_no_route", "No route was found matching the URL and request method."
                )
            return self._dispatch(request, path)
        except ApiError as exc:
            return Response.of_json(exc.status, exc.body())

    def _dispatch(self, request: Request, path: str) -> Response:
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", r"/products", self._list_products),
            ("POST", r"/products/batch", self._batch_products),
            ("GET", r"/products/(\d+)", self._get_product),
            ("PUT", r"/products/(\d+)", self._put_product),
            ("GET", r"/products/(\d+)/variations", self._list_variations),
            ("POST", r"/products/(\d+)/variations/batch", self._batch_variations),
            ("PUT", r"/products/(\d+)/variations/(\d+)", self._put_variation),
            ("GET", r"/orders", self._list_orders),
            ("GET", r"/orders/(\d+)", self._get_order),
            ("PUT", r"/orders/(\d+)", self._put_order),
            ("POST", r"/orders", self._create_order),
            ("GET", r"/orders/(\d+)/notes", self._list_notes),
            ("POST", r"/orders/(\d+)/notes", self._add_note),
            ("POST", r"/webhooks", self._create_webhook),
            ("GET", r"/webhooks/(\d+)", self._get_webhook),
            ("PUT", r"/webhooks/(\d+)", self._put_webhook),
        ]
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                return handler(request, *(int(g) for g in match.groups()))
        raise ApiError(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _authenticate(self, request: Request) -> None:
        key, secret = request.arg("consumer_key"), request.arg("consumer_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                key = secret = ""
        if key is None:
            raise ApiError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if not secrets.compare_digest(key, self.consumer_key):
            raise ApiError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not secrets.compare_digest(secret or "", self.consumer_secret):
            raise ApiError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")

    # products

    def _list_products(self, request: Request) -> Response:
        skus, include = request.arg("sku"), request.arg("include")
        if include:
            ids = {int(x) for x in include.split(",") if x.strip().isdigit()}
            found = [p for p in self.products.values() if p.id in ids]
        elif skus:
            wanted = set(skus.split(","))
            found = [p for p in self.products.values() if p.sku and p.sku in wanted]
        else:
            found = [p for p in self.products.values() if p.type != "variation"]
        return self._page(request, self._modified_after(request, found), self._product_json)

    def _list_variations(self, request: Request, parent_id: int) -> Response:
        parent = self._product(parent_id)
        children = [self.products[i] for i in parent.variations if i in self.products]
        return self._page(request, self._modified_after(request, children), self._product_json)

    def _get_product(self, request: Request, product_id: int) -> Response:
        return Response.of_json(200, self._fields(request, self._product_json(self._product(product_id))))

    def _put_product(self, request: Request, product_id: int) -> Response:
        product = self._product(product_id)
        if product.type == "variation":
            raise ApiError(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        self._update(product, _json_object(request))
        return Response.of_json(200, self._product_json(product))

    def _put_variation(self, request: Request, parent_id: int, variation_id: int) -> Response:
        variation = self._variation(parent_id, variation_id)
        self._update(variation, _json_object(request))
        return Response.of_json(200, self._product_json(variation))

    def _batch_products(self, request: Request) -> Response:
        return self._batch(request, lambda pid: self._product(pid, allow_variation=False))

    def _batch_variations(self, request: Request, parent_id: int) -> Response:
        self._product(parent_id)
        return self._batch(request, lambda vid: self._variation(parent_id, vid))

    def _batch(self, request: Request, find: Callable[[int], Product]) -> Response:
        body = _json_object(request)
        lists = {name: body.get(name) or [] for name in ("create", "update", "delete")}
        if any(not isinstance(v, list) for v in lists.values()):
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): create, update, delete")
        if sum(len(v) for v in lists.values()) > BATCH_LIMIT:
            raise ApiError(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            )
        updated = [self._batch_update(find, entry) for entry in lists["update"]]
        return Response.of_json(200, {"create": [], "update": updated, "delete": []})

    def _batch_update(self, find: Callable[[int], Product], entry: Any) -> dict[str, Any]:
        raw_id = entry.get("id") if isinstance(entry, dict) else None
        try:
            if not isinstance(raw_id, int):
                raise ApiError(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            product = find(raw_id)
            self._update(product, entry)
            return self._product_json(product)
        except ApiError as exc:
            return {"id": raw_id if isinstance(raw_id, int) else 0, "error": exc.body()}

    def _update(self, product: Product, changes: dict[str, Any]) -> None:
        if product.sku in self.rejected_skus:
            raise ApiError(*self.rejected_skus[product.sku])
        quantity = changes.get("stock_quantity", product.stock_quantity)
        if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool)):
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): stock_quantity")
        if "manage_stock" in changes:
            product.manage_stock = bool(changes["manage_stock"])
        if product.manage_stock:
            product.stock_quantity = quantity
        if isinstance(changes.get("regular_price"), str):
            product.regular_price = changes["regular_price"]
        if isinstance(changes.get("name"), str):
            product.name = changes["name"]
        self._touch(product)

    def _touch(self, product: Product) -> None:
        product.modified = now_s()
        self._fire("product.updated", product.id)

    def _product(self, product_id: int, *, allow_variation: bool = True) -> Product:
        product = self.products.get(product_id)
        if product is None or (product.type == "variation" and not allow_variation):
            raise ApiError(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return product

    def _variation(self, parent_id: int, variation_id: int) -> Product:
        variation = self.products.get(variation_id)
        if variation is None or variation.parent_id != parent_id:
            raise ApiError(400, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
        return variation

    def _sku_in_order(self, sku: str) -> Product:
        """An order's line names a product the shop does not have: refused as WooCommerce refuses an
        unknown product (400, the order not created), never a server error that invites retries."""
        try:
            return self._by_sku(sku)
        except KeyError:
            raise ApiError(400, "woocommerce_rest_product_invalid_id", "Invalid ID.") from None

    def _by_sku(self, sku: str) -> Product:
        for product in self.products.values():
            if product.sku == sku:
                return product
        raise KeyError(f"woocommerce simulator: no product with sku {sku!r}")

    def _product_json(self, p: Product) -> dict[str, Any]:
        in_stock = not p.manage_stock or (p.stock_quantity or 0) > 0
        return {
            "id": p.id,
            "name": p.name,
            "type": p.type,
            "status": "publish",
            "sku": p.sku,
            "parent_id": p.parent_id,
            "price": p.regular_price,
            "regular_price": p.regular_price,
            "sale_price": "",
            "date_modified": _stamp(p.modified),
            "date_modified_gmt": _stamp(p.modified),
            "manage_stock": p.manage_stock,
            "stock_quantity": p.stock_quantity if p.manage_stock else None,
            "stock_status": "instock" if in_stock else "outofstock",
            "backorders": "no",
            "variations": list(p.variations),
            "global_unique_id": p.global_unique_id,
            "meta_data": [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate(p.meta.items(), 1)],
            "categories": [
                {"id": 100 + i, "name": name, "slug": name.lower()} for i, name in enumerate(p.categories)
            ],
        }

    # orders

    def _list_orders(self, request: Request) -> Response:
        orderby = request.arg("orderby", "date")
        if orderby not in ("date", "id", "modified", "include", "title", "slug"):
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        found = list(self.orders.values())
        if request.arg("status") not in (None, "any"):
            found = [o for o in found if o.status in (request.arg("status") or "").split(",")]
        key: Callable[[Order], Any] = {
            "modified": lambda o: (o.modified, o.id),
            "id": lambda o: o.id,
        }.get(orderby or "", lambda o: (o.created, o.id))
        found.sort(key=key, reverse=request.arg("order", "desc") == "desc")
        return self._page(request, self._modified_after(request, found), self._order_json)

    def _get_order(self, request: Request, order_id: int) -> Response:
        return Response.of_json(200, self._order_json(self._order(order_id)))

    def _add_note(self, request: Request, order_id: int) -> Response:
        """`POST /orders/<id>/notes {"note", "customer_note"}`: a customer note is mailed to the customer."""
        order = self._order(order_id)
        body = _json_object(request)
        text = body.get("note")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): note")
        note = {
            "id": next(self._ids),
            "note": text,
            "customer_note": bool(body.get("customer_note")),
            "date_created_gmt": _stamp(now_s()),
        }
        order.notes.append(note)
        return Response.of_json(201, note)

    def _list_notes(self, request: Request, order_id: int) -> Response:
        return Response.of_json(200, [dict(n) for n in reversed(self._order(order_id).notes)])

    def _create_order(self, request: Request) -> Response:
        """`POST /orders`: line_items by `sku` or `product_id` with `quantity` and `meta_data`, billing,
        shipping, shipping_lines, customer_note, meta_data, `set_paid`, `status` (default pending)."""
        body = _json_object(request)
        items = body.get("line_items")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): line_items")
        lines = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("quantity"), int):
                raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): line_items")
            product = (
                self._sku_in_order(str(item.get("sku")))
                if item.get("sku")
                else self._product(int(item.get("product_id") or 0))
            )
            meta = {
                str(m.get("key")): str(m.get("value"))
                for m in item.get("meta_data") or []
                if isinstance(m, dict)
            }
            lines.append(self._food_line(product.sku, item["quantity"], meta))
        billing: dict[str, Any] = body["billing"] if isinstance(body.get("billing"), dict) else {}
        methods = [x.get("method_id") for x in body.get("shipping_lines") or [] if isinstance(x, dict)]
        total = sum(_cents(str(line["total"])) for line in lines)
        name = " ".join(filter(None, (billing.get("first_name"), billing.get("last_name"))))
        paid = bool(body.get("set_paid"))
        now = now_s()
        order = Order(
            next(self._ids),
            "pending",
            lines,
            total,
            now,
            now,
            "local_pickup" in methods,
            name,
            paid_online=paid,
        )
        order.extra = {
            "customer_note": str(body.get("customer_note") or ""),
            "meta_data": [
                {"id": i, "key": m.get("key"), "value": m.get("value")}
                for i, m in enumerate(body.get("meta_data") or [], 1)
                if isinstance(m, dict)
            ],
            "phone": str(billing.get("phone") or ""),
            "shipping": body.get("shipping") if isinstance(body.get("shipping"), dict) else {},
            "payment_method": str(body.get("payment_method") or ("" if paid else "cod")),
        }
        self.orders[order.id] = order
        status = body.get("status") or ("processing" if paid else "pending")
        if status not in ORDER_STATUSES:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status")
        self._set_order_status(order, status)
        self._fire("order.created", order.id)
        return Response.of_json(201, self._order_json(order))

    def _put_order(self, request: Request, order_id: int) -> Response:
        order = self._order(order_id)
        status = _json_object(request).get("status")
        if status is not None:
            if status not in ORDER_STATUSES:
                raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status")
            self._set_order_status(order, status)
            self._fire("order.updated", order.id)
        return Response.of_json(200, self._order_json(order))

    def _set_order_status(self, order: Order, status: str) -> None:
        reduce = status in STOCK_REDUCING
        if reduce != order.stock_reduced and status not in ("refunded",):
            for line in order.lines:
                product = self.products.get(line["variation_id"] or line["product_id"])
                if product is not None and product.manage_stock:
                    sign = -1 if reduce else 1
                    product.stock_quantity = (product.stock_quantity or 0) + sign * line["quantity"]
                    self._touch(product)
            order.stock_reduced = reduce
        order.status = status
        order.modified = now_s()

    def _order(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return order

    def _order_json(self, o: Order) -> dict[str, Any]:
        paid = o.status in ("processing", "completed") and (o.paid_online or o.status == "completed")
        first, _, last = o.customer.partition(" ")
        method = "local_pickup" if o.pickup else "flat_rate"
        shown = {
            "id": o.id,
            "number": str(o.id),
            "status": o.status,
            "currency": "EUR",
            "total": decimal(o.total_cents),
            "date_created": _stamp(o.created),
            "date_created_gmt": _stamp(o.created),
            "date_modified": _stamp(o.modified),
            "date_modified_gmt": _stamp(o.modified),
            "date_paid_gmt": _stamp(o.created) if paid else None,
            "billing": {"first_name": first, "last_name": last, "phone": o.extra.get("phone", "")},
            "shipping": o.extra.get("shipping") or {},
            "customer_note": o.extra.get("customer_note", ""),
            "payment_method": o.extra.get("payment_method", "stripe"),
            "meta_data": list(o.extra.get("meta_data") or []),
            "line_items": [dict(line) for line in o.lines],
            "shipping_lines": [
                {"id": o.id * 10, "method_id": method, "method_title": method, "total": "0.00"}
            ],
        }
        return {k: v for k, v in shown.items() if k not in o.omitted}

    # paging and filters

    def _modified_after(self, request: Request, found: list[Any]) -> list[Any]:
        after = request.arg("modified_after")
        if not after:
            return found
        try:
            bound = datetime.fromisoformat(after.removesuffix("Z")).replace(tzinfo=None)
        except ValueError as exc:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): modified_after") from exc
        return [x for x in found if x.modified.replace(tzinfo=None) > bound]

    def _page(self, request: Request, found: list[Any], render: Callable[[Any], dict[str, Any]]) -> Response:
        try:
            per_page = int(request.arg("per_page", "10") or "10")
            page = int(request.arg("page", "1") or "1")
        except ValueError as exc:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): per_page, page") from exc
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        chunk = found[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(-(-len(found) // per_page))}
        return Response.of_json(200, [self._fields(request, render(x)) for x in chunk], headers)

    @staticmethod
    def _fields(request: Request, obj: dict[str, Any]) -> dict[str, Any]:
        wanted = request.arg("_fields")
        if not wanted:
            return obj
        names = set(wanted.split(","))
        return {k: v for k, v in obj.items() if k in names}

    # webhooks

    def _create_webhook(self, request: Request) -> Response:
        body = _json_object(request)
        topic, url = body.get("topic"), body.get("delivery_url")
        if not isinstance(topic, str) or not isinstance(url, str) or "." not in topic:
            raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): topic, delivery_url")
        secret = body.get("secret") if isinstance(body.get("secret"), str) else secrets.token_hex(16)
        hook = Webhook(next(self._ids), str(body.get("name", "")), topic, url, str(secret))
        self.webhooks[hook.id] = hook
        ping = f"webhook_id={hook.id}".encode()
        self._sender.send(
            Delivery(url, lambda: ({"Content-Type": "application/x-www-form-urlencoded"}, ping))
        )
        return Response.of_json(201, self._webhook_json(hook))

    def _get_webhook(self, request: Request, hook_id: int) -> Response:
        return Response.of_json(200, self._webhook_json(self._webhook(hook_id)))

    def _put_webhook(self, request: Request, hook_id: int) -> Response:
        hook = self._webhook(hook_id)
        status = _json_object(request).get("status")
        if status in ("active", "paused", "disabled"):
            hook.status = str(status)
            hook.failures = 0 if status == "active" else hook.failures
        return Response.of_json(200, self._webhook_json(hook))

    def _webhook(self, hook_id: int) -> Webhook:
        if hook_id not in self.webhooks:
            raise ApiError(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
        return self.webhooks[hook_id]

    @staticmethod
    def _webhook_json(hook: Webhook) -> dict[str, Any]:
        return {
            "id": hook.id,
            "name": hook.name,
            "status": hook.status,
            "topic": hook.topic,
            "resource": hook.topic.split(".")[0],
            "event": hook.topic.split(".")[-1],
            "delivery_url": hook.delivery_url,
            "secret": hook.secret,
        }

    def _fire(self, topic: str, resource_id: int) -> None:
        for hook in list(self.webhooks.values()):
            if hook.status == "active" and hook.topic == topic:
                build = functools.partial(self._webhook_payload, hook, resource_id)
                done = functools.partial(self._delivered, hook)
                self._sender.send(Delivery(hook.delivery_url, build, on_result=done))

    def _webhook_payload(self, hook: Webhook, resource_id: int) -> tuple[dict[str, str], bytes] | None:
        """Built when sent, from the resource as it is then (WooCommerce's documented behaviour)."""
        resource, event = hook.topic.split(".", 1)
        with self.lock:
            if hook.status != "active":
                return None
            if resource == "order" and resource_id in self.orders:
                payload = self._order_json(self.orders[resource_id])
            elif resource == "product" and resource_id in self.products:
                payload = self._product_json(self.products[resource_id])
            else:
                payload = {"id": resource_id}
        body = json.dumps(payload).encode()
        return {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": "http://shop.example/",
            "X-WC-Webhook-Topic": hook.topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(body, hook.secret),
            "X-WC-Webhook-ID": str(hook.id),
            "X-WC-Webhook-Delivery-ID": secrets.token_hex(8),
        }, body

    def _delivered(self, hook: Webhook, ok: bool) -> None:
        with self.lock:
            hook.failures = 0 if ok else hook.failures + 1
            if hook.failures > MAX_WEBHOOK_FAILURES:
                hook.status = "disabled"


def _seed_meta(item: Item) -> dict[str, str]:
    """A second barcode in the `_ean` meta a barcode plugin keeps, a unit in `_unit`."""
    meta = {"_ean": item.barcodes[1]} if len(item.barcodes) > 1 else {}
    return meta | ({"_unit": item.unit} if item.unit != "each" else {})


def _cents(price: str) -> int:
    units, _, rest = price.partition(".")
    return int(units or "0") * 100 + int((rest + "00")[:2])


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json() if request.body else {}
    except ValueError as exc:
        raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return body
