"""Magento 2 / Adobe Commerce through its REST API (`/rest/V1`), as an integration (bearer access token).

Stock is Multi-Source Inventory: a source item per (sku, source) holds the units on the shelf, and a
placed order does not touch it but adds a reservation to its stock; buyers see the salable quantity
(`get-product-salable-quantity`: the stock's quantity less its open reservations), so that is the level
the bridge reads, and a write of level L sets the source quantity to L plus the units reserved (the same
model as Oscar's allocations). The shop's boxes map to one source (`source_code`) of one stock
(`stock_id`). Writes go in batches through `POST /V1/inventory/source-items`, which is all or nothing: the
skus the shop does not know are found by the read before the write and never sent. No compare-and-swap:
an expected level is checked by that read.

Products and orders are polled (Magento has no webhooks built in) with `searchCriteria` on `updated_at`,
paged by `total_count` since a page past the end answers the last page again. A collected order is shipped
(`POST /V1/order/{id}/ship`, which deducts its units from the source and closes its reservation) and gets a
line in its status history (`POST /V1/orders/{id}/comments`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote

from cloud_bridge.connectors._values import (
    Invalid,
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
    opt_str,
)
from cloud_bridge.connectors.base import (
    BatchLimits,
    ItemResult,
    OrderLine,
    OrderState,
    ShopOrder,
    ShopProduct,
    StockChange,
    StockDelta,
    StockLevel,
    WebhookEvent,
)
from cloud_bridge.connectors.catalog_fields import barcodes, product_or_problem
from cloud_bridge.connectors.common import (
    ConnectorOptions,
    chunked,
    describe_json,
    load_json,
    reading,
    result_order,
)
from cloud_bridge.connectors.cursor import PollWindow
from cloud_bridge.connectors.http import Call, OverHttp, ShopHttp
from cloud_bridge.connectors.unreadable import order_or_problem, stock_line
from cloud_bridge.errors import (
    RequestRejected,
    ShopAuthError,
    ShopError,
    StaleStock,
    UnknownSku,
    UnsupportedOperation,
)

API: Final = "/rest/V1"
PAGE: Final = 100
WRITE_BATCH: Final = 100
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
SELLABLE_TYPES: Final = ("simple", "virtual")  # configurable and bundle parents hold no stock of their own
STATES: Final = {
    "new": OrderState.PENDING,
    "pending_payment": OrderState.PENDING,
    "payment_review": OrderState.PENDING,
    "holded": OrderState.PENDING,
    "processing": OrderState.PAID,
    "complete": OrderState.COMPLETED,
    "closed": OrderState.REFUNDED,
    "canceled": OrderState.CANCELLED,
}
RELEASED: Final = ("canceled", "closed")  # their reservations are compensated
COLLECTED_NOTE: Final = "Collected at the shop's till (tillbridge)."


@dataclass(frozen=True)
class _Source:
    """One sku at the configured source: units on the shelf, and what buyers can still order."""

    quantity: int
    salable: int

    @property
    def reserved(self) -> int:
        return self.quantity - self.salable


class MagentoConnector(OverHttp):
    platform = "magento"
    supports_deltas = False
    supports_cas = False
    supports_webhooks = False
    limits = BatchLimits(reads=PAGE, writes=WRITE_BATCH)

    def __init__(
        self,
        shop: str,
        base_url: str,
        access_token: str,
        *,
        source_code: str = "default",
        stock_id: int = 1,
        barcode_attributes: Sequence[str] = ("ean", "barcode", "gtin"),
        pickup_methods: Sequence[str] = ("instore_pickup",),
        options: ConnectorOptions = ConnectorOptions(),  # noqa: B008 - frozen
    ) -> None:
        self.shop = shop
        self.source_code = source_code
        self.stock_id = stock_id
        self.barcode_attributes = tuple(barcode_attributes)
        self.pickup_methods = tuple(pickup_methods)
        self.options = options
        self.http = ShopHttp(
            shop,
            base_url.rstrip("/") + API,
            options.retrier(),
            describe_magento,
            timeout=options.timeout,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            session=options.session,
        )

    # --- stock -----------------------------------------------------------------------------------------

    def get_stock(self, skus: Sequence[str]) -> dict[str, StockLevel]:
        return {sku: StockLevel(sku, found.salable) for sku, found in self._sources(skus).items()}

    def set_stock(self, changes: Sequence[StockChange]) -> list[ItemResult]:
        current = self._sources([c.sku for c in changes])
        results: dict[str, ItemResult] = {}
        writes: list[tuple[StockChange, _Source]] = []
        for change in changes:
            found = current.get(change.sku)
            if found is None:
                results[change.sku] = ItemResult(change.sku, error=UnknownSku(self.shop, change.sku))
            elif change.expected is not None and found.salable != change.expected:
                problem = f"sku {change.sku!r} is at {found.salable}, not {change.expected}"
                results[change.sku] = ItemResult(
                    change.sku, error=StaleStock(self.shop, problem, found.salable)
                )
            else:
                writes.append((change, found))
        for chunk in chunked(writes, WRITE_BATCH):
            results.update(self._write(chunk))
        return result_order([c.sku for c in changes], results)

    def _write(self, chunk: Sequence[tuple[StockChange, _Source]]) -> dict[str, ItemResult]:
        """One batch: the source quantity that shows buyers the level wanted, the reserved units kept."""
        items = [
            {
                "sku": change.sku,
                "source_code": self.source_code,
                "quantity": change.quantity + found.reserved,
                "status": 1 if change.quantity + found.reserved > 0 else 0,
            }
            for change, found in chunk
        ]
        what = f"POST /inventory/source-items ({len(items)} items)"
        try:
            self.http.send_write(Call("POST", "/inventory/source-items", json={"sourceItems": items}), what)
        except ShopAuthError:
            raise
        except ShopError as exc:  # all or nothing: the whole batch shares the error
            return {change.sku: ItemResult(change.sku, error=exc) for change, _ in chunk}
        return {change.sku: ItemResult(change.sku, change.quantity) for change, _ in chunk}

    def adjust_stock(self, deltas: Sequence[StockDelta], idempotency_key: str) -> list[ItemResult]:
        raise UnsupportedOperation(
            self.shop, "Magento's REST API has no idempotent stock deltas; use set_stock"
        )

    def _sources(self, skus: Sequence[str]) -> dict[str, _Source]:
        """The configured source's items for these skus (one search per 100), each with its salable
        quantity (one call per sku: MSI answers it per sku and stock only).
        """
        quantities: dict[str, int] = {}
        for chunk in chunked(sorted(set(skus)), PAGE):
            criteria = _filters([("sku", ",".join(chunk), "in"), ("source_code", self.source_code, "eq")])
            for raw in self._search("/inventory/source-items", criteria, max_pages=1):
                what = "source item"
                with reading(self.shop, what):
                    sku = as_code(get(raw, "sku", what), f"{what} sku")
                    quantities[sku] = _whole(get(raw, "quantity", what), f"{what} quantity")
        return {sku: _Source(qty, self._salable(sku)) for sku, qty in quantities.items()}

    def _salable(self, sku: str) -> int:
        path = f"/inventory/get-product-salable-quantity/{_segment(sku)}/{self.stock_id}"
        what = f"GET {path}"
        body = load_json(self.http.send(Call("GET", path), what).body, self.shop, what)
        with reading(self.shop, what):
            return _whole(body, what)

    # --- catalog ---------------------------------------------------------------------------------------

    def products_since(self, cursor: str | None) -> tuple[list[ShopProduct], str]:
        window = PollWindow.decode(cursor)
        products = [
            self._product(raw)
            for raw in self._changed("/products", window)
            if raw.get("type_id") in SELLABLE_TYPES
        ]
        products = [p for p in products if p.sku]
        fresh = [p for p in products if window.is_new(p.product_id, p.updated_at, p.fingerprint)]
        return fresh, window.advance((p.product_id, p.updated_at, p.fingerprint) for p in products)

    def _product(self, raw: dict[str, Any]) -> ShopProduct:
        what = "product"
        with reading(self.shop, what):
            sku = as_code(raw.get("sku"), f"{what} sku")
            product_id = as_id(get(raw, "id", what), f"{what} id")
            updated = as_time(get(raw, "updated_at", what), f"{what} updated_at")
        attributes = {
            str(obj.get("attribute_code")): obj.get("value")
            for obj in raw.get("custom_attributes") or []
            if isinstance(obj, dict)
        }

        def read() -> tuple[str, Decimal, tuple[str, ...], str | None]:
            name = opt_str(raw.get("name"), "product name")
            price = amount(get(raw, "price", what), "product price")
            return name, price, barcodes(attributes.get(code) for code in self.barcode_attributes), None

        return product_or_problem(sku, product_id, updated, read)

    # --- orders ----------------------------------------------------------------------------------------

    def orders_since(self, cursor: str | None) -> tuple[list[ShopOrder], str]:
        window = PollWindow.decode(cursor)
        orders = [self._order(raw) for raw in self._changed("/orders", window)]
        fresh = [o for o in orders if window.is_new(o.order_id, o.updated_at, o.fingerprint)]
        return fresh, window.advance((o.order_id, o.updated_at, o.fingerprint) for o in orders)

    def get_order(self, order_id: str) -> ShopOrder:
        path = f"/orders/{_numeric(order_id, self.shop)}"
        what = f"GET {path}"
        return self._order(load_json(self.http.send(Call("GET", path), what).body, self.shop, what))

    def complete_order(self, order_id: str) -> ShopOrder:
        """Ships the order (its units leave the source, its reservation closes) and notes the pickup in
        its status history. An order that already shipped (a retry whose answer was lost) is left as is.
        """
        pk = _numeric(order_id, self.shop)
        try:
            what = f"POST /order/{pk}/ship"
            self.http.send(Call("POST", f"/order/{pk}/ship", json={"notify": False}), what)
        except RequestRejected as exc:
            if self.get_order(order_id).state is not OrderState.COMPLETED:
                raise RequestRejected(
                    self.shop, f"order {order_id} cannot be collected: {exc}", exc.status
                ) from exc
            return self.get_order(order_id)
        history = {
            "comment": COLLECTED_NOTE,
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": int(pk),
        }
        what = f"POST /orders/{pk}/comments"
        self.http.send(Call("POST", f"/orders/{pk}/comments", json={"statusHistory": history}), what)
        return self.get_order(order_id)

    def _order(self, raw: Any) -> ShopOrder:
        return read_order(raw, self.pickup_methods)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        raise UnsupportedOperation(self.shop, "Magento sends no webhooks of its own; the bridge polls it")

    # --- searches --------------------------------------------------------------------------------------

    def _changed(self, path: str, window: PollWindow) -> list[dict[str, Any]]:
        """Items updated since the window's start, oldest first, up to `max_pages` pages."""
        since = window.query_from()
        wanted = [] if since is None else [("updated_at", since.strftime(TIME_FORMAT), "gteq")]
        criteria = {
            **_filters(wanted),
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
        }
        return self._search(path, criteria, self.options.max_pages)

    def _search(self, path: str, criteria: dict[str, str], max_pages: int) -> list[dict[str, Any]]:
        """Pages of a search, stopping by `total_count`: Magento answers a page past the end with the last
        page again, so "an empty page" never comes.
        """
        found: list[dict[str, Any]] = []
        for page in range(1, max_pages + 1):
            what = f"GET {path} page {page}"
            params = {
                **criteria,
                "searchCriteria[pageSize]": str(PAGE),
                "searchCriteria[currentPage]": str(page),
            }
            reply = self.http.send(Call("GET", path, params=params), what)
            with reading(self.shop, what):
                body = as_obj(load_json(reply.body, self.shop, what), what)
                batch = [as_obj(x, what) for x in as_list(body.get("items") or [], f"{what} items")]
                total = as_int(get(body, "total_count", what), f"{what} total_count")
            found.extend(batch)
            if page * PAGE >= total or not batch:
                break
        return found


