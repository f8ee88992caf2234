"""PrestaShop through the Webservice API (`/api/…`), 1.7 and 8.x.

Skus are `reference`s on products and combinations; stock lives in `stock_availables` rows, written one
row per request (there is no batch endpoint) with an absolute `quantity`. Reads are batched: the rows of
many skus in one `GET /stock_availables?filter[id]=[a|b|c]&display=full` once the sku's ids are known
(looked up by reference again after `LOOKUP_TTL_S`). A write PUTs the whole row as last read (every field,
`display=full`) with only the quantity changed, the row read again first unless it was read a moment ago
(`common.ReadTimes`); with `use_patch` (8.0+) it sends a PATCH of the quantity alone, falling back to the
full PUT where the shop answers 405. Reads use JSON output. There are no webhooks: orders are polled on
`date_upd`, in the shop's local time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cloud_bridge.connectors import orderfacts as of
from cloud_bridge.connectors import prestashop_custom as custom
from cloud_bridge.connectors import prestashop_phone as phone
from cloud_bridge.connectors import prestashop_pickup as pickups
from cloud_bridge.connectors import prestashop_xml as psxml
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
    FloorStage,
    ItemResult,
    LineOption,
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
    barcodes,
    derived_sku,
    product_or_problem,
    unit,
)
from cloud_bridge.connectors.common import (
    ConnectorOptions,
    ReadTimes,
    chunked,
    load_json,
    reading,
    result_order,
)
from cloud_bridge.connectors.cursor import PollWindow
from cloud_bridge.connectors.http import Call, OverHttp, ShopHttp
from cloud_bridge.connectors.unreadable import order_or_problem, stock_line
from cloud_bridge.errors import (
    AmbiguousSku,
    RequestRejected,
    ShopAuthError,
    ShopConfigError,
    ShopError,
    StaleStock,
    StockNotManaged,
    UnknownSku,
    UnsupportedOperation,
)

log = logging.getLogger(__name__)

LOOKUP_CHUNK: Final = 50
LOOKUP_TTL_S: Final = 600.0  # a sku's ids are looked up by reference again this late (a renamed sku)
PAGE: Final = 100
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
FILTER_UNSAFE: Final = frozenset("[]|,%")
DEFAULT_STATES: Final = {
    1: OrderState.PENDING,  # awaiting check payment
    2: OrderState.PAID,  # payment accepted
    3: OrderState.PAID,  # processing in progress
    4: OrderState.PAID,  # shipped
    5: OrderState.COMPLETED,  # delivered
    6: OrderState.CANCELLED,
    7: OrderState.REFUNDED,
    8: OrderState.CANCELLED,  # payment error
    9: OrderState.PAID,  # on backorder (paid)
    10: OrderState.PENDING,  # awaiting bank wire payment
    11: OrderState.PAID,  # remote payment accepted
    12: OrderState.PENDING,  # on backorder (not paid)
    13: OrderState.PENDING,  # awaiting cash on delivery validation
}
JSON: Final = {"output_format": "JSON"}
BARCODE_FIELDS: Final = ("ean13", "upc", "isbn")


@dataclass(frozen=True)
class _Item:
    sku: str
    product_id: str
    attribute_id: str  # "0" for a product without combinations
    stock_id: int
    quantity: int
    row: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the whole stock row, for a PUT
    combined: bool = False  # a product's own row while it has combinations: PrestaShop keeps their sum

    def unmanaged(self) -> str | None:
        """Why a quantity written to this row would not stick, or None (PrestaShop 8's stock model)."""
        if self.combined:
            return "its stock is kept per combination (the product's row is their sum); sell the combinations"
        if str(self.row.get("depends_on_stock", "0")) == "1":
            return "depends_on_stock is 1: PrestaShop computes its quantity from physical stock"
        return None


class PrestaShopConnector(OverHttp):
    platform = "prestashop"
    supports_deltas = False
    limits = BatchLimits(reads=LOOKUP_CHUNK, writes=1)  # no batch write in the Webservice
    supports_cas = False
    supports_webhooks = False

    def __init__(
        self,
        shop: str,
        base_url: str,
        key: str,
        *,
        shop_id: int = 1,
        timezone: str = "UTC",
        currency: str = "EUR",
        pickup_carriers: Sequence[int] = (),
        completed_state: int = 5,
        accepted_state: int = 3,
        ready_state: int = 0,
        states: Mapping[int, OrderState] | None = None,
        use_patch: bool = False,
        unit_field: str = "",
        phone_module: str = "ps_cashondelivery",
        phone_state: int = 0,
        phone_carrier: int = 0,
        phone_delivery_carrier: int = 0,
        country_id: int = 6,
        currency_id: int = 1,
        lang_id: int = 1,
        city: str = "-",
        options: ConnectorOptions = ConnectorOptions(),  # noqa: B008 - frozen
    ) -> None:
        self.shop = shop
        self.unit_field = unit_field
        self.shop_id = str(shop_id)
        try:
            self.tz: tzinfo = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ShopConfigError(f"shop {shop!r}: timezone {timezone!r} is not a known time zone") from exc
        self.currency = currency
        self.pickup_carriers = pickups.PickupCarriers(pickup_carriers)
        self.completed_state = str(completed_state)
        self.stage_states = {FloorStage.ACCEPTED: accepted_state, FloorStage.READY: ready_state}
        self.states = dict(states or DEFAULT_STATES)
        self.use_patch = use_patch
        self.options = options
        root = base_url.rstrip("/").removesuffix("/api")
        self.http = ShopHttp(
            shop,
            root + "/api",
            options.retrier(),
            psxml.describe,
            timeout=options.timeout,
            auth=(key, ""),
            session=options.session,
        )
        self._items: dict[str, _Item] = {}
        carrier = phone_carrier or min((int(c) for c in pickup_carriers), default=1)
        settings = phone.PhoneSettings(
            phone_module,
            country_id,
            currency_id,
            lang_id,
            city,
            carrier,
            phone_state,
            delivery_carrier=phone_delivery_carrier,
        )
        self._phone = phone.PhoneOrderMaker(shop, self.http, settings, self.shop_id, self.tz)
        self._field_names: dict[str, str] = {}  # customization field id -> its name
        self._read = ReadTimes(options.clock)
        self._looked_up = ReadTimes(options.clock, LOOKUP_TTL_S)

    # --- stock -----------------------------------------------------------------------------------------

    def get_stock(self, skus: Sequence[str]) -> dict[str, StockLevel]:
        unique = list(dict.fromkeys(skus))
        known = [self._items[s] for s in unique if s in self._items and self._looked_up.fresh(s)]
        found = self._reread(known)
        rest = [sku for sku in unique if sku not in found]
        if rest:
            found.update(self._lookup(rest)[0])
        return {sku: StockLevel(sku, item.quantity) for sku, item in found.items()}

    def set_stock(self, changes: Sequence[StockChange]) -> list[ItemResult]:
        wanted = {change.sku: change for change in changes}
        missing = [sku for sku in wanted if sku not in self._items]
        _, problems = self._lookup(missing) if missing else ({}, {})
        # the row a write sends back (and the expected number it checks) as read right before: the
        # caller's own read a moment ago, else read again here, many rows per request
        stale = [
            self._items[sku]
            for sku, change in wanted.items()
            if sku in self._items
            and not self._read.fresh(sku)
            and (change.expected is not None or not self.use_patch)
        ]
        self._reread(stale)
        results: dict[str, ItemResult] = {}
        for sku, change in wanted.items():
            item = self._items.get(sku)
            if item is None:
                results[sku] = ItemResult(sku, error=problems.get(sku) or UnknownSku(self.shop, sku))
                continue
            try:
                results[sku] = ItemResult(sku, self._write(item, change))
            except ShopAuthError:
                raise
            except ShopError as exc:
                results[sku] = ItemResult(sku, error=exc)
            self._read.forget(sku)
        return result_order([c.sku for c in changes], results)

    def adjust_stock(self, deltas: Sequence[StockDelta], idempotency_key: str) -> list[ItemResult]:
        raise UnsupportedOperation(self.shop, "the PrestaShop Webservice has no stock deltas; use set_stock")

    def _write(self, item: _Item, change: StockChange) -> int:
        why = item.unmanaged()
        if why is not None:
            raise StockNotManaged(self.shop, f"sku {item.sku!r}: {why}")
        if change.expected is not None and item.quantity != change.expected:
            raise StaleStock(
                self.shop, f"sku {item.sku!r} is at {item.quantity}, not {change.expected}", item.quantity
            )
        path = f"/stock_availables/{item.stock_id}"
        if self.use_patch:
            try:
                return self._patch(item, path, change.quantity)
            except RequestRejected as exc:
                if exc.status != 405:
                    raise
                log.info(
                    "shop %s answers 405 to PATCH (PrestaShop 1.7): using full PUT from now on", self.shop
                )
                self.use_patch = False
                item = self._reread([item]).get(item.sku, item)  # a PUT needs the whole row
        fields = {name: "" if value is None else str(value) for name, value in item.row.items()}
        if not fields:  # never read whole (cannot happen with rows read by `_stock_rows`)
            raise StaleStock(self.shop, f"sku {item.sku!r}: its stock row was not read", None)
        body = psxml.document("stock_available", {**fields, "quantity": str(change.quantity)})
        return self._send_row(item, Call("PUT", path, data=body, headers=_XML), f"PUT {path}")

    def _patch(self, item: _Item, path: str, quantity: int) -> int:
        body = psxml.document("stock_available", {"id": str(item.stock_id), "quantity": str(quantity)})
        return self._send_row(item, Call("PATCH", path, data=body, headers=_XML), f"PATCH {path}")

    def _send_row(self, item: _Item, call: Call, what: str) -> int:
        reply = self.http.send_write(call, what)
        with reading(self.shop, what):
            row = psxml.element(psxml.parse(reply.body, what), "stock_available", what)
            quantity = as_int(psxml.text(row, "quantity", what), f"{what} quantity")
        self._items[item.sku] = replace(item, quantity=quantity, row={**item.row, "quantity": str(quantity)})
        return quantity

    def _reread(self, items: Sequence[_Item]) -> dict[str, _Item]:
        """The current rows of skus whose ids are known, 50 per request; a sku whose row is gone is
        forgotten (looked up by reference next time) and absent here.
        """
        found: dict[str, _Item] = {}
        for chunk in chunked(list({item.sku: item for item in items}.values()), LOOKUP_CHUNK):
            ids = "[" + "|".join(str(item.stock_id) for item in chunk) + "]"
            params = {"filter[id]": ids, "display": "full", **JSON}
            what = "stock_availables row"
            by_id: dict[int, dict[str, Any]] = {}
            for shown in self._rows("stock_availables", params):
                with reading(self.shop, what):
                    by_id[as_int(get(shown, "id", what), what)] = shown
            for item in chunk:
                row = by_id.get(item.stock_id)
                if row is None:
                    self._items.pop(item.sku, None)
                    continue
                with reading(self.shop, what):
                    quantity = as_int(get(row, "quantity", what), what)
                found[item.sku] = replace(item, quantity=quantity, row=row)
        self._items.update(found)
        self._read.mark(found)
        return found

    # --- sku lookup ------------------------------------------------------------------------------------

    def _lookup(self, skus: Sequence[str]) -> tuple[dict[str, _Item], dict[str, ShopError]]:
        """Fresh rows for `skus`: products by reference, then combinations for the rest, then their
        `stock_availables` rows in this shop; three requests per 50 skus at most.
        """
        found: dict[str, _Item] = {}
        problems: dict[str, ShopError] = {}
        unique = list(dict.fromkeys(skus))
        for sku in unique:
            if not sku or FILTER_UNSAFE & set(sku):
                problems[sku] = RequestRejected(
                    self.shop, f"sku {sku!r} cannot be used in a Webservice filter"
                )
        keyed = {sku: _id_target(sku) for sku in unique if sku.startswith("id:")}
        for chunk in chunked([s for s in unique if s not in problems and s not in keyed], LOOKUP_CHUNK):
            with reading(self.shop, "sku lookup"):
                found.update(self._stock_rows(self._targets(chunk, problems)))
        targets = {sku: target for sku, target in keyed.items() if target is not None}
        for chunk in chunked(list(targets), LOOKUP_CHUNK):
            with reading(self.shop, "sku lookup"):
                found.update(self._stock_rows({sku: targets[sku] for sku in chunk}))
        self._items.update(found)
        return found, problems

    def _targets(self, skus: Sequence[str], problems: dict[str, ShopError]) -> dict[str, tuple[str, str]]:
        """sku -> (id_product, id_product_attribute)."""
        targets: dict[str, list[tuple[str, str]]] = {}
        for row in self._list("products", skus, "[id,reference]"):
            reference = as_str(get(row, "reference", "product"), "product reference")
            targets.setdefault(reference, []).append((as_id(get(row, "id", "product"), "product id"), "0"))
        rest = [sku for sku in skus if sku not in targets]
        for row in self._list("combinations", rest, "[id,id_product,reference]") if rest else []:
            what = "combination"
            pair = (as_id(get(row, "id_product", what), what), as_id(get(row, "id", what), what))
            targets.setdefault(as_str(get(row, "reference", what), what), []).append(pair)
        for sku, pairs in targets.items():
            if len(pairs) > 1:
                problems[sku] = AmbiguousSku(self.shop, sku, len(pairs))
        return {sku: pairs[0] for sku, pairs in targets.items() if sku in skus and len(pairs) == 1}

    def _list(self, resource: str, skus: Sequence[str], display: str) -> list[dict[str, Any]]:
        params = {"filter[reference]": "[" + "|".join(skus) + "]", "display": display, **JSON}
        return self._rows(resource, params)

    def _stock_rows(self, targets: dict[str, tuple[str, str]]) -> dict[str, _Item]:
        if not targets:
            return {}
        products = sorted({p for p, _ in targets.values()}, key=int)
        params = {
            "filter[id_product]": "[" + "|".join(products) + "]",
            "filter[id_shop]": f"[{self.shop_id}]",
            "display": "full",  # every field: a write PUTs the whole row back
            **JSON,
        }
        by_pair = {}
        for row in self._rows("stock_availables", params):
            what = "stock_availables row"
            pair = (
                as_id(get(row, "id_product", what), what),
                as_id(get(row, "id_product_attribute", what), what),
            )
            by_pair[pair] = (
                as_int(get(row, "id", what), what),
                as_int(get(row, "quantity", what), what),
                row,
            )
        with_combinations = {product for product, attribute in by_pair if attribute != "0"}
        found = {
            sku: _Item(
                sku,
                pair[0],
                pair[1],
                *by_pair[pair],
                combined=pair[1] == "0" and pair[0] in with_combinations,
            )
            for sku, pair in targets.items()
            if pair in by_pair
        }
        self._read.mark(found)
        self._looked_up.mark(found)
        return found

    def _rows(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        what = f"GET /{resource}"
        reply = self.http.send(Call("GET", f"/{resource}", params=params), what)
        with reading(self.shop, what):
            return _rows(load_json(reply.body, self.shop, what), resource, what)

    # --- orders and products ---------------------------------------------------------------------------

    def orders_since(self, cursor: str | None) -> tuple[list[ShopOrder], str]:
        window = PollWindow.decode(cursor)
        rows = self._changed("orders", "full", window)
        orders = [self._order(row) for row in rows]
        fresh = self._with_details(
            [o for o in orders if window.is_new(o.order_id, o.updated_at, o.fingerprint)], rows
        )
        return fresh, window.advance((o.order_id, o.updated_at, o.fingerprint) for o in orders)

    def _with_details(self, orders: list[ShopOrder], rows: Sequence[dict[str, Any]]) -> list[ShopOrder]:
        """What an order's own row does not say: the customer's note, the lines' customizations, and a
        phone order's facts (`prestashop_phone`)."""
        by_id = {str(row.get("id")): row for row in rows}
        orders = self._with_pickups(self._with_customizations(self._with_notes(orders), by_id), by_id)
        return self._with_phone_facts(orders, by_id)

    def _with_pickups(self, orders: list[ShopOrder], rows: Mapping[str, dict[str, Any]]) -> list[ShopOrder]:
        """Pickup or delivery by the order's carrier, matched to `pickup_carriers` by `id_reference`
        (`prestashop_pickup`: an edited carrier has a new id). A shop that does not answer leaves the
        orders matched by id, with a warning on those it could not tell."""
        carriers = {
            o.order_id: str(rows[o.order_id].get("id_carrier") or "0").strip()
            for o in orders
            if o.problem is None and o.order_id in rows
        }
        wanted = self.pickup_carriers.to_read(carriers.values())
        try:
            for chunk in chunked(wanted, LOOKUP_CHUNK):
                params = {"filter[id]": "[" + "|".join(chunk) + "]", "display": "[id,id_reference]", **JSON}
                found = self._rows("carriers", params)
                with reading(self.shop, "GET /carriers"):
                    self.pickup_carriers.learn(chunk, found)
        except ShopError as exc:
            log.warning("shop %s: carriers not read (%s): pickups told by carrier id only", self.shop, exc)
        told = []
        for order in orders:
            carrier = carriers.get(order.order_id)
            if carrier is not None:
                order = replace(order, pickup=self.pickup_carriers.is_pickup(carrier))
                if not self.pickup_carriers.known(carrier):
                    why = f"carrier {carrier} could not be read: pickup or delivery not known"
                    order = replace(order, warnings=(*order.warnings, why))
            told.append(order)
        return told

    def _with_customizations(
        self, orders: list[ShopOrder], rows: Mapping[str, dict[str, Any]]
    ) -> list[ShopOrder]:
        """The values typed into the lines' customization fields as their options and notes: the
        `customizations` the order rows name and their fields' names, 50 per request. A shop that does
        not answer leaves the lines as they are, with a warning on the order."""
        named = {o.order_id: custom.line_customizations(rows.get(o.order_id, {})) for o in orders}
        wanted = sorted({c for lines in named.values() for c in lines.values()}, key=int)
        if not wanted:
            return orders
        try:
            texts = self._customization_texts(wanted)
        except ShopError as exc:
            log.warning("shop %s: customizations not read (%s)", self.shop, exc)
            return [
                replace(o, warnings=(*o.warnings, "the lines' customizations could not be read"))
                if named[o.order_id]
                else o
                for o in orders
            ]
        return [custom.with_customizations(o, named[o.order_id], texts, self._field_names) for o in orders]

    def _customization_texts(self, ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        texts: dict[str, list[tuple[str, str]]] = {}
        for chunk in chunked(list(ids), LOOKUP_CHUNK):
            params = {"filter[id]": "[" + "|".join(chunk) + "]", "display": "full", **JSON}
            for row in self._rows("customizations", params):
                texts[str(row.get("id"))] = custom.texts_of(row)
        fields = sorted({f for pairs in texts.values() for f, _ in pairs} - set(self._field_names), key=int)
        for chunk in chunked(fields, LOOKUP_CHUNK):
            params = {"filter[id]": "[" + "|".join(chunk) + "]", "display": "full", **JSON}
            for row in self._rows("product_customization_fields", params):
                self._field_names[str(row.get("id"))] = _language_text(row.get("name"))
        return texts

    def _with_phone_facts(
        self, orders: list[ShopOrder], rows: Mapping[str, dict[str, Any]]
    ) -> list[ShopOrder]:
        """Orders paid with one of the phone orders' labels get their cart's messages read (50 carts per
        request) and, where the bridge's marker is there, its facts applied."""
        carts = {
            o.order_id: str(rows[o.order_id].get("id_cart", ""))
            for o in orders
            if o.problem is None
            and o.order_id in rows
            and rows[o.order_id].get("payment") in phone.PAYMENTS.values()
            and str(rows[o.order_id].get("id_cart", "")).isdigit()
        }
        facts: dict[str, dict[str, Any]] = {}
        for chunk in chunked(sorted(set(carts.values()), key=int), LOOKUP_CHUNK):
            params = {"filter[id_cart]": "[" + "|".join(chunk) + "]", "display": "full", **JSON}
            try:
                found = self._rows("messages", params)
            except ShopError as exc:
                log.warning("shop %s: phone orders' details not read (%s)", self.shop, exc)
                break
            for row in found:
                read = phone.read_facts(str(row.get("message", "")))
                if read is not None:
                    facts.setdefault(str(row.get("id_cart")), read)
        return [
            phone.with_facts(o, facts[carts[o.order_id]]) if carts.get(o.order_id) in facts else o
            for o in orders
        ]

    def _with_notes(self, orders: list[ShopOrder]) -> list[ShopOrder]:
        """The customer's message at checkout as each order's note (`messages` written by the customer,
        `id_employee` 0: the shop's own messages are not the customer's note), one request per 50 orders.
        A shop that does not answer leaves the notes empty: the orders still print."""
        ids = [o.order_id for o in orders if o.order_id.isdigit() and o.problem is None]
        notes: dict[str, list[str]] = {}
        for chunk in chunked(ids, LOOKUP_CHUNK):
            params = {"filter[id_order]": "[" + "|".join(chunk) + "]", "display": "full", **JSON}
            try:
                rows = self._rows("messages", params)
            except ShopError as exc:
                log.warning("shop %s: order messages not read (%s): notes left empty", self.shop, exc)
                return orders
            for row in sorted(rows, key=lambda r: str(r.get("id", "")).zfill(12)):
                said = of.text(row.get("message"))
                if str(row.get("id_employee", "0")) == "0" and said and not said.startswith(phone.MARKER):
                    notes.setdefault(str(row.get("id_order")), []).append(of.text(row.get("message")))
        return [
            replace(o, note=" / ".join(notes[o.order_id]), allergies=of.allergies_of([], *notes[o.order_id]))
            if o.order_id in notes
            else o
            for o in orders
        ]

    def products_since(self, cursor: str | None) -> tuple[list[ShopProduct], str]:
        window = PollWindow.decode(cursor)
        fields = ",".join(
            ["id,reference,name,price,date_upd", *BARCODE_FIELDS, *filter(None, [self.unit_field])]
        )
        rows = self._changed("products", f"[{fields}]", window)
        combinations = self._combinations([row.get("id") for row in rows])
        products: list[ShopProduct] = []
        with reading(self.shop, "products"):
            for row in rows:
                products += self._catalog_entries(row, combinations.get(str(row.get("id")), []))
        fresh = [p for p in products if window.is_new(p.product_id, p.updated_at, p.fingerprint)]
        return fresh, window.advance((p.product_id, p.updated_at, p.fingerprint) for p in products)

    def _changed(self, resource: str, display: str, window: PollWindow) -> list[dict[str, Any]]:
        params = {"display": display, "date": "1", "sort": "[date_upd_ASC]", **JSON}
        since = window.query_from()
        if since is not None:
            params["filter[date_upd]"] = ">[" + since.astimezone(self.tz).strftime(TIME_FORMAT) + "]"
        found: list[dict[str, Any]] = []
        for page in range(self.options.max_pages):
            batch = self._rows(resource, {**params, "limit": f"{page * PAGE},{PAGE}"})
            found.extend(batch)
            if len(batch) < PAGE:
                break
        return found

    def get_order(self, order_id: str) -> ShopOrder:
        what = f"GET /orders/{order_id}"
        reply = self.http.send(Call("GET", f"/orders/{_numeric(order_id, self.shop)}", params=JSON), what)
        with reading(self.shop, what):
            row = as_obj(get(as_obj(load_json(reply.body, self.shop, what), what), "order", what), what)
        return self._with_details([self._order(row)], [row])[0]

    def complete_order(self, order_id: str) -> ShopOrder:
        order = self.get_order(order_id)
        if order.status == self.completed_state:
            return order
        body = psxml.document("order_history", {"id_order": order_id, "id_order_state": self.completed_state})
        what = f"POST /order_histories (order {order_id})"
        self.http.send(Call("POST", "/order_histories", data=body, headers=_XML), what)
        return self.get_order(order_id)

    # --- orders on the shop floor (base.FloorOrders) ----------------------------------------------------

    def tell_customer(self, order_id: str, text: str) -> None:
        """A message on the order the customer can see (`private` 0) on their order page."""
        fields = {
            "id_order": str(_numeric(order_id, self.shop)),
            "id_employee": "1",
            "message": text,
            "private": "0",
        }
        body = psxml.document("message", fields)
        self.http.send(
            Call("POST", "/messages", data=body, headers=_XML), f"POST /messages (order {order_id})"
        )

    def set_stage(self, change: StageChange) -> None:
        """An order state per stage (its template mail goes to the customer): accepted → `accepted_state`
        (3, "Processing in progress"), ready → `ready_state` (0: none, PrestaShop has no such state until the
        shop adds one; the message says it), collected / delivered → `completed_state`; plus the message."""
        if change.stage in (FloorStage.COLLECTED, FloorStage.DELIVERED):
            self.complete_order(change.order_id)
        else:
            state = self.stage_states.get(change.stage, 0)
            if state:
                self._set_state(change.order_id, str(state))
        if change.message:
            self.tell_customer(change.order_id, change.message)

    def _set_state(self, order_id: str, state: str) -> None:
        body = psxml.document("order_history", {"id_order": order_id, "id_order_state": state})
        self.http.send(
            Call("POST", "/order_histories", data=body, headers=_XML),
            f"POST /order_histories (order {order_id})",
        )

    def create_order(self, draft: OrderDraft) -> ShopOrder:
        """A guest customer, an address, a cart and `POST /orders` (`prestashop_phone`), idempotent on the
        ref; a line the shop does not know, or wants more of than it has and may sell, is refused naming
        it before anything is written."""
        return self.get_order(self._phone.create(draft, lambda: self._targets_of(draft)))

    def _targets_of(self, draft: OrderDraft) -> list[phone.Target]:
        found, problems = self._lookup([line.sku for line in draft.lines])
        wanted: dict[str, int] = {}
        for line in draft.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.qty
        targets = []
        for line in draft.lines:
            item = found.get(line.sku)
            if line.sku in problems:
                raise problems[line.sku]
            if item is None:
                raise UnknownSku(self.shop, line.sku)
            if item.combined:
                raise RequestRejected(self.shop, f"sku {line.sku!r} has combinations: order one of them")
            if wanted[line.sku] > item.quantity and str(item.row.get("out_of_stock", "2")) != "1":
                raise RequestRejected(
                    self.shop,
                    f"{wanted[line.sku]} x {line.sku}: the shop has {item.quantity} and does not sell "
                    "it out of stock",
                )
            targets.append(phone.Target(line.sku, item.product_id, item.attribute_id, line.qty))
        if not targets:
            raise RequestRejected(self.shop, "a phone order without lines")
        return targets

    def _order(self, row: dict[str, Any]) -> ShopOrder:
        return order_or_problem(row, lambda: self._full_order(row), lambda: self._stock_facts(row))

    def _full_order(self, row: dict[str, Any]) -> ShopOrder:
        assoc = obj_or_empty(row.get("associations"))
        lines = tuple(
            _line(as_obj(x, "order_rows[]")) for x in as_list(assoc.get("order_rows") or [], "order_rows")
        )
        facts = self._stock_facts(row)
        return replace(
            facts,
            number=opt_str(row.get("reference"), "order reference") or facts.order_id,
            placed_at=as_time(get(row, "date_add", "order"), "order date_add", self.tz),
            lines=lines,
            total_cents=cents(get(row, "total_paid", "order"), "order total_paid"),
            currency=self.currency,
            pickup=self.pickup_carriers.is_pickup(str(row.get("id_carrier") or "0").strip()),
        )

    def _stock_facts(self, row: dict[str, Any]) -> ShopOrder:
        """What an order took out of the shop's stock, read alone (see `unreadable`)."""
        state_id = as_id(get(row, "current_state", "order"), "order current_state")
        valid = str(row.get("valid", "0")) == "1"
        state = self.states.get(int(state_id) if state_id.isdigit() else -1)
        state = state or (OrderState.PAID if valid else OrderState.PENDING)
        assoc = obj_or_empty(row.get("associations"))
        rows = [as_obj(x, "order_rows[]") for x in as_list(assoc.get("order_rows") or [], "order_rows")]
        order_id = as_id(get(row, "id", "order"), "order id")
        updated = as_time(get(row, "date_upd", "order"), "order date_upd", self.tz)
        return ShopOrder(
            order_id=order_id,
            number=order_id,
            state=state,
            status=state_id,
            placed_at=updated,
            updated_at=updated,
            lines=tuple(stock_line(r, "id", "product_reference", "product_quantity") for r in rows),
            total_cents=0,
            currency=self.currency,
            holds_stock=state not in (OrderState.CANCELLED, OrderState.REFUNDED),
        )

    def _combinations(self, product_ids: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
        """The combinations of these products, by product id (one request per page of products)."""
        ids = [str(i) for i in product_ids if str(i).isdigit()]
        if not ids:
            return {}
        display = ",".join(["id,id_product,reference,price", *BARCODE_FIELDS])
        params = {"filter[id_product]": "[" + "|".join(ids) + "]", "display": f"[{display}]", **JSON}
        found: dict[str, list[dict[str, Any]]] = {}
        for row in self._rows("combinations", params):
            found.setdefault(str(row.get("id_product")), []).append(row)
        return found

    def _catalog_entries(self, row: dict[str, Any], combinations: list[dict[str, Any]]) -> list[ShopProduct]:
        """A product without combinations is one item; with combinations each combination is an item (its
        own reference, barcodes and price: the product's plus the combination's impact) and the product
        itself is not sold. An item without a reference is kept under a key derived from its ids when it
        has a barcode to be scanned by.
        """
        product_id = as_id(get(row, "id", "product"), "product id")
        updated = as_time(get(row, "date_upd", "product"), "product date_upd", self.tz)
        entries = [(row, product_id, "")] if not combinations else []
        for combination in combinations:
            cid = as_id(get(combination, "id", "combination"), "combination id")
            entries.append((combination, f"{product_id}-{cid}", "combination "))
        products = []
        for item, item_id, what in entries:
            sku = as_code(item.get("reference"), f"{what}reference") or derived_sku(item_id)

            def read(
                item: dict[str, Any] = item, what: str = what
            ) -> tuple[str, Decimal, tuple[str, ...], str | None]:
                name = _language_text(row.get("name"))
                price = amount(get(row, "price", "product"), "product price")
                if item is not row:
                    price += amount(item.get("price") or "0", "combination price")
                    reference = opt_str(item.get("reference"), "combination reference")
                    name = f"{name} ({reference})" if reference else name
                codes = barcodes(item.get(field) for field in BARCODE_FIELDS)
                return name, price, codes, unit(row.get(self.unit_field)) if self.unit_field else None

            product = product_or_problem(sku, item_id, updated, read, tax_included=False)
            if not sku.startswith("id:") or product.barcodes or product.problem:
                products.append(product)
        return products

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        raise UnsupportedOperation(self.shop, "PrestaShop sends no webhooks; poll orders_since")


_XML: Final = {"Content-Type": "text/xml; charset=utf-8"}


def _rows(value: Any, resource: str, what: str) -> list[dict[str, Any]]:
    """The rows of a JSON list answer; PrestaShop answers an empty list as `[]`, not `{resource: []}`."""
    if value == []:
        return []
    rows = as_list(get(as_obj(value, what), resource, what), what)
    return [as_obj(row, f"{what} row") for row in rows]


def _id_target(key: str) -> tuple[str, str] | None:
    """(id_product, id_product_attribute) of an item without a reference, kept as `id:P` or `id:P-C`."""
    product, _, combination = key.removeprefix("id:").partition("-")
    combination = combination or "0"
    return (product, combination) if product.isdigit() and combination.isdigit() else None


def _line(obj: dict[str, Any]) -> OrderLine:
    """An order row; a combination's name carries its attributes ("Pizza - Tamaño : Familiar, Masa : Fina"):
    the product's name before " - ", the attributes as the line's options."""
    qty = as_int(get(obj, "product_quantity", "order row"), "order row product_quantity")
    name = opt_str(obj.get("product_name"), "order row product_name")
    base, options = _attributes(name)
    return OrderLine(
        line_id=as_id(get(obj, "id", "order row"), "order row id"),
        sku=opt_str(obj.get("product_reference"), "order row product_reference"),
        name=base,
        qty=qty,
        unit_price_cents=cents(obj.get("unit_price_tax_incl") or "0", "order row unit_price_tax_incl"),
        options=options,
    )


def _attributes(name: str) -> tuple[str, tuple[LineOption, ...]]:
    base, sep, rest = name.rpartition(" - ")
    if not sep or " : " not in rest:
        return name, ()
    pairs = [part.partition(" : ") for part in rest.split(", ")]
    if not all(sep2 and key.strip() and value.strip() for key, sep2, value in pairs):
        return name, ()
    return base, tuple(LineOption(key.strip(), value.strip()) for key, _, value in pairs)


def _language_text(value: Any) -> str:
    """A multilingual field: `[{"id": "1", "value": "…"}]` with display=full, a plain string otherwise."""
    if isinstance(value, list) and value:
        first = as_obj(value[0], "name")
        return opt_str(first.get("value"), "name value")
    if value is None or isinstance(value, str):
        return value or ""
    raise Invalid(f"name: unexpected {type(value).__name__}")


def _numeric(order_id: str, shop: str) -> int:
    if not order_id.isdigit() or not order_id.isascii():
        raise RequestRejected(shop, f"order id {order_id[:40]!r} is not a PrestaShop order id")
    return int(order_id)
