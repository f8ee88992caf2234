"""A PrestaShop 8 shop speaking the Webservice API (`/api/…`), for tests and the demo.

Modelled, as documented: the key as HTTP Basic user with an empty password (or `ws_key=`); XML input only,
XML output by default and JSON with `output_format=JSON` (every value quoted except `id`, and an empty
list answered as `[]`); `display`, `filter[…]` (`[a|b]`, `[a,b]`, `>[…]`, `<[…]`, `[a]%`, dates only with
`date=1`), `sort`, `limit=offset,count`; products and combinations found by `reference`; `stock_availables`
with GET, PUT and PATCH but no POST/DELETE, and a PUT that replaces the whole object: a required field
missing fails with 400 (code 41), an optional one missing (`id_shop`, `location`…) is reset, so a PUT
without `id_shop` moves the row out of the shop (PrestaShop#18953); orders whose stock leaves at
validation, polled by `date_upd`, with state changes through `order_histories`, and orders made through
the Webservice from a customer, an address and a cart (`prestashop_checkout`), their total with the
carrier's delivery cost (`prestashop_carriers`) less the automatic cart rules
(`prestashop_discounts`, rounded by `PS_ROUND_TYPE` and `PS_PRICE_ROUND_MODE`); an order row names its
`customizations` row (the values typed into a product's `product_customization_fields`); `price[alias][…]`
on a product, to `decimals` places (by default `PS_PRICE_ROUND_MODE`'s number, as PrestaShop does; prices
are stored to 6). A resource in `denied` answers 401, as for a key without that permission. With
`version="1.7"`, PATCH answers 405 (code 23).

A product with combinations keeps its own row (`id_product_attribute` 0) at the sum of theirs, whatever is
written to it (StockAvailable::synchronize); `depends_on_stock` is kept as sent. Not modelled: multishop,
`physical_quantity`/`reserved_quantity`, stock movements, `Content-Sha1`
caching, combinations' price impacts, taxes (prices are tax excluded, as PrestaShop stores them),
`language=` filtering, and webhooks (PrestaShop has none in core).
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from simulators.shops import prestashop_carriers as carriers
from simulators.shops import prestashop_checkout as checkout
from simulators.shops import prestashop_discounts as discounts
from simulators.shops.prestashop_checkout import ApiError
from simulators.shops.seed import OutOfStock, SeedProduct, items, now_s
from simulators.shops.server import Request, Response, ShopSimulator

SHOP_ID: Final = 1
STATE_PAYMENT_ACCEPTED: Final = 2
STATE_CANCELLED: Final = 6
DATE_FIELDS: Final = frozenset({"date_add", "date_upd"})
STOCK_FIELDS: Final = (
    "id_product",
    "id_product_attribute",
    "id_shop",
    "id_shop_group",
    "quantity",
    "depends_on_stock",
    "out_of_stock",
    "location",
)
STOCK_REQUIRED: Final = frozenset(
    {"id_product", "id_product_attribute", "quantity", "depends_on_stock", "out_of_stock"}
)
STOCK_DEFAULTS: Final = {"id_shop": "0", "id_shop_group": "0", "location": ""}
XLINK: Final = "http://www.w3.org/1999/xlink"
REALM: Final = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login.'
    ' No password required."'
)
Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    resource: str  # "products"
    element: str  # "product"


TABLES: Final = {
    t.resource: t
    for t in (
        Table("products", "product"),
        Table("combinations", "combination"),
        Table("stock_availables", "stock_available"),
        Table("orders", "order"),
        Table("order_histories", "order_history"),
        Table("messages", "message"),
        Table("customers", "customer"),
        Table("addresses", "address"),
        Table("carts", "cart"),
        Table("customizations", "customization"),
        Table("product_customization_fields", "customization_field"),
        *(Table(resource, element) for resource, element in carriers.TABLES),
        *(Table(resource, element) for resource, element in discounts.TABLES),
    )
}


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _price(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}0000"


def _cents(price: str) -> int:
    return int(Decimal(price) * 100)


class PrestaShopSimulator(ShopSimulator):
    platform = "prestashop"

    def __init__(
        self,
        seed: Iterable[SeedProduct] | None = None,
        *,
        key: str = "SIMULATORKEY000000000000000000PS",
        version: str = "8.1.7",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.key = key
        self.version = version
        self.cart_rule_cents = 0  # a discount off every cart the Webservice does not show (a module's)
        self.denied: set[str] = set()  # resources the key has no permission on (401, as PrestaShop)
        self.rows: dict[str, dict[int, Row]] = {name: {} for name in TABLES}
        self._ids = itertools.count(1)
        carriers.seed(self.rows)
        for item in items(seed):
            codes = {("ean13" if len(code) == 13 else "upc"): code for code in item.barcodes[:2]}
            unity = item.unit if item.unit != "each" else ""
            self.add_product(item.sku, item.name, item.price_cents, item.stock, unity=unity, **codes)

    # --- shop-side actions -----------------------------------------------------------------------------

    def add_product(
        self,
        reference: str,
        name: str,
        price_cents: int,
        stock: int,
        *,
        ean13: str = "",
        upc: str = "",
        isbn: str = "",
        unity: str = "",
    ) -> int:
        """A product; `ean13`, `upc`, `isbn` are its barcode fields, `unity` its unit price's unit label."""
        with self.lock:
            pid = next(self._ids)
            self.rows["products"][pid] = {
                "id": pid,
                "reference": reference,
                "name": name,
                "price": _price(price_cents),
                "ean13": ean13,
                "upc": upc,
                "isbn": isbn,
                "mpn": "",
                "unity": unity,
                "weight": "0.000000",
                "additional_shipping_cost": "0.000000",
                "active": "1",
                "date_add": _stamp(now_s()),
                "date_upd": _stamp(now_s()),
            }
            self._add_stock_row(pid, 0, stock)
            return pid

    def add_combination(
        self, product_id: int, reference: str, stock: int, *, ean13: str = "", price_impact_cents: int = 0
    ) -> int:
        """A combination with its own reference, EAN-13 and stock row; its price is an impact on the
        product's. As in PrestaShop, adding one touches the product's `date_upd`.
        """
        with self.lock:
            cid = next(self._ids)
            self.rows["combinations"][cid] = {
                "id": cid,
                "id_product": str(product_id),
                "reference": reference,
                "ean13": ean13,
                "upc": "",
                "isbn": "",
                "mpn": "",
                "price": _price(price_impact_cents),
                "weight": "0.000000",
            }
            self._add_stock_row(product_id, cid, stock)
            self.rows["products"][product_id]["date_upd"] = _stamp(now_s())
            self._synchronize()
            return cid

    def _synchronize(self) -> None:
        """PrestaShop 8 keeps a product's own row (`id_product_attribute` 0) at the sum of its combinations'
        rows (StockAvailable::synchronize): whatever was written to it, the sum comes back.
        """
        rows = self.rows["stock_availables"].values()
        sums: dict[tuple[str, str], int] = {}
        for row in rows:
            if row["id_product_attribute"] != "0":
                key = (row["id_product"], row["id_shop"])
                sums[key] = sums.get(key, 0) + int(row["quantity"])
        for row in rows:
            key = (row["id_product"], row["id_shop"])
            if row["id_product_attribute"] == "0" and key in sums:
                row["quantity"] = str(sums[key])

    def _add_stock_row(self, product_id: int, attribute_id: int, stock: int) -> None:
        sid = next(self._ids)
        self.rows["stock_availables"][sid] = {
            "id": sid,
            "id_product": str(product_id),
            "id_product_attribute": str(attribute_id),
            "id_shop": str(SHOP_ID),
            "id_shop_group": "0",
            "quantity": str(stock),
            "depends_on_stock": "0",
            "out_of_stock": "2",
            "location": "",
        }

    def stock(self, reference: str) -> int:
        with self.lock:
            return int(self._stock_row(reference)["quantity"])

    def edit_stock(self, reference: str, delta: int) -> int:
        """The merchant changes the number in the shop's admin by `delta`; returns the new number."""
        with self.lock:
            row = self._stock_row(reference)
            row["quantity"] = str(int(row["quantity"]) + delta)
            self._synchronize()
            return int(row["quantity"])

    def stock_row(self, reference: str) -> Row:
        """The whole `stock_availables` row, to check that a write kept the other fields."""
        with self.lock:
            return dict(self._stock_row(reference))

    def set_price(self, reference: str, price_cents: int) -> None:
        self.set_exact_price(reference, Decimal(price_cents) / 100)

    def set_exact_price(self, reference: str, price: Decimal) -> None:
        """A price to 6 decimals, as PrestaShop stores it (e.g. 1.004: a unit whose cent is rounded)."""
        with self.lock:
            product = self._product_by_reference(reference)
            product["price"] = f"{price:.6f}"
            product["date_upd"] = _stamp(now_s())

    def place_food_order(
        self,
        items: list[tuple[str, int, dict[str, str]]],
        *,
        pickup: bool = True,
        customer: str = "Ana",
        note: str = "",
        customized: dict[int, dict[str, str]] | None = None,
        carrier: int = 0,
    ) -> int:
        """An order of several lines; each line's attributes show in its `product_name` as PrestaShop
        names a combination ("Pizza - Tamaño : Familiar"); `note` is the customer's message at checkout;
        `customized` the values the customer typed into a line's customization fields, by line index and
        field name (`add_customization_field`), kept as a `customizations` row the order row names;
        `carrier` the order's carrier id (`place_order`)."""
        first, qty, _ = items[0]
        oid = self.place_order(first, qty, pickup=pickup, customer=customer, carrier=carrier)
        with self.lock:
            order = self.rows["orders"][oid]
            order["rows"] = []
            total = 0
            for reference, count, attrs in items:
                row = self._stock_row(reference)
                if reference != first:
                    row["quantity"] = str(int(row["quantity"]) - count)
                product = self.rows["products"][int(row["id_product"])]
                price = int(product["price"].replace(".", "")[:-4])
                total += price * count
                suffix = ", ".join(f"{k} : {v}" for k, v in attrs.items())
                order["rows"].append(
                    {
                        "id": str(next(self._ids)),
                        "product_id": row["id_product"],
                        "product_attribute_id": row["id_product_attribute"],
                        "product_quantity": str(count),
                        "product_name": f"{product['name']} - {suffix}" if suffix else product["name"],
                        "product_reference": reference,
                        "id_customization": self._customization(
                            row, (customized or {}).get(len(order["rows"]), {})
                        ),
                        "unit_price_tax_incl": _price(price),
                    }
                )
            order["total_paid"] = _price(total)
            if note:
                mid = next(self._ids)
                self.rows["messages"][mid] = {
                    "id": mid,
                    "id_order": str(oid),
                    "id_employee": "0",
                    "message": note,
                    "private": "0",
                    "date_add": order["date_add"],
                }
            return oid

    def _customization(self, stock_row: Row, values: dict[str, str]) -> str:
        if not values:
            return "0"
        fields = {
            f["name"]: f["id"]
            for f in self.rows["product_customization_fields"].values()
            if f["id_product"] == stock_row["id_product"]
        }
        cid = next(self._ids)
        self.rows["customizations"][cid] = {
            "id": cid,
            "id_cart": "0",
            "id_product": stock_row["id_product"],
            "id_product_attribute": stock_row["id_product_attribute"],
            "quantity": "1",
            "in_cart": "1",
            "texts": [(str(fields[name]), value) for name, value in values.items()],
        }
        return str(cid)

    def place_order(
        self, reference: str, qty: int, *, pickup: bool = False, customer: str = "Ana", carrier: int = 0
    ) -> int:
        """A validated (paid) order; its units leave `quantity` at once, as PrestaShop does at validation.
        Its carrier is `carrier`, else 2 for a pickup and 1 otherwise."""
        with self.lock:
            row = self._stock_row(reference)
            if int(row["quantity"]) < qty and row["out_of_stock"] != "1":
                raise OutOfStock(
                    f"prestashop simulator: {qty} × {reference} wanted, {row['quantity']} in stock"
                )
            row["quantity"] = str(int(row["quantity"]) - qty)
            self._synchronize()
            product = self.rows["products"][int(row["id_product"])]
            oid = next(self._ids)
            price = int(product["price"].replace(".", "")[:-4])
            now = _stamp(now_s())
            self.rows["orders"][oid] = {
                "id": oid,
                "reference": f"SIM{oid:06d}",
                "current_state": str(STATE_PAYMENT_ACCEPTED),
                "valid": "1",
                "id_carrier": str(carrier or (2 if pickup else 1)),
                "id_customer": "1",
                "customer": customer,
                "date_add": now,
                "date_upd": now,
                "total_paid": _price(price * qty),
                "rows": [
                    {
                        "id": str(next(self._ids)),
                        "product_id": row["id_product"],
                        "product_attribute_id": row["id_product_attribute"],
                        "product_quantity": str(qty),
                        "product_name": product["name"],
                        "product_reference": reference,
                        "unit_price_tax_incl": _price(price),
                    }
                ],
            }
            return oid

    def add_carrier(self, name: str, ranges: list[tuple[str, str, int]], **kw: Any) -> int:
        """A paid carrier (`prestashop_carriers.add_carrier`: price ranges by default, zone 1)."""
        with self.lock:
            return carriers.add_carrier(self.rows, self._ids, name, ranges, **kw)

    def edit_carrier(self, carrier_id: int, price_cents: int | None = None) -> int:
        """The merchant saves the carrier in the back office: it gets a new id (`prestashop_carriers`)."""
        with self.lock:
            return carriers.edit_carrier(self.rows, self._ids, carrier_id, price_cents)

    def add_cart_rule(self, name: str, **fields: Any) -> int:
        """A cart rule (`prestashop_discounts.add_rule`): e.g. `reduction_percent="10"`,
        `minimum_amount="30"`; without `code`, PrestaShop puts it on every cart it suits."""
        with self.lock:
            return discounts.add_rule(self.rows, self._ids, name, **fields)

    def set_configuration(self, name: str, value: str) -> None:
        """A shop setting, e.g. `PS_SHIPPING_FREE_PRICE` "30" (free delivery from 30 €)."""
        with self.lock:
            carriers.set_configuration(self.rows, self._ids, name, value)

    def set_shipping_facts(self, reference: str, *, weight: str = "", additional: str = "") -> None:
        """A product's `weight` (kg) and `additional_shipping_cost` (per unit, without tax)."""
        with self.lock:
            product = self._product_by_reference(reference)
            product["weight"] = weight or product["weight"]
            product["additional_shipping_cost"] = additional or product["additional_shipping_cost"]

    def order_state(self, order_id: int) -> int:
        with self.lock:
            return int(self.rows["orders"][order_id]["current_state"])

    def _product_by_reference(self, reference: str) -> Row:
        for product in self.rows["products"].values():
            if product["reference"] == reference:
                return product
        raise KeyError(f"prestashop simulator: no product with reference {reference!r}")

    def _stock_row(self, reference: str) -> Row:
        target: tuple[str, str] | None = None
        for combination in self.rows["combinations"].values():
            if combination["reference"] == reference:
                target = (combination["id_product"], str(combination["id"]))
        if target is None:
            target = (str(self._product_by_reference(reference)["id"]), "0")
        for row in self.rows["stock_availables"].values():
            if (row["id_product"], row["id_product_attribute"]) == target:
                return row
        raise KeyError(f"prestashop simulator: no stock row for {reference!r}")

    # --- HTTP ------------------------------------------------------------------------------------------

    def label(self, request: Request) -> str:
        path = re.sub(r"/\d+", "/{id}", request.path)
        return f"{request.method} {path}"

    def route(self, request: Request) -> Response:
        as_json = (request.arg("output_format") or request.headers.get("output-format", "")).upper() == "JSON"
        try:
            self._authenticate(request)
            return self._dispatch(request, as_json)
        except ApiError as exc:
            headers = {"PSWS-Version": self.version}
            if exc.status == 401:
                headers["WWW-Authenticate"] = REALM
            if as_json:
                return Response.of_json(
                    exc.status, {"errors": [{"code": exc.code, "message": exc.message}]}, headers
                )
            return _xml_response(exc.status, _errors_xml(exc), headers)

    def _authenticate(self, request: Request) -> None:
        key = request.arg("ws_key")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                key = base64.b64decode(header[6:]).decode().partition(":")[0]
            except ValueError:
                key = ""
        if not key:
            raise ApiError(401, 17, "Authentication key is empty")
        if len(key) != 32:
            raise ApiError(401, 18, "Invalid authentication key format")
        if not secrets.compare_digest(key, self.key):
            raise ApiError(401, 19, "Authentication key does not exist")

    def _dispatch(self, request: Request, as_json: bool) -> Response:
        match = re.fullmatch(r"/api/(\w+)(?:/(\d+))?/?", request.path)
        if match is None or match.group(1) not in TABLES:
            raise ApiError(400, 20, f"Method {request.method} is not valid for this resource")
        table, row_id = TABLES[match.group(1)], match.group(2)
        handlers: dict[tuple[str, bool], Callable[[Request, Table, int, bool], Response]] = {
            ("GET", False): lambda r, t, _i, j: self._list(r, t, j),
            ("GET", True): self._get,
            ("PUT", True): self._put,
            ("PATCH", True): self._patch,
            ("POST", False): lambda r, t, _i, j: self._post(r, t, j),
        }
        if table.resource in self.denied:
            raise ApiError(401, 26, f'Resource of type "{table.resource}" is not allowed with this key')
        handler = handlers.get((request.method, row_id is not None))
        if handler is None or not self._allowed(request.method, table):
            raise ApiError(405, 23, f"Method {request.method} is not valid")
        return handler(request, table, int(row_id or 0), as_json)

    def _allowed(self, method: str, table: Table) -> bool:
        if table.resource == "stock_availables":
            return method in ("GET", "PUT", "HEAD") or (
                method == "PATCH" and not self.version.startswith("1.")
            )
        if table.resource in ("order_histories", "messages", "customers", "addresses", "carts", "orders"):
            return method in ("POST", "GET")
        return method == "GET"

    def _list(self, request: Request, table: Table, as_json: bool) -> Response:
        rows = [self._public(table, r) for r in self.rows[table.resource].values()]
        rows = self._filter(request, rows)
        rows = self._sort(request, rows)
        rows = self._limit(request, rows)
        fields = self._display(request)
        shown = [_project(r, fields) for r in rows]
        if as_json:
            return Response.of_json(
                200, {table.resource: shown} if shown else [], {"PSWS-Version": self.version}
            )
        full = fields is not None
        return _xml_response(200, _list_xml(table, shown, full=full), {"PSWS-Version": self.version})

    def _get(self, request: Request, table: Table, row_id: int, as_json: bool) -> Response:
        row = self._row(table, row_id)
        public = self._public(table, row)
        if table.resource == "products":
            public.update(self._prices(request, row))
        if as_json:
            return Response.of_json(200, {table.element: public})
        return _xml_response(200, _object_xml(table, public), {"PSWS-Version": self.version})

    def _put(self, request: Request, table: Table, row_id: int, as_json: bool) -> Response:
        row = self._row(table, row_id)
        given = _parse_body(request, table)
        if given.get("id") != str(row_id):
            raise ApiError(400, 90, "id is required when modifying a resource")
        missing = sorted(STOCK_REQUIRED - given.keys())
        if missing:
            raise ApiError(400, 41, f'parameter "{missing[0]}" required')
        _check_int(given, "quantity")
        for name in STOCK_FIELDS:
            row[name] = given.get(name, STOCK_DEFAULTS.get(name, ""))
        self._synchronize()
        return self._get(request, table, row_id, as_json)

    def _patch(self, request: Request, table: Table, row_id: int, as_json: bool) -> Response:
        row = self._row(table, row_id)
        given = {k: v for k, v in _parse_body(request, table).items() if k in STOCK_FIELDS}
        _check_int({**row, **given}, "quantity")
        row.update(given)
        self._synchronize()
        return self._get(request, table, row_id, as_json)

    def _post(self, request: Request, table: Table, as_json: bool) -> Response:
        posts = {
            "messages": self._post_message,
            "customers": self._post_customer,
            "addresses": self._post_address,
            "carts": self._post_cart,
            "orders": self._post_order,
        }
        if table.resource in posts:
            return posts[table.resource](request, table, as_json)
        given = _parse_body(request, table)
        order = self.rows["orders"].get(int(given.get("id_order", "0") or "0"))
        state = given.get("id_order_state", "")
        if order is None or not state.isdigit():
            raise ApiError(400, 41, 'parameter "id_order" required')
        if int(state) == STATE_CANCELLED and order["current_state"] != str(STATE_CANCELLED):
            for line in order["rows"]:
                row = self._stock_row(line["product_reference"])
                row["quantity"] = str(int(row["quantity"]) + int(line["product_quantity"]))
            self._synchronize()
        order["current_state"] = state
        order["date_upd"] = _stamp(now_s())
        hid = next(self._ids)
        history = {
            "id": hid,
            "id_order": str(order["id"]),
            "id_order_state": state,
            "date_add": order["date_upd"],
        }
        self.rows["order_histories"][hid] = history  # the state's template mail goes to the customer
        if as_json:
            return Response.of_json(201, {table.element: history})
        return _xml_response(201, _object_xml(table, history), {})

    def _post_message(self, request: Request, table: Table, as_json: bool) -> Response:
        """`POST /messages`: a message on an order or a cart; `private` 0 shows it to the customer."""
        given = _parse_body(request, table)
        checkout.check_message(given)
        on_order = int(given.get("id_order", "0") or "0") in self.rows["orders"]
        if not on_order and int(given.get("id_cart", "0") or "0") not in self.rows["carts"]:
            raise ApiError(400, 41, 'parameter "id_order" or "id_cart" required')
        mid = next(self._ids)
        message = {
            "id": mid,
            "id_cart": given.get("id_cart", "0") or "0",
            "id_order": given.get("id_order", "0") or "0",
            "id_customer": given.get("id_customer", "0") or "0",
            "id_employee": given.get("id_employee", "0") or "0",
            "message": given["message"],
            "private": given.get("private", "1"),
            "date_add": _stamp(now_s()),
        }
        self.rows["messages"][mid] = message
        return self._created(table, message, as_json)

    def _created(self, table: Table, row: Row, as_json: bool) -> Response:
        public = self._public(table, row)
        if as_json:
            return Response.of_json(201, {table.element: public}, {"PSWS-Version": self.version})
        return _xml_response(201, _object_xml(table, public), {"PSWS-Version": self.version})

    def _post_customer(self, request: Request, table: Table, as_json: bool) -> Response:
        given, _ = checkout.parse_document(request.body, table.element)
        row = checkout.new_customer(given, next(self._ids), _stamp(now_s()))
        self.rows["customers"][row["id"]] = row
        return self._created(table, row, as_json)

    def _post_address(self, request: Request, table: Table, as_json: bool) -> Response:
        given, _ = checkout.parse_document(request.body, table.element)
        row = checkout.new_address(given, next(self._ids), self.rows["customers"], _stamp(now_s()))
        self.rows["addresses"][row["id"]] = row
        return self._created(table, row, as_json)

    def _post_cart(self, request: Request, table: Table, as_json: bool) -> Response:
        """A cart and its rows; each row's product (and combination of that product) must exist."""
        given, associations = checkout.parse_document(request.body, table.element)
        checkout.required(given, checkout.CART_REQUIRED)
        rows = []
        for row in associations.get("cart_rows", []):
            product, attribute = row.get("id_product", ""), row.get("id_product_attribute", "0") or "0"
            if not product.isdigit() or int(product) not in self.rows["products"]:
                raise checkout.invalid("Cart", "id_product")
            combination = self.rows["combinations"].get(int(attribute)) if attribute.isdigit() else None
            if attribute != "0" and (combination is None or combination["id_product"] != product):
                raise checkout.invalid("Cart", "id_product_attribute")
            if not row.get("quantity", "").isdigit() or int(row["quantity"]) < 1:
                raise checkout.invalid("Cart", "quantity")
            rows.append(
                {"id_product": product, "id_product_attribute": attribute, "quantity": row["quantity"]}
            )
        fields = ("id_currency", "id_lang", "id_customer", "id_address_delivery", "id_address_invoice")
        cid = next(self._ids)
        cart: Row = {
            "id": cid,
            **{name: given.get(name, "0") or "0" for name in (*fields, "id_carrier")},
            "id_shop": given.get("id_shop", str(SHOP_ID)) or str(SHOP_ID),
            "secure_key": given.get("secure_key", ""),
            "date_add": _stamp(now_s()),
            "rows": rows,
        }
        self.rows["carts"][cid] = cart
        return self._created(table, cart, as_json)

    def _post_order(self, request: Request, table: Table, as_json: bool) -> Response:
        """`Order::addWs`: the payment module's validateOrder on the cart (see `prestashop_checkout`)."""
        given, _ = checkout.parse_document(request.body, table.element)
        checkout.check_order(given)
        cart = self.rows["carts"].get(int(given["id_cart"]))
        if cart is None or any(o.get("id_cart") == str(cart["id"]) for o in self.rows["orders"].values()):
            raise ApiError(
                500, 0, "Cart cannot be loaded or an order has already been placed using this cart"
            )
        if given["module"] not in checkout.PAYMENT_MODULES:
            raise ApiError(500, 0, f"Payment module '{given['module']}' not found")
        customer = self.rows["customers"].get(int(given["id_customer"]))
        if customer is not None and cart["secure_key"] != customer["secure_key"]:
            raise ApiError(500, 0, "Secure key does not match")
        if customer is None or cart["id_customer"] != given["id_customer"] or not cart["rows"]:
            raise ApiError(
                500, 0, "Cart cannot be loaded or an order has already been placed using this cart"
            )
        lines, units, weight, additional = [], [], Decimal(0), Decimal(0)
        for row in cart["rows"]:
            product = self.rows["products"][int(row["id_product"])]
            unit = Decimal(product["price"])
            reference = product["reference"]
            qty = int(row["quantity"])
            weight += Decimal(product["weight"]) * qty
            additional += Decimal(product["additional_shipping_cost"]) * qty
            if row["id_product_attribute"] != "0":
                combination = self.rows["combinations"][int(row["id_product_attribute"])]
                unit += Decimal(combination["price"])
                weight += Decimal(combination["weight"]) * qty
                reference = combination["reference"] or reference
            units.append((unit, qty))
            lines.append((row, product, reference, unit))
        round_type, mode = self._rounding()
        applied = discounts.automatic(
            self.rows,
            cart["id_customer"],
            discounts.products_total(units, round_type, mode),
            now_s().replace(tzinfo=None),
        )
        products, _ = discounts.cart_total(units, applied, round_type, mode)
        total = max(0, int(products * 100) - self.cart_rule_cents)
        address = self.rows["addresses"].get(int(cart["id_address_delivery"]))
        country = int(address["id_country"]) if address is not None else carriers.SPAIN
        delivery = (
            Decimal(0)
            if discounts.ships_free(applied)
            else carriers.shipping(
                self.rows, int(cart["id_carrier"]), country, Decimal(total) / 100, weight, additional
            )
        )
        shipping_cents = int(delivery * 100)
        total += shipping_cents
        paid = int(Decimal(given["total_paid"]) * 100)
        state = checkout.STATE_WS_PAYMENT if paid == total else checkout.STATE_ERROR
        oid = next(self._ids)
        now = _stamp(now_s())
        order_rows = []
        for row, product, reference, unit in lines:
            if state != checkout.STATE_ERROR:  # an order in payment error takes no stock
                stock = self._stock_row(reference)
                stock["quantity"] = str(int(stock["quantity"]) - int(row["quantity"]))
            order_rows.append(
                {
                    "id": str(next(self._ids)),
                    "product_id": row["id_product"],
                    "product_attribute_id": row["id_product_attribute"],
                    "product_quantity": row["quantity"],
                    "product_name": product["name"],
                    "product_reference": reference,
                    "id_customization": "0",
                    "unit_price_tax_incl": f"{unit:.6f}",
                }
            )
        self._synchronize()
        self.rows["orders"][oid] = {
            "id": oid,
            "reference": f"SIM{oid:06d}",
            "id_cart": str(cart["id"]),
            "id_customer": given["id_customer"],
            "id_address_delivery": given["id_address_delivery"],
            "current_state": str(state),
            "valid": "1" if state == checkout.STATE_WS_PAYMENT else "0",
            "id_carrier": given["id_carrier"],
            "module": given["module"],
            "payment": given["payment"],
            "customer": f"{customer['firstname']} {customer['lastname']}",
            "date_add": now,
            "date_upd": now,
            "total_paid": _price(total),
            "total_paid_real": _price(total) if state == checkout.STATE_WS_PAYMENT else _price(0),
            "total_shipping": _price(shipping_cents),
            "rows": order_rows,
        }
        discounts.record(self.rows, self._ids, applied, oid)  # in "Payment error" too, as validateOrder
        for message in self.rows["messages"].values():  # the customer's checkout message moves along
            if message["id_cart"] == str(cart["id"]) and message["private"] == "0":
                message["id_order"] = str(oid)
                break
        return self._created(table, self.rows["orders"][oid], as_json)

    def order_story(self, order_id: int) -> tuple[list[str], list[str]]:
        """(the states the order went through after it was placed, the messages the customer can see)."""
        with self.lock:
            states = [
                h["id_order_state"]
                for h in self.rows["order_histories"].values()
                if h["id_order"] == str(order_id)
            ]
            shown = [
                m["message"]
                for m in self.rows["messages"].values()
                if m["id_order"] == str(order_id) and m["private"] == "0" and m["id_employee"] != "0"
            ]
            return states, shown

    def _rounding(self) -> tuple[int, int]:
        """(`PS_ROUND_TYPE`, `PS_PRICE_ROUND_MODE`); PrestaShop's fallbacks (each item, half up) for one
        missing or unknown."""
        config = {row["name"]: row["value"] for row in self.rows["configurations"].values()}
        round_type = config.get("PS_ROUND_TYPE", "")
        mode = config.get("PS_PRICE_ROUND_MODE", "")
        return (
            int(round_type) if round_type in ("1", "2", "3") else discounts.ROUND_ITEM,
            int(mode) if mode.isdigit() else 2,
        )

    def _prices(self, request: Request, product: Row) -> dict[str, str]:
        """`price[alias][…]=…`: the product's price (a combination's with `product_attribute`) in a field
        named `alias`, to `decimals` places (by default as many as `PS_PRICE_ROUND_MODE`'s number, as the
        Webservice does); taxes are not modelled, so `use_tax` gives the same number."""
        mode = self._rounding()[1]
        found: dict[str, str] = {}
        for name in request.query:
            match = re.fullmatch(r"price\[(\w+)\]\[(\w+)\]", name)
            if match is None:
                continue
            alias = match.group(1)
            attribute = request.arg(f"price[{alias}][product_attribute]") or "0"
            unit = Decimal(product["price"])
            combination = self.rows["combinations"].get(int(attribute)) if attribute.isdigit() else None
            if combination is not None and combination["id_product"] == str(product["id"]):
                unit += Decimal(combination["price"])
            places = request.arg(f"price[{alias}][decimals]") or str(mode)
            places = places if places.isdigit() else str(mode)
            found[alias] = str(discounts.ps_round(unit, min(int(places), 6), mode))
        return found

    def add_customization_field(self, reference: str, name: str) -> int:
        """A text customization field on a product ("Sin", "Nota"): what the customer fills in per line."""
        with self.lock:
            fid = next(self._ids)
            product = self._product_by_reference(reference)
            self.rows["product_customization_fields"][fid] = {
                "id": fid,
                "id_product": str(product["id"]),
                "type": "1",
                "required": "0",
                "name": name,
            }
            return fid

    def phone_order_parts(self) -> dict[str, int]:
        """How many customers, addresses, carts and orders the shop has (what a phone order created)."""
        with self.lock:
            return {name: len(self.rows[name]) for name in ("customers", "addresses", "carts", "orders")}

    def _row(self, table: Table, row_id: int) -> Row:
        row = self.rows[table.resource].get(row_id)
        if row is None:
            raise ApiError(404, 87, f"Id(s) not exists: {row_id}")
        return row

    def _public(self, table: Table, row: Row) -> Row:
        """The row as the webservice shows it: multilingual names, order rows as associations."""
        if table.resource == "products":
            return {**row, "name": [{"id": "1", "value": row["name"]}]}
        if table.resource == "orders":
            shown = {k: v for k, v in row.items() if k not in ("rows", "customer")}
            rows = [{"id_customization": "0", **r} for r in row["rows"]]
            return {**shown, "associations": {"order_rows": rows}}
        if table.resource == "carts":
            shown = {k: v for k, v in row.items() if k != "rows"}
            return {**shown, "associations": {"cart_rows": [dict(r) for r in row["rows"]]}}
        if table.resource == "customizations":
            shown = {k: v for k, v in row.items() if k != "texts"}
            texts = [{"id_customization_field": f, "value": v} for f, v in row["texts"]]
            return {**shown, "associations": {"customized_data_text_fields": texts}}
        if table.resource in ("product_customization_fields", "cart_rules"):
            return {**row, "name": [{"id": "1", "value": row["name"]}]}
        return dict(row)

    # list parameters

    def _filter(self, request: Request, rows: list[Row]) -> list[Row]:
        for name, values in request.query.items():
            match = re.fullmatch(r"filter\[(\w+)\]", name)
            if not match:
                continue
            column = match.group(1)
            if column in DATE_FIELDS and request.arg("date") != "1":
                raise ApiError(400, 33, f'The field "{column}" is a date: add date=1 to filter on it')
            test = _filter_test(values[-1])
            rows = [r for r in rows if column in r and test(str(r[column]))]
        return rows

    def _sort(self, request: Request, rows: list[Row]) -> list[Row]:
        sort = request.arg("sort")
        if not sort:
            return rows
        match = re.fullmatch(r"\[(\w+)_(ASC|DESC)\]", sort)
        if match is None:
            raise ApiError(400, 37, f"Unable to sort by {sort}")
        column, direction = match.groups()
        key = (lambda r: int(r.get(column, 0))) if column == "id" else (lambda r: str(r.get(column, "")))
        return sorted(rows, key=key, reverse=direction == "DESC")

    @staticmethod
    def _limit(request: Request, rows: list[Row]) -> list[Row]:
        limit = request.arg("limit")
        if not limit:
            return rows
        parts = limit.split(",")
        if not all(p.strip().isdigit() for p in parts) or len(parts) > 2:
            raise ApiError(400, 36, f"Invalid limit {limit}")
        start, count = (0, int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
        return rows[start : start + count]

    @staticmethod
    def _display(request: Request) -> list[str] | None:
        display = request.arg("display")
        if display is None:
            return None
        if display == "full":
            return ["full"]
        return [f.strip() for f in display.strip("[]").split(",")]


def _project(row: Row, fields: list[str] | None) -> Row:
    """`display`: absent shows ids only, `full` everything, `[a,b]` just those fields."""
    if fields is None:
        return {"id": row["id"]}
    if fields == ["full"]:
        return row
    return {k: v for k, v in row.items() if k in fields}


def _filter_test(spec: str) -> Callable[[str], bool]:
    """PrestaShop's filter syntax: `[a|b]` any of, `[a,b]` interval (lower bound inclusive, upper exclusive
    for dates, as documented), `>[a]`, `<[a]`, `![a]`; numbers compare as numbers.
    """
    if spec.startswith("[") and spec.endswith("]%"):  # begins with (SQL LIKE: `_` and `%` match anything)
        wild = {"_": ".", "%": ".*"}
        like = re.compile("".join(wild.get(ch) or re.escape(ch) for ch in spec[1:-2]), re.S)
        return lambda v: like.match(v) is not None
    op, _, inner = spec.partition("[")
    inner = inner.removesuffix("]")

    def cmp(a: str, b: str) -> int:
        if a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
            return (int(a) > int(b)) - (int(a) < int(b))
        return (a > b) - (a < b)

    if op == ">":
        return lambda v: cmp(v, inner) > 0
    if op == "<":
        return lambda v: cmp(v, inner) < 0
    if op == "!":
        return lambda v: v != inner
    if "," in inner:
        lo, hi = inner.split(",", 1)
        return lambda v: cmp(v, lo) >= 0 and cmp(v, hi) < 0
    wanted = set(inner.split("|"))
    return lambda v: v in wanted


def _check_int(row: dict[str, Any], name: str) -> None:
    if not re.fullmatch(r"-?\d+", str(row[name])):
        raise ApiError(400, 41, f'Validation error: "Property StockAvailable->{name} is not valid"')


def _parse_body(request: Request, table: Table) -> dict[str, str]:
    """The fields of a posted `<prestashop><element>…` document (JSON input is refused, as in 8.1)."""
    try:
        root = ET.fromstring(request.body)
    except ET.ParseError as exc:
        raise ApiError(400, 127, f"XML error: {exc}") from exc
    element = root.find(table.element)
    if root.tag != "prestashop" or element is None:
        raise ApiError(400, 127, f"XML error: expected <prestashop><{table.element}>")
    return {child.tag: (child.text or "") for child in element}


def _xml_response(status: int, root: ET.Element, headers: dict[str, str]) -> Response:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return Response(status, body, {"Content-Type": "text/xml;charset=utf-8", **headers})


def _root() -> ET.Element:
    root = ET.Element("prestashop")
    root.set("xmlns:xlink", XLINK)
    return root


def _fill(element: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(element, name)
    if name == "name" and isinstance(value, list):
        for entry in value:
            ET.SubElement(child, "language", {"id": entry["id"]}).text = entry["value"]
    elif name == "associations" and isinstance(value, dict):
        for assoc, rows in value.items():
            holder = ET.SubElement(child, assoc)
            for row in rows:
                item = ET.SubElement(holder, assoc.removesuffix("s"))
                for key, val in row.items():
                    ET.SubElement(item, key).text = str(val)
    else:
        child.text = str(value)


def _object_xml(table: Table, row: Row) -> ET.Element:
    root = _root()
    element = ET.SubElement(root, table.element)
    for name, value in row.items():
        _fill(element, name, value)
    return root


def _list_xml(table: Table, rows: list[Row], *, full: bool) -> ET.Element:
    root = _root()
    holder = ET.SubElement(root, table.resource)
    for row in rows:
        if not full:
            ET.SubElement(holder, table.element, {"id": str(row["id"])})
            continue
        element = ET.SubElement(holder, table.element)
        for name, value in row.items():
            _fill(element, name, value)
    return root


def _errors_xml(exc: ApiError) -> ET.Element:
    root = _root()
    error = ET.SubElement(ET.SubElement(root, "errors"), "error")
    ET.SubElement(error, "code").text = str(exc.code)
    ET.SubElement(error, "message").text = exc.message
    return root