def read_order(raw: Any, pickup_methods: Sequence[str] = ("instore_pickup",)) -> ShopOrder:
    """An order, or what could be read of it with its problem (see `unreadable`)."""
    return order_or_problem(raw, lambda: parse_order(raw, pickup_methods), lambda: _stock_facts(raw))


def parse_order(raw: Any, pickup_methods: Sequence[str] = ("instore_pickup",)) -> ShopOrder:
    obj = as_obj(raw, "order")
    facts = _stock_facts(obj)
    assignments = as_list(
        obj_or_empty(obj.get("extension_attributes")).get("shipping_assignments") or [], "shipping"
    )
    methods = {str(obj_or_empty(obj_or_empty(a).get("shipping")).get("method")) for a in assignments}
    billing = obj_or_empty(obj.get("billing_address"))
    first = opt_str(obj.get("customer_firstname") or billing.get("firstname"), "order customer_firstname")
    last = opt_str(obj.get("customer_lastname") or billing.get("lastname"), "order customer_lastname")
    return replace(
        facts,
        number=opt_str(obj.get("increment_id"), "order increment_id") or facts.order_id,
        placed_at=as_time(get(obj, "created_at", "order"), "order created_at"),
        lines=tuple(_line(row) for row in _rows(obj)),
        total_cents=cents(get(obj, "grand_total", "order"), "order grand_total"),
        currency=opt_str(obj.get("order_currency_code"), "order order_currency_code"),
        customer=" ".join(filter(None, (first, last))),
        pickup=bool(methods & set(pickup_methods)),
    )


