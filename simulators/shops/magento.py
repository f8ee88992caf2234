"""A Magento 2 / Adobe Commerce shop speaking its REST API (`/rest/V1`), with Multi-Source Inventory, for
tests and the demo.

Modelled, as documented: an integration's access token as `Authorization: Bearer` (401 otherwise, with
Magento's error body `{"message": "... %resources ...", "parameters": {...}}`, placeholders filled by the
client); `searchCriteria` query filters (`filter_groups[g][filters][f][field|value|condition_type]`, filters
OR-ed inside a group, groups AND-ed; `eq`, `in`, `gteq`, `gt`, `lteq`, `like`), `sortOrders`, `pageSize` and
`currentPage`, answered as `{"items", "search_criteria", "total_count"}` where a `currentPage` past the last
page answers the LAST page again (so a client must stop by `total_count`); times as "Y-m-d H:i:s" in UTC;
MSI source items per (sku, source) with `quantity` and `status`, written in batches by `POST
/V1/inventory/source-items` (`{"sourceItems": [...]}`, all or nothing: one bad item fails the request with
`{"message": "Validation Failed", "errors": [...]}`); reservations: a placed order lowers the salable
quantity at once (`GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}`) and its shipment deducts
the source quantity and compensates the reservation; products with a barcode custom attribute and `price`,
configurable parents without stock of their own; orders with `state` and `status`, their items (a
configurable line's child item repeats the sku with `parent_item_id`), the shipping method in
`extension_attributes.shipping_assignments`, `POST /V1/order/{id}/ship` (400 when the order cannot ship)
and `POST /V1/orders/{id}/comments` (status history, optionally with a new status).

Not modelled: several sources per stock (the shop's boxes use one source), source selection algorithms,
invoices (orders here are paid), webhooks (Magento has none built in; Adobe Commerce's are a separate
module), store views and scopes, OAuth 1.0a signatures, `fields` filtering, async bulk endpoints.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from simulators.shops.seed import Item, OutOfStock, SeedProduct, decimal, items, now_s
from simulators.shops.server import Request, Response, ShopSimulator

PREFIXES: Final = ("/rest/V1", "/rest/default/V1", "/rest/all/V1")
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
DEFAULT_PAGE: Final = 20
_CRITERIA = re.compile(r"searchCriteria\[filter_groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(\w+)\]")
NOT_AUTHORIZED: Final = "The consumer isn't authorized to access %resources."
NO_ENTITY: Final = "The entity that was requested doesn't exist. Verify the entity and try again."
NO_PRODUCT: Final = "The product that was requested doesn't exist. Verify the product and try again."


@dataclass
class Product:
    id: int
    sku: str
    name: str
    price: str
    type_id: str  # simple or configurable
    updated: datetime
    attributes: dict[str, str] = field(default_factory=dict)  # custom attributes (the barcode's one)


@dataclass
class Order:
    entity_id: int
    increment_id: str
    state: str  # new, processing, complete, canceled, closed, holded
    status: str
    items: list[dict[str, Any]]
    grand_total: str
    created: datetime
    updated: datetime
    shipping_method: str
    firstname: str
    lastname: str
    history: list[dict[str, Any]] = field(default_factory=list)


class MagentoError(Exception):
    def __init__(self, status: int, message: str, parameters: Any = None, errors: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.parameters, self.errors = status, message, parameters, errors

    def body(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"message": self.message}
        if self.parameters is not None:
            answer["parameters"] = self.parameters
        if self.errors is not None:
            answer["errors"] = self.errors
        return answer


def _stamp(when: datetime) -> str:
    return when.strftime(TIME_FORMAT)


class MagentoSimulator(ShopSimulator):
    platform = "magento"

    def __init__(
        self,
        seed: Iterable[SeedProduct] | None = None,
        *,
        access_token: str | None = None,
        source_code: str = "default",
        stock_id: int = 1,
        barcode_attribute: str = "ean",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.access_token = access_token or "magento-" + secrets.token_hex(12)
        self.source_code = source_code
        self.stock_id = stock_id
        self.barcode_attribute = barcode_attribute
        self.products: dict[str, Product] = {}
        self.source_items: dict[tuple[str, str], tuple[Decimal, int]] = {}  # (sku, source) -> (qty, status)
        self.reservations: dict[str, Decimal] = {}  # sku -> sum of open reservations (negative: held)
        self.orders: dict[int, Order] = {}
        self._ids = itertools.count(1)
        self._order_ids = itertools.count(1)
        for item in items(seed):
            self.add_product(item)

    # --- shop owner's and buyers' actions (tests and the demo) -------------------------------------------

    def add_product(self, item: Item, *, type_id: str = "simple") -> Product:
        with self.lock:
            product = Product(
                next(self._ids), item.sku, item.name, decimal(item.price_cents), type_id, now_s()
            )
            if item.barcodes:
                product.attributes[self.barcode_attribute] = item.barcodes[0]
            self.products[item.sku] = product
            if type_id == "simple":
                self.source_items[(item.sku, self.source_code)] = (Decimal(item.stock), 1)
            return product

    def stock(self, sku: str) -> int:
        """The source item's quantity at the shop's source (what is on the shelf)."""
        with self.lock:
            return int(self.source_items[(sku, self.source_code)][0])

    def salable(self, sku: str) -> int:
        """What buyers can still order: the stock's quantity less its open reservations."""
        with self.lock:
            return int(self._salable(sku))

    def set_price(self, sku: str, cents: int) -> None:
        with self.lock:
            product = self.products[sku]
            product.price, product.updated = decimal(cents), now_s()

    def place_order(
        self, sku: str, qty: int, *, pickup: bool = True, customer: str = "Ana Pérez", configurable: str = ""
    ) -> int:
        """A paid order (state processing) as the storefront's checkout places it: a reservation of `qty`
        units lowers the salable quantity; the source quantity moves only when the order ships.
        `configurable`: the parent's sku, to place the line as a configurable product's option.
        """
        with self.lock:
            product = self.products[sku]
            if self._salable(sku) < qty:
                raise OutOfStock(f"{sku}: only {self._salable(sku)} salable")
            entity_id = next(self._order_ids)
            line_id = entity_id * 10
            price = Decimal(product.price)
            lines: list[dict[str, Any]] = [
                {
                    "item_id": line_id,
                    "sku": sku,
                    "name": product.name,
                    "qty_ordered": qty,
                    "price_incl_tax": float(price),
                    "row_total_incl_tax": float(price * qty),
                    "product_type": "configurable" if configurable else "simple",
                }
            ]
            if configurable:  # Magento lists the chosen simple product again, under its parent line
                lines.append(
                    {
                        "item_id": line_id + 1,
                        "parent_item_id": line_id,
                        "sku": sku,
                        "name": product.name,
                        "qty_ordered": qty,
                        "price_incl_tax": 0,
                        "row_total_incl_tax": 0,
                        "product_type": "simple",
                    }
                )
            first, _, last = customer.partition(" ")
            now = now_s()
            self.orders[entity_id] = Order(
                entity_id,
                f"{entity_id:09d}",
                "processing",
                "processing",
                lines,
                decimal(int(price * qty * 100)),
                now,
                now,
                "instore_pickup" if pickup else "flatrate_flatrate",
                first,
                last,
            )
            self.reservations[sku] = self.reservations.get(sku, Decimal(0)) - qty
            return entity_id

    def cancel_order(self, entity_id: int) -> None:
        with self.lock:
            order = self.orders[entity_id]
            if order.state in ("processing", "new"):
                self._compensate(order)
            order.state = order.status = "canceled"
            order.updated = now_s()

    def order_state(self, entity_id: int) -> tuple[str, str]:
        with self.lock:
            order = self.orders[entity_id]
            return order.state, order.status

    # --- HTTP --------------------------------------------------------------------------------------------

    def label(self, request: Request) -> str:
        path = self._api_path(request.path) or request.path
        path = re.sub(r"/\d+(?=/|$)", "/{id}", path)
        path = re.sub(r"(get-product-salable-quantity)/[^/]+/[^/]+$", r"\1/{sku}/{stockId}", path)
        return f"{request.method} {path}"

    def route(self, request: Request) -> Response:
        try:
            path = self._api_path(request.path)
            if path is None:
                raise MagentoError(404, "Request does not match any route.")
            if request.headers.get("authorization") != f"Bearer {self.access_token}":
                raise MagentoError(401, NOT_AUTHORIZED, {"resources": _resource(path)})
            return Response.of_json(200, self._dispatch(request, path))
        except MagentoError as exc:
            return Response.of_json(exc.status, exc.body())

    @staticmethod
    def _api_path(path: str) -> str | None:
        for prefix in PREFIXES:
            if path.startswith(prefix + "/"):
                return path[len(prefix) :]
        return None

    def _dispatch(self, request: Request, path: str) -> Any:
        method = request.method
        if path == "/inventory/source-items":
            if method == "GET":
                rows = [
                    {"sku": sku, "source_code": source, "quantity": float(qty), "status": status}
                    for (sku, source), (qty, status) in self.source_items.items()
                ]
                return _search(rows, request)
            if method == "POST":
                return self._save_source_items(_body(request))
        if match := re.fullmatch(r"/inventory/get-product-salable-quantity/([^/]+)/(\d+)", path):
            sku = match.group(1)
            if sku not in self.products or int(match.group(2)) != self.stock_id:
                raise MagentoError(404, NO_PRODUCT)
            return float(self._salable(sku))
        if path == "/products" and method == "GET":
            return _search([self._product_json(p) for p in self.products.values()], request)
        if path == "/orders" and method == "GET":
            return _search([self._order_json(o) for o in self.orders.values()], request)
        if match := re.fullmatch(r"/orders/(\d+)", path):
            return self._order_json(self._order(int(match.group(1))))
        if (match := re.fullmatch(r"/order/(\d+)/ship", path)) and method == "POST":
            return self._ship(self._order(int(match.group(1))))
        if (match := re.fullmatch(r"/orders/(\d+)/comments", path)) and method == "POST":
            return self._comment(self._order(int(match.group(1))), _body(request))
        raise MagentoError(404, "Request does not match any route.")

    # --- inventory -----------------------------------------------------------------------------------

    def _salable(self, sku: str) -> Decimal:
        qty, status = self.source_items.get((sku, self.source_code), (Decimal(0), 0))
        return (qty if status else Decimal(0)) + self.reservations.get(sku, Decimal(0))

    def _save_source_items(self, body: Any) -> Any:
        raw = body.get("sourceItems") if isinstance(body, dict) else None
        if not isinstance(raw, list) or not raw:
            raise MagentoError(
                400, '"%fieldName" is required. Enter and try again.', {"fieldName": "sourceItems"}
            )
        errors: list[dict[str, Any]] = []
        checked: list[tuple[str, str, Decimal, int]] = []
        for item in raw:
            if not isinstance(item, dict):
                errors.append({"message": "Source item is not an object.", "parameters": []})
                continue
            sku, source = item.get("sku"), item.get("source_code")
            if not isinstance(sku, str) or not sku:
                errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "sku"}})
                continue
            if sku not in self.products or self.products[sku].type_id != "simple":
                errors.append(
                    {"message": 'Product with SKU "%sku" does not exist.', "parameters": {"sku": sku}}
                )
                continue
            if source != self.source_code:
                errors.append({"message": 'Source "%code" does not exist.', "parameters": {"code": source}})
                continue
            try:
                qty = Decimal(str(item.get("quantity")))
                if not qty.is_finite():
                    raise ArithmeticError
            except ArithmeticError:
                errors.append({"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}})
                continue
            status = item.get("status", 1)
            checked.append((sku, source, qty, 1 if status in (1, "1", True) else 0))
        if errors:
            raise MagentoError(400, "Validation Failed", errors=errors)
        for sku, source, qty, status in checked:
            self.source_items[(sku, source)] = (qty, status)
            self.products[sku].updated = now_s()
        return []

    def _compensate(self, order: Order) -> None:
        for line in order.items:
            if "parent_item_id" not in line:
                sku = line["sku"]
                self.reservations[sku] = self.reservations.get(sku, Decimal(0)) + int(line["qty_ordered"])

    # --- orders --------------------------------------------------------------------------------------

    def _order(self, entity_id: int) -> Order:
        if entity_id not in self.orders:
            raise MagentoError(404, NO_ENTITY)
        return self.orders[entity_id]

    def _ship(self, order: Order) -> str:
        if order.state not in ("processing", "new"):
            raise MagentoError(400, "The order does not allow a shipment to be created.")
        self._compensate(order)
        for line in order.items:
            if "parent_item_id" not in line:
                key = (line["sku"], self.source_code)
                qty, status = self.source_items[key]
                self.source_items[key] = (qty - int(line["qty_ordered"]), status)
        order.state = order.status = "complete"
        order.updated = now_s()
        return str(order.entity_id + 1000)  # the shipment's id

    def _comment(self, order: Order, body: Any) -> bool:
        entry = body.get("statusHistory") if isinstance(body, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("comment"), str):
            raise MagentoError(
                400, '"%fieldName" is required. Enter and try again.', {"fieldName": "statusHistory"}
            )
        order.history.append({**entry, "created_at": _stamp(now_s())})
        if isinstance(entry.get("status"), str) and entry["status"]:
            order.status = entry["status"]
        order.updated = now_s()
        return True

    # --- JSON shapes ---------------------------------------------------------------------------------

    def _product_json(self, product: Product) -> dict[str, Any]:
        return {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "price": float(Decimal(product.price)),
            "type_id": product.type_id,
            "status": 1,
            "updated_at": _stamp(product.updated),
            "custom_attributes": [{"attribute_code": k, "value": v} for k, v in product.attributes.items()],
        }

    def _order_json(self, order: Order) -> dict[str, Any]:
        return {
            "entity_id": order.entity_id,
            "increment_id": order.increment_id,
            "state": order.state,
            "status": order.status,
            "created_at": _stamp(order.created),
            "updated_at": _stamp(order.updated),
            "grand_total": float(Decimal(order.grand_total)),
            "order_currency_code": "EUR",
            "customer_firstname": order.firstname,
            "customer_lastname": order.lastname,
            "items": order.items,
            "status_histories": order.history,
            "extension_attributes": {
                "shipping_assignments": [{"shipping": {"method": order.shipping_method}}],
            },
        }


def _resource(path: str) -> str:
    if path.startswith("/inventory"):
        return "Magento_InventoryApi::source"
    return "Magento_Sales::sales" if "order" in path else "Magento_Catalog::products"


def _body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError as exc:
        raise MagentoError(400, "Decoding error: %1", [str(exc)[:80]]) from exc


def _search(rows: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """Magento's searchCriteria over `rows`: filters, one sort order, pages (past the end: the last)."""
    groups: dict[str, dict[str, dict[str, str]]] = {}
    for key, values in request.query.items():
        if match := _CRITERIA.fullmatch(key):
            groups.setdefault(match.group(1), {}).setdefault(match.group(2), {})[match.group(3)] = values[-1]
    for group in groups.values():
        tests = [_condition(f) for f in group.values()]
        rows = [row for row in rows if any(test(row) for test in tests)]
    sort_field = request.arg("searchCriteria[sortOrders][0][field]")
    if sort_field:
        descending = (request.arg("searchCriteria[sortOrders][0][direction]") or "ASC").upper() == "DESC"
        rows = sorted(
            rows,
            key=lambda row: (str(row.get(sort_field, "")), str(row.get("entity_id", ""))),
            reverse=descending,
        )
    size = _number(request.arg("searchCriteria[pageSize]"), DEFAULT_PAGE)
    page = _number(request.arg("searchCriteria[currentPage]"), 1)
    pages = max(1, -(-len(rows) // size))
    page = min(page, pages)  # Magento answers a page past the end with the last page
    return {
        "items": rows[(page - 1) * size : page * size],
        "search_criteria": {"page_size": size, "current_page": page},
        "total_count": len(rows),
    }


def _number(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise MagentoError(400, '"%fieldName" has invalid value.', {"fieldName": "searchCriteria"})
    return int(text)


def _condition(spec: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    name, value, kind = spec.get("field", ""), spec.get("value", ""), spec.get("condition_type", "eq")

    def text(row: dict[str, Any]) -> str:
        found = row.get(name)
        return "" if found is None else str(found)

    if kind == "eq":
        return lambda row: text(row) == value
    if kind == "in":
        wanted = set(value.split(","))
        return lambda row: text(row) in wanted
    if kind in ("gteq", "gt", "lteq"):
        compare = {"gteq": str.__ge__, "gt": str.__gt__, "lteq": str.__le__}[kind]
        return lambda row: name in row and compare(text(row), value)
    if kind == "like":
        pattern = re.compile(re.escape(value).replace("%", ".*"))
        return lambda row: bool(pattern.fullmatch(text(row)))
    raise MagentoError(400, 'Invalid condition type "%1"', [kind])
