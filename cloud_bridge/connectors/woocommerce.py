"""WooCommerce through REST API v3 (`/wp-json/wc/v3`).

Stock writes are absolute `stock_quantity` values in `products/batch` (and `variations/batch` per parent),
at most 100 per request; WooCommerce answers 200 with an error object per failed item, reported on that
item. There are no atomic deltas and no compare-and-swap: the bridge reads, computes and writes with a
short window and corrects races from the orders feed. Webhooks are hints: the payload is the resource at
delivery time, deliveries are never retried, so `orders_since` (on `modified_after`) is the safety net.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from cloud_bridge.connectors import orderfacts as of
from cloud_bridge.connectors._values import (
    amount,
    as_code,
    as_id,
    as_int,
    as_list,
    as_obj,
    as_str,
    as_time,
    cents,
    get,
    obj_or_empty,
    opt_int,
    opt_str,
)
from cloud_bridge.connectors.base import (
    BatchLimits,
    FloorStage,
    ItemResult,
    OrderDraft,
    OrderLine,
    OrderState,
    ShopOrder,
    ShopProduct,
    StageChange,
    StockChange,
    StockDelta,
    StockLevel,
    WebhookEvent,
)
from cloud_bridge.connectors.catalog_fields import (
    CatalogFields,
    barcodes,
    derived_sku,
    keyed,
    product_or_problem,
    unit,
)
from cloud_bridge.connectors.common import (
    ConnectorOptions,
    ReadTimes,
    chunked,
    describe_json,
    load_json,
    reading,
    result_order,
)
from cloud_bridge.connectors.cursor import PollWindow
from cloud_bridge.connectors.http import Call, OverHttp, ShopHttp
from cloud_bridge.connectors.signatures import lower_keys, signature_matches
from cloud_bridge.connectors.unreadable import order_or_problem, stock_line
from cloud_bridge.errors import (
    MalformedResponse,
    MalformedWebhook,
    NotApplied,
    RequestRejected,
    ShopAuthError,
    ShopError,
    StaleStock,
    StockNotManaged,
    TransientShopError,
    UnknownSku,
    UnsupportedOperation,
    WebhookRejected,
)

log = logging.getLogger(__name__)

API: Final = "/wp-json/wc/v3"
BATCH_LIMIT: Final = 100
PAGE: Final = 100
TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S"
LOOKUP_FIELDS: Final = "id,sku,type,parent_id,manage_stock,stock_quantity,date_modified_gmt"
STATES: Final = {
    "pending": OrderState.PENDING,
    "on-hold": OrderState.PENDING,
    "checkout-draft": OrderState.PENDING,
    "processing": OrderState.PAID,
    "completed": OrderState.COMPLETED,
    "cancelled": OrderState.CANCELLED,
    "failed": OrderState.CANCELLED,
    "trash": OrderState.CANCELLED,
    "refunded": OrderState.REFUNDED,
}
STOCK_HOLDING: Final = frozenset({"processing", "on-hold", "completed"})
PICKUP_METHODS: Final = frozenset({"local_pickup", "pickup_location"})
REF_META: Final = "_tillbridge_ref"  # a phone order's id on the box: what makes creating it idempotent
REF_WINDOW: Final = timedelta(hours=24)
_PING: Final = re.compile(rb"webhook_id=\d{1,20}")


@dataclass(frozen=True)
class _Item:
    """A sku as WooCommerce knows it: writes go to `/products` or, for a variation, to its parent's
    `/variations`.
    """

    sku: str
    id: int
    parent_id: int
    managed: bool
    quantity: int | None
    modified: str | None

    @property
    def batch_path(self) -> str:
        if self.parent_id:
            return f"/products/{self.parent_id}/variations/batch"
        return "/products/batch"


class WooCommerceConnector(OverHttp):
    platform = "woocommerce"
    supports_deltas = False
    limits = BatchLimits(reads=PAGE, writes=BATCH_LIMIT)
    supports_cas = False
    supports_webhooks = True

    def __init__(
        self,
        shop: str,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        webhook_secrets: Sequence[str] = (),
        barcode_meta: Sequence[str] = (),
        unit_meta: str = "",
        timezone: str = "",
        options: ConnectorOptions = ConnectorOptions(),  # noqa: B008 - frozen
    ) -> None:
        self.shop = shop
        self.webhook_secrets = tuple(webhook_secrets)
        self.fields = CatalogFields(tuple(barcode_meta), unit_meta)
        self.options = options
        self.http = ShopHttp(
            shop,
            base_url.rstrip("/") + API,
            options.retrier(),
            describe_json,
            timeout=options.timeout,
            auth=(consumer_key, consumer_secret),
            session=options.session,
        )
        self._items: dict[str, _Item] = {}
        self._tags: dict[str, tuple[str, ...]] = {}  # product id -> category names
        self.zone = of.zone(timezone)
        self._read = ReadTimes(options.clock)

    # --- stock -----------------------------------------------------------------------------------------

    def get_stock(self, skus: Sequence[str]) -> dict[str, StockLevel]:
        found = self._lookup(skus)
        return {sku: StockLevel(sku, item.quantity, item.modified) for sku, item in found.items()}

    def set_stock(self, changes: Sequence[StockChange]) -> list[ItemResult]:
        wanted = {change.sku: change for change in changes}
        results: dict[str, ItemResult] = {}
        # the expected number is checked against a read made right before: the caller's own (get_stock a
        # moment ago) or a fresh one, 100 skus per request
        checked = [s for s, c in wanted.items() if c.expected is not None and not self._read.fresh(s)]
        fresh = self._lookup(checked) if checked else {}
        known = {**self._cached_or_lookup([s for s in wanted if s not in fresh]), **fresh}
        writes: dict[str, list[tuple[_Item, int]]] = {}
        for sku, change in wanted.items():
            problem = self._refuse(sku, change, known.get(sku))
            if problem is not None:
                results[sku] = ItemResult(sku, error=problem)
            else:
                item = known[sku]
                writes.setdefault(item.batch_path, []).append((item, change.quantity))
        for path, entries in writes.items():
            for chunk in chunked(entries, BATCH_LIMIT):
                results.update(self._write_batch(path, chunk))
        for sku in wanted:
            self._read.forget(sku)
        return result_order([c.sku for c in changes], results)

    def adjust_stock(self, deltas: Sequence[StockDelta], idempotency_key: str) -> list[ItemResult]:
        raise UnsupportedOperation(
            self.shop, "WooCommerce has no atomic, idempotent stock deltas; use set_stock"
        )

    def _refuse(self, sku: str, change: StockChange, item: _Item | None) -> ShopError | None:
        if item is None:
            return UnknownSku(self.shop, sku)
        if not item.managed:
            return StockNotManaged(
                self.shop, f"sku {sku!r} has manage_stock off; its quantity would be ignored"
            )
        if change.expected is not None and item.quantity != change.expected:
            return StaleStock(
                self.shop, f"sku {sku!r} is at {item.quantity}, not {change.expected}", item.quantity
            )
        return None

    def _write_batch(self, path: str, chunk: Sequence[tuple[_Item, int]]) -> dict[str, ItemResult]:
        body = {"update": [{"id": item.id, "stock_quantity": qty} for item, qty in chunk]}
        what = f"POST {path} ({len(chunk)} items)"
        try:
            reply = self.http.send_write(Call("POST", path, json=body), what)
            answered = self._batch_answers(load_json(reply.body, self.shop, what), what)
        except ShopAuthError:
            raise
        except ShopError as exc:
            return {item.sku: ItemResult(item.sku, error=exc) for item, _ in chunk}
        return {item.sku: self._item_result(item, answered.get(item.id), what) for item, _ in chunk}

    def _batch_answers(self, value: Any, what: str) -> dict[int, dict[str, Any]]:
        with reading(self.shop, what):
            entries = as_list(get(as_obj(value, what), "update", what), f"{what} update")
            objects = [as_obj(entry, f"{what} update[]") for entry in entries]
            return {as_int(get(obj, "id", what), f"{what} id"): obj for obj in objects}

    def _item_result(self, item: _Item, answer: dict[str, Any] | None, what: str) -> ItemResult:
        if answer is None:
            return ItemResult(
                item.sku, error=MalformedResponse(self.shop, f"{what}: no answer for id {item.id}")
            )
        if "error" in answer:
            return ItemResult(item.sku, error=self._item_error(item, answer["error"]))
        try:
            with reading(self.shop, f"{what} id {item.id}"):
                fresh = replace(self._item(answer), sku=item.sku)  # an item without a SKU keeps its key
        except MalformedResponse as exc:
            return ItemResult(item.sku, error=exc)
        self._items[item.sku] = fresh
        return ItemResult(item.sku, fresh.quantity)

    def _item_error(self, item: _Item, error: Any) -> ShopError:
        detail = error if isinstance(error, dict) else {}
        code = str(detail.get("code", ""))[:80]
        message = str(detail.get("message", ""))[:200]
        data = detail.get("data")
        status = data.get("status") if isinstance(data, dict) else None
        if code.endswith("invalid_id"):
            self._items.pop(item.sku, None)
            return NotApplied(
                self.shop, f"sku {item.sku!r}: product {item.id} is gone ({code}); looked up again next time"
            )
        problem = f"sku {item.sku!r}: {code or 'error'}: {message}"
        if isinstance(status, int) and status >= 500:
            return TransientShopError(self.shop, problem)
        return RequestRejected(self.shop, problem, status if isinstance(status, int) else None, code)

    # --- sku lookup ------------------------------------------------------------------------------------

    def _cached_or_lookup(self, skus: Iterable[str]) -> dict[str, _Item]:
        skus = list(dict.fromkeys(skus))
        missing = [sku for sku in skus if sku not in self._items]
        found = self._lookup(missing) if missing else {}
        return {sku: found.get(sku) or self._items[sku] for sku in skus if sku in found or sku in self._items}

    def _lookup(self, skus: Sequence[str]) -> dict[str, _Item]:
        """Fresh facts for `skus`, 100 per request (`?sku=a,b,c` matches products and variations)."""
        unique = [sku for sku in dict.fromkeys(skus) if sku and "," not in sku and not sku.startswith("id:")]
        found = self._by_id([sku for sku in dict.fromkeys(skus) if sku.startswith("id:")])
        for chunk in chunked(unique, PAGE):
            params = {"sku": ",".join(chunk), "per_page": str(PAGE), "_fields": LOOKUP_FIELDS}
            what = f"GET /products?sku=… ({len(chunk)} skus)"
            reply = self.http.send(Call("GET", "/products", params=params), what)
            with reading(self.shop, what):
                for entry in as_list(load_json(reply.body, self.shop, what), what):
                    item = self._item(as_obj(entry, what))
                    if item.sku in chunk:
                        found[item.sku] = item
        self._items.update(found)
        self._read.mark(found)
        return found

    def _by_id(self, keys: Sequence[str]) -> dict[str, _Item]:
        """Items without a SKU, kept under `id:<product or variation id>`: one `GET /products/{id}` each."""
        found: dict[str, _Item] = {}
        for key in keys:
            number = key.removeprefix("id:")
            if not number.isdigit():
                continue
            what = f"GET /products/{number}"
            try:
                reply = self.http.send(
                    Call("GET", f"/products/{number}", params={"_fields": LOOKUP_FIELDS}), what
                )
            except RequestRejected as exc:
                if exc.status in (400, 404):  # gone: the sku is unknown, as a deleted product's would be
                    continue
                raise
            with reading(self.shop, what):
                found[key] = replace(
                    self._item(as_obj(load_json(reply.body, self.shop, what), what)), sku=key
                )
        return found

    @staticmethod
    def _item(obj: dict[str, Any]) -> _Item:
        managed = get(obj, "manage_stock", "product") is True
        return _Item(
            sku=opt_str(obj.get("sku"), "product sku"),
            id=as_int(get(obj, "id", "product"), "product id"),
            parent_id=as_int(obj.get("parent_id") or 0, "product parent_id"),
            managed=managed,
            quantity=opt_int(obj.get("stock_quantity"), "product stock_quantity") if managed else None,
            modified=opt_str(obj.get("date_modified_gmt"), "product date_modified_gmt") or None,
        )

    # --- orders and products ---------------------------------------------------------------------------

    def orders_since(self, cursor: str | None) -> tuple[list[ShopOrder], str]:
        window = PollWindow.decode(cursor)
        params = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
        raws = self._pages("/orders", params, window)
        tags = self._categories(raws)
        orders = [read_order(raw, self.zone, tags) for raw in raws]
        fresh = [o for o in orders if window.is_new(o.order_id, o.updated_at, o.fingerprint)]
        return fresh, window.advance((o.order_id, o.updated_at, o.fingerprint) for o in orders)

    def products_since(self, cursor: str | None) -> tuple[list[ShopProduct], str]:
        window = PollWindow.decode(cursor)
        products: list[ShopProduct] = []
        for raw in self._pages("/products", {"dates_are_gmt": "true"}, window):
            with reading(self.shop, "product"):
                products.extend(self._catalog_entries(raw))
        fresh = [p for p in products if window.is_new(p.product_id, p.updated_at, p.fingerprint)]
        return fresh, window.advance((p.product_id, p.updated_at, p.fingerprint) for p in products)

    def _catalog_entries(self, raw: dict[str, Any]) -> list[ShopProduct]:
        """A simple product is one entry; a variable one lists its variations (whose own modified dates
        do not always move the parent's), each an item of its own; the parent itself is not sellable.
        """
        if raw.get("type") != "variable":
            return _sellable([_product(raw, self.fields)])
        parent = as_int(get(raw, "id", "product"), "product id")
        name = opt_str(raw.get("name"), "product name")
        path = f"/products/{parent}/variations"
        variations: list[ShopProduct] = []
        for page in range(1, self.options.max_pages + 1):
            what = f"GET {path} page {page}"
            params = {"per_page": str(PAGE), "page": str(page)}
            batch = as_list(
                load_json(self.http.send(Call("GET", path, params=params), what).body, self.shop, what), what
            )
            variations += [_product(as_obj(v, what), self.fields, name) for v in batch]
            if len(batch) < PAGE:
                break
        return _sellable(variations)

    def _pages(self, path: str, params: dict[str, str], window: PollWindow) -> list[dict[str, Any]]:
        since = window.query_from()
        query = {**params, "per_page": str(PAGE)}
        if since is not None:
            query["modified_after"] = since.strftime(TIME_FORMAT)
        found: list[dict[str, Any]] = []
        for page in range(1, self.options.max_pages + 1):
            what = f"GET {path} page {page}"
            reply = self.http.send(Call("GET", path, params={**query, "page": str(page)}), what)
            with reading(self.shop, what):
                batch = [as_obj(x, what) for x in as_list(load_json(reply.body, self.shop, what), what)]
            found.extend(batch)
            if len(batch) < PAGE:
                break
        return found

    def get_order(self, order_id: str) -> ShopOrder:
        what = f"GET /orders/{order_id}"
        reply = self.http.send(Call("GET", f"/orders/{_numeric(order_id, self.shop)}"), what)
        return self._order(load_json(reply.body, self.shop, what))

    def complete_order(self, order_id: str) -> ShopOrder:
        what = f"PUT /orders/{order_id} completed"
        call = Call("PUT", f"/orders/{_numeric(order_id, self.shop)}", json={"status": "completed"})
        return self._order(load_json(self.http.send(call, what).body, self.shop, what))

    def _order(self, raw: Any) -> ShopOrder:
        return read_order(raw, self.zone, self._categories([raw]))

    # --- orders on the shop floor (base.FloorOrders) ----------------------------------------------------

    def tell_customer(self, order_id: str, text: str) -> None:
        """An order note with `customer_note: true`: WooCommerce mails it to the customer."""
        what = f"POST /orders/{order_id}/notes"
        call = Call(
            "POST",
            f"/orders/{_numeric(order_id, self.shop)}/notes",
            json={"note": text, "customer_note": True},
        )
        self.http.send(call, what)

    def set_stage(self, change: StageChange) -> None:
        """Accepted and ready are customer notes (core WooCommerce has no such statuses; the note's mail is
        what the customer sees); collected and delivered complete the order (its "completed" mail)."""
        if change.stage in (FloorStage.COLLECTED, FloorStage.DELIVERED):
            self.complete_order(change.order_id)
        if change.message:
            self.tell_customer(change.order_id, change.message)

    def create_order(self, draft: OrderDraft) -> ShopOrder:
        """`POST /orders`, processing and unpaid (paid at the counter), the slot and the box's `ref` in the
        order's meta; a `ref` already in a recent order gives that order back instead of a second one."""
        existing = self._order_with_ref(draft.ref)
        if existing is not None:
            return existing
        first, _, last = draft.customer.partition(" ")
        meta = [{"key": REF_META, "value": draft.ref}]
        if draft.requested_at is not None:
            meta.append(
                {
                    "key": "pickup_time" if draft.pickup else "delivery_time",
                    "value": draft.requested_at.isoformat(),
                }
            )
        if draft.allergies:
            meta.append({"key": "allergies", "value": draft.allergies})
        body = {
            "status": "processing",
            "set_paid": False,
            "payment_method": "cod",
            "created_via": "tillbridge",
            "customer_note": draft.note,
            "billing": {"first_name": first, "last_name": last, "phone": draft.phone},
            "shipping": {"first_name": first, "last_name": last, "address_1": draft.address},
            "shipping_lines": [
                {
                    "method_id": "local_pickup" if draft.pickup else "flat_rate",
                    "method_title": "",
                    "total": "0.00",
                }
            ],
            "line_items": [
                {
                    "sku": line.sku,
                    "quantity": line.qty,
                    "meta_data": [{"key": o.name or "Extra", "value": o.value} for o in line.options]
                    + ([{"key": "Note", "value": line.note}] if line.note else []),
                }
                for line in draft.lines
            ],
            "meta_data": meta,
        }
        what = "POST /orders (phone order)"
        return self._order(
            load_json(self.http.send(Call("POST", "/orders", json=body), what).body, self.shop, what)
        )

    def _order_with_ref(self, ref: str) -> ShopOrder | None:
        since = datetime.now(UTC) - REF_WINDOW
        params = {
            "modified_after": since.strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "per_page": "100",
        }
        what = "GET /orders (phone order ref)"
        found = load_json(self.http.send(Call("GET", "/orders", params=params), what).body, self.shop, what)
        for raw in found if isinstance(found, list) else []:
            if isinstance(raw, dict) and (REF_META, ref) in _meta_pairs(raw):
                return self._order(raw)
        return None

    def _categories(self, raws: Sequence[Any]) -> dict[str, tuple[str, ...]]:
        """The category names of the products in these orders, by product id: what routes a line to a
        station's printer. Looked up once per product (`GET /products?include=…`) and kept; a shop that
        does not answer leaves the lines untagged (they print at the counter), never the order unread."""
        wanted = {
            str(line.get("product_id"))
            for raw in raws
            if isinstance(raw, dict)
            for line in raw.get("line_items") or []
            if isinstance(line, dict) and isinstance(line.get("product_id"), int) and line.get("product_id")
        } - set(self._tags)
        for chunk in chunked(sorted(wanted, key=int), 100):
            what = "GET /products categories"
            params = {"include": ",".join(chunk), "per_page": str(len(chunk))}
            try:
                found = load_json(
                    self.http.send(Call("GET", "/products", params=params), what).body, self.shop, what
                )
            except ShopError as exc:
                log.warning(
                    "shop %s: product categories not read (%s): lines print at the counter", self.shop, exc
                )
                break
            for product in found if isinstance(found, list) else []:
                if isinstance(product, dict):
                    names = [
                        of.text(c.get("name")) for c in product.get("categories") or [] if isinstance(c, dict)
                    ]
                    self._tags[str(product.get("id"))] = tuple(n for n in names if n)
            for key in chunk:
                self._tags.setdefault(key, ())
        return self._tags

    # --- webhooks --------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        h = lower_keys(headers)
        signature = h.get("x-wc-webhook-signature")
        if signature is None:
            if _PING.fullmatch(body.strip()):
                return None  # the creation ping: unsigned by design, answer 200
            raise WebhookRejected(self.shop, "webhook without X-WC-Webhook-Signature")
        if not self.webhook_secrets:
            raise WebhookRejected(self.shop, "webhook received but no webhook secret is configured")
        if not signature_matches(body, signature, self.webhook_secrets):
            raise WebhookRejected(
                self.shop, "webhook signature does not match (wrong secret or altered body)"
            )
        topic = h.get("x-wc-webhook-topic", "")
        payload = load_json(body, self.shop, f"webhook {topic}", MalformedWebhook)
        with reading(self.shop, f"webhook {topic}", MalformedWebhook):
            return _event(topic, as_obj(payload, "webhook body"), h.get("x-wc-webhook-delivery-id", ""))


def _event(topic: str, payload: dict[str, Any], delivery_id: str) -> WebhookEvent:
    resource, _, event = topic.partition(".")
    rid = as_id(payload["id"], "webhook id") if "id" in payload else ""
    order: ShopOrder | None = None
    products: tuple[ShopProduct, ...] = ()
    if resource == "order" and event != "deleted":
        order = parse_order(payload)
        event_id = f"order:{order.order_id}@{order.updated_at.isoformat()}"
    elif resource == "product" and event != "deleted" and payload.get("sku"):
        products = (_product(payload, CatalogFields()),)
        event_id = f"product:{rid}@{products[0].updated_at.isoformat()}"
    else:
        event_id = f"{topic}:{rid}:{delivery_id}"
    kind = resource if resource in ("order", "product") else "other"
    return WebhookEvent("woocommerce", topic, kind, rid, event_id, order, products, payload)


def read_order(
    raw: Any, shop_zone: tzinfo = UTC, tags: Mapping[str, tuple[str, ...]] = MappingProxyType({})
) -> ShopOrder:
    """An order, or what could be read of it with its problem (see `unreadable`)."""
    return order_or_problem(raw, lambda: parse_order(raw, shop_zone, tags), lambda: _stock_facts(raw))


def parse_order(
    raw: Any, shop_zone: tzinfo = UTC, tags: Mapping[str, tuple[str, ...]] = MappingProxyType({})
) -> ShopOrder:
    """The whole order: stock facts, then what the floor needs (`orderfacts`): each line's visible
    `meta_data` as options (a note key as its note), `customer_note`, the slot from the order's meta (naive
    times in `shop_zone`), the shipping address and phone, and whether it was paid (`date_paid_gmt`).
    `tags` are the products' category names by product id (line items do not carry them)."""
    obj = as_obj(raw, "order")
    facts = _stock_facts(obj)
    lines = tuple(
        _line(as_obj(x, "order line_items[]"), tags)
        for x in as_list(get(obj, "line_items", "order"), "line_items")
    )
    billing = obj_or_empty(obj.get("billing"))
    shipping = [x for x in as_list(obj.get("shipping_lines") or [], "shipping_lines") if isinstance(x, dict)]
    address = obj_or_empty(obj.get("shipping")) or billing
    meta = _meta_pairs(obj)
    note = of.text(obj.get("customer_note"))
    total = cents(get(obj, "total", "order"), "order total")
    paid = bool(obj.get("date_paid_gmt")) or facts.state is OrderState.COMPLETED
    return replace(
        facts,
        number=opt_str(obj.get("number"), "order number") or facts.order_id,
        placed_at=as_time(get(obj, "date_created_gmt", "order"), "order date_created_gmt"),
        lines=lines,
        total_cents=cents(get(obj, "total", "order"), "order total"),
        currency=opt_str(obj.get("currency"), "order currency"),
        customer=" ".join(
            filter(None, (str(billing.get("first_name") or ""), str(billing.get("last_name") or "")))
        ),
        pickup=any(str(line.get("method_id")) in PICKUP_METHODS for line in shipping),
        note=note,
        requested_at=of.slot_of(meta, shop_zone),
        phone=of.text(billing.get("phone")) or of.text(address.get("phone")),
        address=", ".join(
            filter(
                None,
                (
                    of.text(address.get("address_1")),
                    of.text(address.get("address_2")),
                    " ".join(filter(None, (of.text(address.get("postcode")), of.text(address.get("city"))))),
                ),
            )
        ),
        paid=paid,
        due_cents=0 if paid else total,
        allergies=of.allergies_of(meta, note, *(line.note for line in lines)),
        source="phone" if any(key == REF_META for key, _ in meta) else "online",
    )


def _meta_pairs(obj: dict[str, Any]) -> list[tuple[str, Any]]:
    """`meta_data` as (key, value) pairs, the label the shop shows (`display_key`) where it gives one."""
    pairs: list[tuple[str, Any]] = []
    for entry in obj.get("meta_data") or []:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            key = entry["key"]
            shown = entry.get("display_key")
            label = shown if isinstance(shown, str) and shown and not key.startswith("_") else key
            value = entry.get("display_value", entry.get("value"))
            pairs.append((label, value))
    return pairs


def _stock_facts(raw: Any) -> ShopOrder:
    """What an order took out of the shop's stock (id, status, lines' sku and quantity), read alone: an
    order whose other fields are unreadable still counts in the ledger (see `unreadable`).
    """
    obj = as_obj(raw, "order")
    status = as_str(get(obj, "status", "order"), "order status")
    updated = as_time(get(obj, "date_modified_gmt", "order"), "order date_modified_gmt")
    rows = [as_obj(x, "order line_items[]") for x in as_list(get(obj, "line_items", "order"), "line_items")]
    order_id = as_id(get(obj, "id", "order"), "order id")
    return ShopOrder(
        order_id=order_id,
        number=order_id,
        state=STATES.get(status, OrderState.PENDING),
        status=status,
        placed_at=updated,
        updated_at=updated,
        lines=tuple(stock_line(row, "id", "sku", "quantity") for row in rows),
        total_cents=0,
        currency="",
        holds_stock=status in STOCK_HOLDING,
    )


def _line(obj: dict[str, Any], tags: Mapping[str, tuple[str, ...]]) -> OrderLine:
    qty = as_int(get(obj, "quantity", "line"), "line quantity")
    paid = cents(obj.get("total") or "0", "line total") + cents(obj.get("total_tax") or "0", "line total_tax")
    options, note = of.split_line_meta(_meta_pairs(obj))
    return OrderLine(
        line_id=as_id(get(obj, "id", "line"), "line id"),
        sku=opt_str(obj.get("sku"), "line sku"),
        name=opt_str(obj.get("name"), "line name"),
        qty=qty,
        unit_price_cents=round(paid / qty) if qty else 0,
        options=options,
        note=note,
        tags=tags.get(str(obj.get("product_id")), ()),
    )


def _product(obj: dict[str, Any], fields: CatalogFields, parent_name: str = "") -> ShopProduct:
    """A product or a variation. A variation without a name of its own is called by its parent's name and
    its attribute options ("T-shirt - Blue, L"); an item without a SKU gets one derived from its id.
    """
    product_id = as_id(get(obj, "id", "product"), "product id")
    sku = as_code(obj.get("sku"), "product sku") or derived_sku(product_id)
    updated = as_time(get(obj, "date_modified_gmt", "product"), "product date_modified_gmt")

    def read() -> tuple[str, Decimal, tuple[str, ...], str | None]:
        pairs = _named_values(obj)
        name = opt_str(obj.get("name"), "product name") or _variation_name(parent_name, obj)
        price = amount(obj.get("price") or obj.get("regular_price") or "0", "product price")
        codes = barcodes([obj.get("global_unique_id"), *keyed(pairs, fields.barcode_keys)])
        sold_by = unit(next(iter(keyed(pairs, [fields.unit_key])), None)) if fields.unit_key else None
        return name, price, codes, sold_by

    return product_or_problem(sku, product_id, updated, read)


def _named_values(obj: dict[str, Any]) -> list[tuple[str, Any]]:
    """`meta_data` keys and attribute names with their values (a product's `options`, a variation's
    `option`), for the configured barcode and unit keys.
    """
    pairs: list[tuple[str, Any]] = []
    for entry in obj.get("meta_data") or []:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            pairs.append((entry["key"], entry.get("value")))
    for attribute in obj.get("attributes") or []:
        if isinstance(attribute, dict) and isinstance(attribute.get("name"), str):
            options = attribute.get("options")
            value = options[0] if isinstance(options, list) and options else attribute.get("option")
            pairs.append((attribute["name"], value))
    return pairs


def _variation_name(parent_name: str, obj: dict[str, Any]) -> str:
    options = [
        str(a["option"]) for a in obj.get("attributes") or [] if isinstance(a, dict) and a.get("option")
    ]
    return " - ".join(filter(None, (parent_name, ", ".join(options))))


def _sellable(products: list[ShopProduct]) -> list[ShopProduct]:
    """Items the till can sell: those with a SKU, and those without one that a barcode identifies."""
    return [p for p in products if not p.sku.startswith("id:") or p.barcodes or p.problem]


def _numeric(order_id: str, shop: str) -> int:
    if not order_id.isdigit() or not order_id.isascii():
        raise RequestRejected(shop, f"order id {order_id[:40]!r} is not a WooCommerce order number")
    return int(order_id)