def _stock_facts(raw: Any) -> ShopOrder:
    """What the order holds of the stock: its id, state, time and lines (sku, quantity)."""
    obj = as_obj(raw, "order")
    state = as_str(get(obj, "state", "order"), "order state")
    status = opt_str(obj.get("status"), "order status") or state
    updated = as_time(get(obj, "updated_at", "order"), "order updated_at")
    order_id = as_id(get(obj, "entity_id", "order"), "order entity_id")
    return ShopOrder(
        order_id=order_id,
        number=order_id,
        state=STATES.get(state, OrderState.PENDING),
        status=status,
        placed_at=updated,
        updated_at=updated,
        lines=tuple(_stock_line(row) for row in _rows(obj)),
        total_cents=0,
        currency="",
        holds_stock=state not in RELEASED,
    )


def _rows(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's lines: a configurable product's chosen option is listed twice (the parent line carries
    the child's sku, quantity and price; the child line repeats it with `parent_item_id`), so children of
    another line are left out.
    """
    rows = [as_obj(x, "order items[]") for x in as_list(get(obj, "items", "order"), "order items")]
    return [row for row in rows if row.get("parent_item_id") in (None, 0, "")]


def _stock_line(row: dict[str, Any]) -> OrderLine:
    """A line's stock facts; Magento sends `qty_ordered` as a decimal number (2.0000)."""
    return replace(stock_line({**row, "qty_ordered": None}, "item_id", "sku", "item_id"), qty=_qty(row))


def _qty(row: dict[str, Any]) -> int:
    return _whole(get(row, "qty_ordered", "line"), "line qty_ordered")


def _line(row: dict[str, Any]) -> OrderLine:
    qty = _qty(row)
    return OrderLine(
        line_id=as_id(get(row, "item_id", "line"), "line item_id"),
        sku=as_code(row.get("sku"), "line sku"),
        name=opt_str(row.get("name"), "line name"),
        qty=qty,
        unit_price_cents=cents(row.get("price_incl_tax") or 0, "line price_incl_tax"),
    )


def _whole(value: Any, what: str) -> int:
    """A quantity Magento sends as a decimal number (`2.0000`, 17.0): whole units, fractions refused."""
    found = amount(value, what)
    if found != found.to_integral_value():
        raise Invalid(f"{what}: {str(value)[:40]!r} is not a whole number of units")
    return int(found)


def _filters(conditions: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """searchCriteria parameters: one filter group per condition (groups are AND-ed)."""
    params: dict[str, str] = {}
    for group, (name, value, kind) in enumerate(conditions):
        prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
        params.update(
            {f"{prefix}[field]": name, f"{prefix}[value]": value, f"{prefix}[condition_type]": kind}
        )
    return params


def _segment(sku: str) -> str:
    """A sku as one path segment (Magento skus may hold `/` and spaces)."""
    return quote(sku, safe="")


def _numeric(order_id: str, shop: str) -> str:
    if not order_id.isdigit() or len(order_id) > 18:
        raise RequestRejected(shop, f"order id {order_id[:40]!r} is not a Magento order id", 404)
    return order_id


_PLACEHOLDER = re.compile(r"%(\w+)")


def describe_magento(body: bytes) -> tuple[str, str]:
    """(code, message) from Magento's `{"message": "... %1 / %name ...", "parameters": [...] or {...}}`, with
    the placeholders filled, and each of `errors` (a validation failure's items) after it.
    """
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        return describe_json(body)
    if not isinstance(obj, dict) or not isinstance(obj.get("message"), str):
        return describe_json(body)
    parts = [_fill(obj["message"], obj.get("parameters"))]
    for error in obj.get("errors") or []:
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            parts.append(_fill(error["message"], error.get("parameters")))
    return "", "; ".join(parts)[:300]


def _fill(message: str, parameters: Any) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if isinstance(parameters, list) and key.isdigit() and 0 < int(key) <= len(parameters):
            return str(parameters[int(key) - 1])
        if isinstance(parameters, dict) and key in parameters:
            return str(parameters[key])
        return match.group(0)

    return _PLACEHOLDER.sub(value, message)
