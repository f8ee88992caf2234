"""Shopify through the GraphQL Admin API (pinned version, `X-Shopify-Access-Token`).

Stock is the `available` quantity of each sku's inventory item at one location. Deltas go through
`inventoryAdjustQuantities` under `@idempotent(key:)`, so a retried request is applied once; absolute
writes go through `inventorySetQuantities` with `changeFromQuantity` (compare-and-swap). Both are
all-or-nothing: when one item fails, the others come back as `NotApplied`. Every answer updates our copy of
the cost bucket and queries wait for points instead of being throttled; a THROTTLED answer waits exactly
as long as the bucket needs to refill. Orders come by webhook (REST-shaped bodies) and by polling
`orders(query: "updated_at:>…")`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from cloud_bridge.connectors import orderfacts as of
from cloud_bridge.connectors import shopify_queries as q
from cloud_bridge.connectors._values import (
    amount,
    as_bool,
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
from cloud_bridge.connectors.catalog_fields import barcodes, derived_sku, product_or_problem, unit
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
from cloud_bridge.connectors.shopify_cost import CostBudget
from cloud_bridge.connectors.signatures import lower_keys, signature_matches
from cloud_bridge.connectors.unreadable import order_or_problem, stock_line
from cloud_bridge.errors import (
    AmbiguousSku,
    MalformedWebhook,
    NotApplied,
    RateLimited,
    RequestRejected,
    ShopAuthError,
    ShopConfigError,
    ShopError,
    StaleStock,
    StockNotManaged,
    TransientShopError,
    UnknownSku,
    WebhookRejected,
)

log = logging.getLogger(__name__)

NOTICE_ATTRIBUTE: Final = "Tillbridge"  # the note attribute the floor's news for the customer goes in
REF_ATTRIBUTE: Final = "_tillbridge_ref"  # a phone order's id on the box: what makes creating it idempotent
CUSTOMER_ATTRIBUTE: Final = "Customer"  # a phone order's customer (a draft order needs no customer record)
LOOKUP_CHUNK: Final = 50
STATUS_FIELDS: Final = ("displayFinancialStatus", "displayFulfillmentStatus", "cancelledAt")
LIST_PAGES: Final = 40  # listing pages per call: 10,000 orders changed inside one overlap window
WRITE_CHUNK: Final = 250
KEY_NAMESPACE: Final = uuid.UUID("5a1e4c3e-7d0b-4f49-9c55-0d3c1f6b2a11")
TRANSIENT_CODES: Final = frozenset(
    {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "IDEMPOTENCY_CONCURRENT_REQUEST"}
)
AUTH_CODES: Final = frozenset({"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"})
FINANCIAL: Final = {
    "PENDING": OrderState.PENDING,
    "EXPIRED": OrderState.CANCELLED,
    "VOIDED": OrderState.CANCELLED,
    "REFUNDED": OrderState.REFUNDED,
}


@dataclass(frozen=True)
class _Item:
    sku: str
    item_id: str
    tracked: bool
    stocked: bool
    quantity: int | None
    updated: str | None
    variant_id: str = ""


class ShopifyConnector(OverHttp):
    platform = "shopify"
    supports_deltas = True
    limits = BatchLimits(reads=LOOKUP_CHUNK, writes=WRITE_CHUNK)
    supports_cas = True
    supports_webhooks = True

    def __init__(
        self,
        shop: str,
        base_url: str,
        access_token: str,
        location_id: str,
        *,
        api_version: str = "2026-04",
        webhook_secrets: Sequence[str] = (),
        reason: str = "correction",
        unit_metafield: str = "",
        options: ConnectorOptions = ConnectorOptions(),  # noqa: B008 - frozen
    ) -> None:
        self.shop = shop
        namespace, _, key = unit_metafield.rpartition(".")
        if unit_metafield and not (namespace and key):
            raise ShopConfigError(f"shop {shop!r}: unit_metafield {unit_metafield!r} is not namespace.key")
        self.unit_metafield = {"unitNamespace": namespace, "unitKey": key} if unit_metafield else {}
        self.location = (
            location_id if location_id.startswith("gid://") else f"gid://shopify/Location/{location_id}"
        )
        if not self.location.removeprefix("gid://shopify/Location/").isdigit():
            raise ShopConfigError(f"shop {shop!r}: location_id {location_id!r} is not a Shopify location id")
        self.webhook_secrets = tuple(webhook_secrets)
        self.reason = reason
        self.options = options
        self.retrier = options.retrier()
        self.budget = CostBudget(options.clock)
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.http = ShopHttp(
            shop,
            base_url,
            self.retrier,
            describe_json,
            timeout=options.timeout,
            headers={"X-Shopify-Access-Token": access_token},
            session=options.session,
        )
        self._items: dict[str, _Item] = {}

    # --- GraphQL ---------------------------------------------------------------------------------------

    def run(self, operation: str, query: str, variables: dict[str, Any], estimate: float) -> dict[str, Any]:
        """`data` of one GraphQL operation, waiting for bucket points first and retrying transient errors."""
        return self.retrier.run(
            lambda: self._attempt(operation, query, variables, estimate), f"graphql {operation}"
        )

    def _attempt(
        self, operation: str, query: str, variables: dict[str, Any], estimate: float
    ) -> dict[str, Any]:
        self.budget.wait_before(operation, estimate)
        what = f"graphql {operation}"
        reply = self.http.send_once(
            Call("POST", self.path, json={"query": query, "variables": variables}), what
        )
        with reading(self.shop, what):
            answer = as_obj(load_json(reply.body, self.shop, what), what)
            requested = self.budget.update(operation, answer.get("extensions"))
            errors = answer.get("errors")
            if errors:
                raise self._graphql_error(what, errors, requested)
            return as_obj(get(answer, "data", what), f"{what} data")

    def _graphql_error(self, what: str, errors: Any, requested: float | None) -> ShopError:
        first = obj_or_empty(errors[0] if isinstance(errors, list) and errors else None)
        extensions = obj_or_empty(first.get("extensions"))
        code = str(extensions.get("code", ""))[:60]
        message = f"{what}: {code or 'error'}: {str(first.get('message', errors))[:200]}"
        if code == "THROTTLED":
            return RateLimited(self.shop, message, self.budget.shortfall(requested or 0.0) or 1.0)
        if code in TRANSIENT_CODES:
            return TransientShopError(self.shop, message)
        if code in AUTH_CODES:
            return ShopAuthError(self.shop, message)
        return RequestRejected(self.shop, message, None, code)

    # --- stock -----------------------------------------------------------------------------------------

    def get_stock(self, skus: Sequence[str]) -> dict[str, StockLevel]:
        found, _ = self._lookup(skus)
        return {sku: StockLevel(sku, item.quantity, item.updated) for sku, item in found.items()}

    def _lookup(self, skus: Sequence[str]) -> tuple[dict[str, _Item], dict[str, ShopError]]:
        found: dict[str, _Item] = {}
        problems: dict[str, ShopError] = {}
        for chunk in chunked([s for s in dict.fromkeys(skus) if s], LOOKUP_CHUNK):
            first = min(250, 2 * len(chunk))
            variables = {
                "query": " OR ".join(_search_term(s) for s in chunk),
                "first": first,
                "location": self.location,
            }
            data = self.run("productVariants", q.VARIANTS, variables, q.variants_cost(first))
            with reading(self.shop, "productVariants"):
                nodes = as_list(
                    get(
                        as_obj(get(data, "productVariants", "data"), "productVariants"),
                        "nodes",
                        "productVariants",
                    ),
                    "nodes",
                )
                matches: dict[str, list[_Item]] = {}
                for node in nodes:
                    item = _item(as_obj(node, "variant"))
                    if not item.sku:  # a variant without a SKU is kept under its id (catalog_fields)
                        item = replace(item, sku=derived_sku(str(node.get("id", "")).rpartition("/")[2]))
                    if item.sku in chunk:
                        matches.setdefault(item.sku, []).append(item)
            for sku, items in matches.items():
                if len(items) == 1:
                    found[sku] = items[0]
                else:
                    problems[sku] = AmbiguousSku(self.shop, sku, len(items))
        self._items.update(found)
        return found, problems

    def _writable(self, skus: Sequence[str]) -> tuple[dict[str, _Item], dict[str, ShopError]]:
        missing = [sku for sku in dict.fromkeys(skus) if sku not in self._items]
        _, problems = self._lookup(missing) if missing else ({}, {})
        ready: dict[str, _Item] = {}
        for sku in dict.fromkeys(skus):
            item = self._items.get(sku)
            if sku in problems:
                continue
            if item is None:
                problems[sku] = UnknownSku(self.shop, sku)
            elif not item.tracked or not item.stocked:
                why = "inventory is not tracked" if not item.tracked else "it is not stocked at the location"
                problems[sku] = StockNotManaged(self.shop, f"sku {sku!r}: {why}")
            else:
                ready[sku] = item
        return ready, problems

    def adjust_stock(self, deltas: Sequence[StockDelta], idempotency_key: str) -> list[ItemResult]:
        """Applies the deltas once per `idempotency_key` (summed per sku). Items come back `NotApplied`
        when another item of their request failed: retry those with a new key, never the same one.
        """
        totals: dict[str, int] = {}
        for d in deltas:
            totals[d.sku] = totals.get(d.sku, 0) + d.delta
        ready, problems = self._writable(list(totals))
        results = {sku: ItemResult(sku, error=e) for sku, e in problems.items()}
        entries = [(sku, item) for sku, item in ready.items()]
        for index, chunk in enumerate(chunked(entries, WRITE_CHUNK)):
            key = str(uuid.uuid5(KEY_NAMESPACE, f"{idempotency_key}/{index}"))
            changes = [
                {"delta": totals[sku], "inventoryItemId": item.item_id, "locationId": self.location}
                for sku, item in chunk
            ]
            payload = {"name": "available", "reason": self.reason, "changes": changes}
            results.update(
                self._mutate("inventoryAdjustQuantities", q.ADJUST, payload, key, chunk, "changes")
            )
        return result_order([d.sku for d in deltas], results)

    def set_stock(self, changes: Sequence[StockChange]) -> list[ItemResult]:
        """Absolute writes; with `expected`, compare-and-swap (`changeFromQuantity`), refused as `StaleStock`
        with the shop's current quantity when someone changed it first.
        """
        wanted = {c.sku: c for c in changes}
        ready, problems = self._writable(list(wanted))
        results = {sku: ItemResult(sku, error=e) for sku, e in problems.items()}
        pending = list(ready.items())
        for _ in range(2):  # a second round resends the items an all-or-nothing failure held back
            held: list[tuple[str, _Item]] = []
            for chunk in chunked(pending, WRITE_CHUNK):
                quantities = [
                    {
                        "inventoryItemId": item.item_id,
                        "locationId": self.location,
                        "quantity": wanted[sku].quantity,
                        "changeFromQuantity": wanted[sku].expected,
                    }
                    for sku, item in chunk
                ]
                payload = {"name": "available", "reason": self.reason, "quantities": quantities}
                got = self._mutate(
                    "inventorySetQuantities", q.SET, payload, str(uuid.uuid4()), chunk, "quantities"
                )
                results.update(got)
                held.extend((sku, item) for sku, item in chunk if isinstance(got[sku].error, NotApplied))
            if not held:
                break
            pending = held
        self._fill_stale(results)
        return result_order([c.sku for c in changes], results)

    def _fill_stale(self, results: dict[str, ItemResult]) -> None:
        stale = [sku for sku, r in results.items() if isinstance(r.error, StaleStock)]
        if not stale:
            return
        fresh, _ = self._lookup(stale)
        for sku in stale:
            current = fresh[sku].quantity if sku in fresh else None
            error = StaleStock(self.shop, f"sku {sku!r} changed in the shop (now {current})", current)
            results[sku] = ItemResult(sku, error=error)

    def _mutate(
        self,
        name: str,
        query: str,
        payload: dict[str, Any],
        key: str,
        chunk: Sequence[tuple[str, _Item]],
        list_name: str,
    ) -> dict[str, ItemResult]:
        try:
            data = self.run(name, query, {"input": payload, "key": key}, q.MUTATION_COST)
            with reading(self.shop, name):
                answer = as_obj(get(data, name, "data"), name)
                errors = [
                    as_obj(e, "userErrors[]") for e in as_list(answer.get("userErrors") or [], "userErrors")
                ]
                if errors:
                    return self._user_errors(name, errors, chunk, list_name)
                return self._applied(answer, chunk)
        except ShopAuthError:
            raise
        except ShopError as exc:
            return {sku: ItemResult(sku, error=exc) for sku, _ in chunk}

    def _applied(self, answer: dict[str, Any], chunk: Sequence[tuple[str, _Item]]) -> dict[str, ItemResult]:
        group = as_obj(get(answer, "inventoryAdjustmentGroup", "answer"), "inventoryAdjustmentGroup")
        after: dict[str, int | None] = {}
        for change in as_list(get(group, "changes", "group"), "changes"):
            obj = as_obj(change, "change")
            item_id = as_str(get(as_obj(get(obj, "item", "change"), "item"), "id", "item"), "item id")
            value = obj.get("quantityAfterChange")
            after[item_id] = None if value is None else as_int(value, "quantityAfterChange")
        results = {}
        for sku, item in chunk:
            quantity = after.get(item.item_id)
            results[sku] = ItemResult(sku, quantity)
            self._items[sku] = _Item(sku, item.item_id, True, True, quantity, item.updated)
        return results

    def _user_errors(
        self, name: str, errors: list[dict[str, Any]], chunk: Sequence[tuple[str, _Item]], list_name: str
    ) -> dict[str, ItemResult]:
        """Errors addressed to one item (`field: [input, changes, 3, …]`) go to that item; the rest of the
        request was not applied.
        """
        by_index: dict[int, ShopError] = {}
        general: ShopError | None = None
        for error in errors:
            code = str(error.get("code") or "")[:60]
            field = error.get("field")
            field = field if isinstance(field, list) else []
            message = f"{name}: {code or 'error'}: {str(error.get('message', ''))[:200]}"
            index = _index(field, list_name)
            if index is None or not 0 <= index < len(chunk):
                general = general or self._user_error(code, message, None)
            else:
                by_index[index] = self._user_error(code, message, chunk[index][0])
        results = {}
        for index, (sku, _) in enumerate(chunk):
            problem = (
                by_index.get(index)
                or general
                or NotApplied(self.shop, f"{name}: not applied, another item failed")
            )
            results[sku] = ItemResult(sku, error=problem)
        return results

    def _user_error(self, code: str, message: str, sku: str | None) -> ShopError:
        if sku is not None:  # an item's own error names it: the parked list says which sku to look at
            message = f"sku {sku!r}: {message}"
        if code in ("CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"):
            return StaleStock(self.shop, message, None)
        if code == "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED":
            return NotApplied(self.shop, f"{message} (retry with a new idempotency key)")
        if code in TRANSIENT_CODES:
            return TransientShopError(self.shop, message)
        if code in ("INVALID_INVENTORY_ITEM", "ITEM_NOT_STOCKED_AT_LOCATION") and sku is not None:
            self._items.pop(sku, None)
            return StockNotManaged(self.shop, message)
        return RequestRejected(self.shop, message, None, code)

    # --- orders and products ---------------------------------------------------------------------------

    def orders_since(self, cursor: str | None) -> tuple[list[ShopOrder], str]:
        """Orders changed since the cursor, in two steps so that re-reading the overlap window stays cheap
        however many orders fall in it: a listing of ids, times and statuses (250 orders for ~253 cost
        points a page), then the full orders (~930 points per 6) only for versions the cursor has not
        returned, at most `max_pages` × 6 per call (the rest come on the next call). An order whose
        fulfillment orders are all assigned to another location is not this store's: it comes withdrawn
        (`_withdrawn`), so that one the bridge had from here before it was moved lets its hold go (and
        takes it again if the order is moved back here).
        """
        window = PollWindow.decode(cursor)
        since = window.query_from()
        search = None if since is None else f"updated_at:>'{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        listed = self._listing(search)
        budget = self.options.max_pages * q.ORDER_PAGE
        fresh = [entry for entry in listed if window.is_new(*entry)]
        wanted = fresh[:budget]
        cut = listed.index(fresh[budget]) if len(fresh) > budget else len(listed)
        details = self._orders_by_id([order_id for order_id, _, _ in wanted])
        orders = [details[order_id] for order_id, _, _ in wanted if order_id in details]
        return [self._for_here(order, where) for order, where in orders], window.advance(listed[:cut])

    def _listing(self, search: str | None) -> list[tuple[str, datetime, str]]:
        """(id, update time, status) of every order the search finds, oldest change first."""
        variables = {"query": search, "first": q.LIST_PAGE}
        nodes = self._pages(
            "orders", q.ORDER_LIST, variables, q.order_list_cost(), LIST_PAGES, "orders listing"
        )
        listed: list[tuple[str, datetime, str]] = []
        with reading(self.shop, "orders listing"):
            for raw in nodes:
                node = as_obj(raw, "orders node")
                status = "|".join(
                    str(node.get(k))
                    for k in ("displayFinancialStatus", "displayFulfillmentStatus", "cancelledAt")
                )
                updated = as_time(get(node, "updatedAt", "order"), "order updatedAt")
                listed.append((as_id(get(node, "id", "order"), "order id"), updated, status))
        return listed

    def _orders_by_id(self, order_ids: Sequence[str]) -> dict[str, tuple[ShopOrder, frozenset[str]]]:
        """Full orders, six a query (`id:` searches OR-ed), each with the locations it is assigned to."""
        found: dict[str, tuple[ShopOrder, frozenset[str]]] = {}
        for chunk in chunked(list(order_ids), q.ORDER_PAGE):
            search = " OR ".join(f"id:{_order_gid(i, self.shop).rpartition('/')[2]}" for i in chunk)
            variables = {"query": search, "first": q.ORDER_PAGE}
            for node in self._pages("orders", q.ORDERS, variables, q.orders_cost(), 1):
                order = read_order(node)
                found[order.order_id] = (order, assigned_locations(node))
        return found

    def _here(self, locations: frozenset[str]) -> bool:
        """Whether an order is this store's: one of its fulfillment orders is assigned to the configured
        location (or Shopify did not say where).
        """
        return not locations or self.location in locations

    def _for_here(self, order: ShopOrder, locations: frozenset[str]) -> ShopOrder:
        """The order as this store sees it: its part here, or withdrawn when nothing of it is here."""
        return self._local(order, locations) if self._here(locations) else _withdrawn(order)

    def _local(self, order: ShopOrder, locations: frozenset[str]) -> ShopOrder:
        """The part of an order this store ships. An order split over several locations (one fulfillment
        order each) keeps only the lines and quantities of the fulfillment orders assigned here, read in a
        second query (~278 cost points) that orders at one location never pay.
        """
        if len(locations) < 2 or order.problem is not None:
            return order
        gid = _order_gid(order.order_id, self.shop)
        data = self.run("order split lines", q.SPLIT_LINES, {"id": gid}, q.split_lines_cost())
        with reading(self.shop, "fulfillmentOrders lineItems"):
            quantities = local_quantities(data.get("order"), self.location)
        lines = tuple(
            replace(line, qty=quantities[line.line_id][0])
            for line in order.lines
            if quantities.get(line.line_id, (0, 0))[0]
        )
        shipped = bool(lines) and not any(quantities[line.line_id][1] for line in lines)
        state = OrderState.COMPLETED if shipped and order.state is OrderState.PAID else order.state
        return replace(order, lines=lines, state=state)

    def products_since(self, cursor: str | None) -> tuple[list[ShopProduct], str]:
        window = PollWindow.decode(cursor)
        since = window.query_from()
        search = None if since is None else f"updated_at:>'{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        variables = {"query": search, "first": q.PRODUCT_PAGE, **self.unit_metafield}
        document = q.CATALOG_WITH_UNIT if self.unit_metafield else q.CATALOG
        nodes = self._pages("productVariants", document, variables, q.catalog_cost())
        with reading(self.shop, "productVariants"):
            entries = [_catalog_entry(as_obj(node, "productVariants node")) for node in nodes]
            products = [p for p in entries if not p.sku.startswith("id:") or p.barcodes or p.problem]
        fresh = [p for p in products if window.is_new(p.product_id, p.updated_at, p.fingerprint)]
        return fresh, window.advance((p.product_id, p.updated_at, p.fingerprint) for p in products)

    def _pages(
        self,
        field: str,
        query: str,
        variables: dict[str, Any],
        estimate: float,
        pages: int = 0,
        operation: str = "",
    ) -> list[Any]:
        """Nodes of a connection, up to `pages` pages (default `max_pages`). `operation` names the query for
        the cost budget when one field is asked in queries of different costs.
        """
        found: list[Any] = []
        after = None
        for _ in range(pages or self.options.max_pages):
            data = self.run(operation or field, query, {**variables, "after": after}, estimate)
            with reading(self.shop, field):
                connection = as_obj(get(data, field, "data"), field)
                found.extend(as_list(get(connection, "nodes", field), f"{field} nodes"))
                page = as_obj(get(connection, "pageInfo", field), "pageInfo")
                if not as_bool(page.get("hasNextPage", False), "hasNextPage"):
                    break
                after = as_str(get(page, "endCursor", "pageInfo"), "endCursor")
        return found

    def get_order(self, order_id: str) -> ShopOrder:
        data = self.run("order", q.ORDER, {"id": _order_gid(order_id, self.shop)}, q.order_cost())
        node = data.get("order")
        if node is None:
            raise RequestRejected(self.shop, f"order {order_id!r} does not exist", 404)
        return self._for_here(read_order(node), assigned_locations(node))

    def complete_order(self, order_id: str) -> ShopOrder:
        open_ids = self._open_fulfillment_orders(order_id)
        if open_ids:
            groups = [{"fulfillmentOrderId": fo} for fo in open_ids]
            variables = {"fulfillment": {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": False}}
            data = self.run("fulfillmentCreate", q.FULFILL, variables, q.MUTATION_COST)
            self._log_user_errors(data, "fulfillmentCreate", order_id)
        return self.get_order(order_id)

    def _open_fulfillment_orders(self, order_id: str) -> list[str]:
        """The order's open fulfillment orders assigned to this location (another location's part of a
        split order is theirs to fulfil)."""
        gid = _order_gid(order_id, self.shop)
        data = self.run("order", q.FULFILLMENT_ORDERS, {"id": gid}, q.fulfillment_orders_cost())
        with reading(self.shop, "fulfillmentOrders"):
            order = data.get("order")
            if order is None:
                raise RequestRejected(self.shop, f"order {order_id!r} does not exist", 404)
            fos = as_list(
                get(as_obj(get(as_obj(order, "order"), "fulfillmentOrders", "order"), "fo"), "nodes", "fo"),
                "nodes",
            )
            return [
                as_str(get(as_obj(f, "fo"), "id", "fo"), "fo id")
                for f in fos
                if isinstance(f, dict)
                and f.get("status") == "OPEN"
                and _location_of(f) in (None, self.location)
            ]

    def _log_user_errors(self, data: dict[str, Any], field: str, order_id: str) -> None:
        answer = data.get(field)
        errors = answer.get("userErrors") if isinstance(answer, dict) else None
        if errors:
            log.warning("shop %s: %s for %s answered %s", self.shop, field, order_id, str(errors)[:200])

    # --- orders on the shop floor (base.FloorOrders) ----------------------------------------------------

    def tell_customer(self, order_id: str, text: str) -> None:
        """A note attribute on the order (`Tillbridge`), which its page and order status show; the order's
        own note stays the customer's. Other attributes are kept (read, then written back with this one)."""
        gid = _order_gid(order_id, self.shop)
        data = self.run("order", q.ORDER_ATTRIBUTES, {"id": gid}, 2)
        with reading(self.shop, "customAttributes"):
            order = as_obj(data.get("order") or {}, "order")
            kept = [
                {"key": str(a.get("key")), "value": str(a.get("value"))}
                for a in as_list(order.get("customAttributes") or [], "customAttributes")
                if isinstance(a, dict) and a.get("key") != NOTICE_ATTRIBUTE
            ]
        attributes = [*kept, {"key": NOTICE_ATTRIBUTE, "value": text}]
        answer = self.run(
            "orderUpdate",
            q.ORDER_UPDATE,
            {"input": {"id": gid, "customAttributes": attributes}},
            q.MUTATION_COST,
        )
        self._log_user_errors(answer, "orderUpdate", order_id)

    def set_stage(self, change: StageChange) -> None:
        """Ready for a pickup order: its fulfillment orders are marked prepared for pickup, which makes
        Shopify send the customer its "ready for pickup" notification. Collected / delivered: fulfilled.
        Accepted (and ready for a delivery): a note attribute with the message."""
        if change.stage is FloorStage.READY and change.pickup:
            groups = [{"fulfillmentOrderId": fo} for fo in self._open_fulfillment_orders(change.order_id)]
            if groups:
                variables = {"input": {"lineItemsByFulfillmentOrder": groups}}
                data = self.run(
                    "fulfillmentOrderLineItemsPreparedForPickup",
                    q.PREPARED_FOR_PICKUP,
                    variables,
                    q.MUTATION_COST,
                )
                self._log_user_errors(data, "fulfillmentOrderLineItemsPreparedForPickup", change.order_id)
            return
        if change.stage in (FloorStage.COLLECTED, FloorStage.DELIVERED):
            self.complete_order(change.order_id)
            return
        if change.message:
            self.tell_customer(change.order_id, change.message)

    def create_order(self, draft: OrderDraft) -> ShopOrder:
        """`draftOrderCreate` (variants found by sku, the box's `ref` as a note attribute, tagged
        `tillbridge-phone`) then `draftOrderComplete(paymentPending: true)`: an order with the whole amount
        due, paid at the counter. A `ref` already in a recent phone order gives that order back instead."""
        existing = self._phone_order(draft.ref)
        if existing is not None:
            return self.get_order(existing)
        found, problems = self._lookup([line.sku for line in draft.lines])
        for line in draft.lines:
            if line.sku in problems:
                raise problems[line.sku]
            if line.sku not in found:
                raise UnknownSku(self.shop, line.sku)
        draft_id = self._with_ref(
            "draftOrders", q.OPEN_DRAFTS, f"tag:{q.PHONE_TAG} AND status:open", draft.ref
        )
        if draft_id is None:  # (an open one is a draft whose completion was not answered: finish that one)
            data = self.run("draftOrderCreate", q.DRAFT_CREATE, {"input": _draft_input(draft, found)}, 10)
            draft_id = self._created(data, "draftOrderCreate", ("draftOrder", "id"))
        data = self.run("draftOrderComplete", q.DRAFT_COMPLETE, {"id": draft_id}, q.MUTATION_COST)
        try:
            order_id = self._created(data, "draftOrderComplete", ("draftOrder", "order", "id"))
        except RequestRejected:
            # a retried completion whose first attempt was applied ("This order has been paid")
            order_id = self._phone_order(draft.ref) or ""
            if not order_id:
                raise
        return self.get_order(order_id)

    def _phone_order(self, ref: str) -> str | None:
        """The id of the recent phone order carrying `ref`, if one was created already."""
        return self._with_ref("orders", q.PHONE_ORDERS, f"tag:{q.PHONE_TAG}", ref)

    def _with_ref(self, field: str, query: str, search: str, ref: str) -> str | None:
        """The id of the first `field` node (orders, draft orders) found by `search` that carries `ref`."""
        variables = {"first": q.PHONE_LOOKUP, "query": search}
        data = self.run(field, query, variables, q.phone_orders_cost())
        with reading(self.shop, field):
            orders = as_obj(get(data, field, "data"), field)
            for node in as_list(get(orders, "nodes", field), "nodes"):
                if (REF_ATTRIBUTE, ref) in _pairs(obj_or_empty(node).get("customAttributes")):
                    return as_str(get(as_obj(node, "order"), "id", "order"), "order id")
        return None

    def _created(self, data: dict[str, Any], field: str, path: tuple[str, ...]) -> str:
        """The id a mutation answered, or its first userError as `RequestRejected` naming the field."""
        with reading(self.shop, field):
            answer = as_obj(get(data, field, "data"), field)
            errors = as_list(answer.get("userErrors") or [], "userErrors")
            if errors:
                first = obj_or_empty(errors[0])
                where = ".".join(str(p) for p in first.get("field") or []) or "input"
                problem = f"{field}: {where}: {str(first.get('message'))[:200]}"
                raise RequestRejected(self.shop, problem, None, str(first.get("code") or "")[:60])
            value: Any = answer
            for key in path:
                value = obj_or_empty(value).get(key)
            return as_str(value, f"{field} {'.'.join(path)}")

    # --- webhooks --------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        h = lower_keys(headers)
        signature = h.get("x-shopify-hmac-sha256")
        if signature is None:
            raise WebhookRejected(self.shop, "webhook without X-Shopify-Hmac-Sha256")
        if not self.webhook_secrets:
            raise WebhookRejected(self.shop, "webhook received but no app secret is configured")
        if not signature_matches(body, signature, self.webhook_secrets):
            raise WebhookRejected(self.shop, "webhook HMAC does not match (wrong secret or altered body)")
        topic = h.get("x-shopify-topic", "")
        event_id = h.get("x-shopify-event-id") or h.get("x-shopify-webhook-id") or ""
        payload = load_json(body, self.shop, f"webhook {topic}", MalformedWebhook)
        with reading(self.shop, f"webhook {topic}", MalformedWebhook):
            return _event(topic, as_obj(payload, "webhook body"), event_id)


def _draft_input(draft: OrderDraft, items: Mapping[str, _Item]) -> dict[str, Any]:
    """A `DraftOrderInput`: lines by variant with the options and note as line properties; the slot and
    allergies as note attributes (how slot apps write them, so the order reads back like an online one)."""
    attributes = [
        {"key": REF_ATTRIBUTE, "value": draft.ref},
        {"key": CUSTOMER_ATTRIBUTE, "value": draft.customer},
    ]
    if draft.requested_at is not None:
        slot = "Pickup time" if draft.pickup else "Delivery time"
        attributes.append({"key": slot, "value": draft.requested_at.isoformat()})
    if draft.allergies:
        attributes.append({"key": "Allergies", "value": draft.allergies})
    first, _, last = draft.customer.partition(" ")
    body: dict[str, Any] = {
        "note": draft.note,
        "tags": [q.PHONE_TAG],
        "customAttributes": attributes,
        "lineItems": [
            {
                "variantId": items[line.sku].variant_id,
                "quantity": line.qty,
                "customAttributes": [{"key": o.name or "Extra", "value": o.value} for o in line.options]
                + ([{"key": "Note", "value": line.note}] if line.note else []),
            }
            for line in draft.lines
        ],
    }
    if draft.phone:
        body["phone"] = draft.phone
    if not draft.pickup:
        body["shippingAddress"] = {
            "address1": draft.address,
            "firstName": first,
            "lastName": last,
            "phone": draft.phone or None,
        }
    return body


def _search_term(sku: str) -> str:
    """`sku:"…"`, or `id:123` for the key of a variant without a SKU."""
    number = sku.removeprefix("id:")
    return f"id:{number}" if sku.startswith("id:") and number.isdigit() else f"sku:{_quoted(sku)}"


def _quoted(sku: str) -> str:
    return '"' + sku.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _index(field: list[Any], list_name: str) -> int | None:
    """The item index in a userError's field path (`["input", "changes", "3", "delta"]`)."""
    for i, part in enumerate(field[:-1]):
        if part == list_name and str(field[i + 1]).isdigit():
            return int(field[i + 1])
    return None


def _order_gid(order_id: str, shop: str) -> str:
    if order_id.isdigit():
        return f"gid://shopify/Order/{order_id}"
    if order_id.startswith("gid://shopify/Order/") and order_id.rsplit("/", 1)[1].isdigit():
        return order_id
    raise RequestRejected(shop, f"order id {order_id[:60]!r} is not a Shopify order id")


def _item(node: dict[str, Any]) -> _Item:
    inventory = as_obj(get(node, "inventoryItem", "variant"), "inventoryItem")
    level = inventory.get("inventoryLevel")
    quantity, updated = None, None
    tracked = as_bool(inventory.get("tracked", False), "tracked")
    if isinstance(level, dict):
        updated = opt_str(level.get("updatedAt"), "updatedAt") or None
        for entry in as_list(level.get("quantities") or [], "quantities"):
            obj = as_obj(entry, "quantity")
            if obj.get("name") == "available":
                quantity = as_int(get(obj, "quantity", "quantity"), "available")
    return _Item(
        sku=opt_str(node.get("sku"), "variant sku"),
        item_id=as_str(get(inventory, "id", "inventoryItem"), "inventoryItem id"),
        tracked=tracked,
        stocked=isinstance(level, dict),
        quantity=quantity if tracked else None,
        updated=updated,
        variant_id=opt_str(node.get("id"), "variant id"),
    )


def _money(value: Any, what: str) -> int:
    shop_money = as_obj(get(as_obj(value, what), "shopMoney", what), f"{what} shopMoney")
    return cents(get(shop_money, "amount", what), f"{what} amount")


def read_order(raw: Any) -> ShopOrder:
    """An order node, or what could be read of it with its problem (see `unreadable`)."""
    return order_or_problem(raw, lambda: parse_order(raw), lambda: _stock_facts(raw))


def parse_order(raw: Any) -> ShopOrder:
    """An order node of the GraphQL orders query."""
    node = as_obj(raw, "order")
    facts = _stock_facts(node)
    lines_conn = as_obj(get(node, "lineItems", "order"), "lineItems")
    fos = as_obj(node.get("fulfillmentOrders") or {"nodes": []}, "fulfillmentOrders")
    nodes = as_list(fos.get("nodes") or [], "fulfillmentOrders nodes")
    methods = [obj_or_empty(obj_or_empty(f).get("deliveryMethod")).get("methodType") for f in nodes]
    total = node.get("totalPriceSet")
    phone = _is_phone(node)
    return replace(
        facts,
        number=opt_str(node.get("name"), "order name"),
        placed_at=as_time(get(node, "createdAt", "order"), "createdAt"),
        lines=tuple(
            _line(as_obj(x, "lineItem")) for x in as_list(lines_conn.get("nodes") or [], "lineItems nodes")
        ),
        total_cents=_money(total, "totalPriceSet") if total is not None else 0,
        currency=opt_str(node.get("currencyCode"), "currencyCode"),
        customer=opt_str(
            (node.get("customer") or {}).get("displayName")
            if isinstance(node.get("customer"), dict)
            else None,
            "customer",
        )
        or (of.text(dict(_pairs(node.get("customAttributes"))).get(CUSTOMER_ATTRIBUTE)) if phone else ""),
        pickup="PICK_UP" in methods or (phone and not node.get("shippingAddress")),
        source="phone" if phone else "online",
        **_floor_facts(node, facts, total_cents=_money(total, "totalPriceSet") if total is not None else 0),
    )


def _fulfillment_orders(raw: Any) -> list[Any]:
    nodes = obj_or_empty(obj_or_empty(raw).get("fulfillmentOrders")).get("nodes")
    return nodes if isinstance(nodes, list) else []


def _location_of(fo: Any) -> str | None:
    """The location id a fulfillment order is assigned to (None when it does not say)."""
    assigned = obj_or_empty(obj_or_empty(fo).get("assignedLocation"))
    location_id = obj_or_empty(assigned.get("location")).get("id")
    return location_id if isinstance(location_id, str) else None


def assigned_locations(raw: Any) -> frozenset[str]:
    """The location ids an order node's fulfillment orders are assigned to (empty when it does not say)."""
    return frozenset(filter(None, (_location_of(fo) for fo in _fulfillment_orders(raw))))


def local_quantities(raw: Any, location: str) -> dict[str, tuple[int, int]]:
    """Line item id → (units, units still to fulfil) of the order's fulfillment orders assigned to
    `location` (`totalQuantity`, `remainingQuantity`, summed; a cancelled fulfillment order holds none)."""
    found: dict[str, tuple[int, int]] = {}
    for fo in _fulfillment_orders(raw):
        if _location_of(fo) != location or as_obj(fo, "fulfillmentOrder").get("status") == "CANCELLED":
            continue
        rows = as_obj(get(fo, "lineItems", "fulfillmentOrder"), "lineItems")
        for raw_row in as_list(rows.get("nodes") or [], "lineItems nodes"):
            row = as_obj(raw_row, "fulfillmentOrderLineItem")
            line = as_obj(get(row, "lineItem", "fulfillmentOrderLineItem"), "lineItem")
            line_id = as_id(get(line, "id", "lineItem"), "lineItem id")
            total, remaining = found.get(line_id, (0, 0))
            found[line_id] = (
                total + as_int(get(row, "totalQuantity", "row"), "totalQuantity"),
                remaining + as_int(row.get("remainingQuantity") or 0, "remainingQuantity"),
            )
    return found


def _floor_facts(node: dict[str, Any], facts: ShopOrder, total_cents: int) -> dict[str, Any]:
    """The order's note, note attributes (slot, allergies), phone, shipping address and what is still to
    pay (`totalOutstandingSet`), as `ShopOrder` fields (see `orderfacts`)."""
    attributes = _pairs(node.get("customAttributes"))
    note = of.text(node.get("note"))
    address = obj_or_empty(node.get("shippingAddress"))
    outstanding = node.get("totalOutstandingSet")
    due = _money(outstanding, "totalOutstandingSet") if isinstance(outstanding, dict) else 0
    return {
        "note": note,
        "requested_at": of.slot_of(attributes, UTC),
        "phone": of.text(node.get("phone")) or of.text(address.get("phone")),
        "address": ", ".join(
            filter(
                None,
                (
                    of.text(address.get("address1")),
                    of.text(address.get("address2")),
                    " ".join(filter(None, (of.text(address.get("zip")), of.text(address.get("city"))))),
                ),
            )
        ),
        "paid": due <= 0,
        "due_cents": max(0, min(due, total_cents or due)),
        "allergies": of.allergies_of(attributes, note),
    }


def _pairs(value: Any) -> list[tuple[str, Any]]:
    """GraphQL `customAttributes` ({key, value} objects) or REST properties ({name, value}) as pairs."""
    pairs: list[tuple[str, Any]] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            key = item.get("key", item.get("name"))
            if isinstance(key, str):
                pairs.append((key, item.get("value")))
    return pairs


def _is_phone(node: dict[str, Any]) -> bool:
    """A phone order the bridge created (`create_order`): it carries the box's ref as a note attribute."""
    return any(key == REF_ATTRIBUTE for key, _ in _pairs(node.get("customAttributes")))


def _stock_facts(raw: Any) -> ShopOrder:
    """What an order took out of the shop's stock (id, status, lines' sku and quantity), read alone."""
    node = as_obj(raw, "order")
    financial = opt_str(node.get("displayFinancialStatus"), "displayFinancialStatus")
    if financial == "PENDING" and _is_phone(node):
        financial = "PAY_AT_COUNTER"  # a phone order is paid at hand-over: it is made (and prints) now
    fulfillment = opt_str(node.get("displayFulfillmentStatus"), "displayFulfillmentStatus")
    cancelled = node.get("cancelledAt") is not None
    lines_conn = as_obj(get(node, "lineItems", "order"), "lineItems")
    rows = [as_obj(x, "lineItem") for x in as_list(lines_conn.get("nodes") or [], "lineItems nodes")]
    updated = as_time(get(node, "updatedAt", "order"), "updatedAt")
    order_id = as_id(get(node, "id", "order"), "order id")
    return ShopOrder(
        order_id=order_id,
        number=order_id,
        state=_state(financial, fulfillment, cancelled),
        status=f"{financial}/{fulfillment}" + ("/CANCELLED" if cancelled else ""),
        placed_at=updated,
        updated_at=updated,
        lines=tuple(stock_line(row, "id", "sku", "quantity") for row in rows),
        total_cents=0,
        currency="",
        holds_stock=not cancelled,
    )


def _withdrawn(order: ShopOrder) -> ShopOrder:
    """An order with no fulfillment order here (routed to another location, or moved there after it was
    placed: `fulfillmentOrderMove`) as this store sees it: cancelled here, with no lines and nothing held.
    So the bridge lets it go as it does a cancellation (its hold given back, off the boxes' floor) if it
    had the order from here before, and records nothing of one it never had (`orders._apply`); unlike a
    cancellation, it is `withdrawn` (unless Shopify cancelled it too): moved back here at a newer version,
    it holds its units again. The status says why (`/MOVED`); the order stays open in Shopify, for the
    other store to ship."""
    return replace(
        order,
        state=OrderState.CANCELLED,
        status=f"{order.status}/MOVED",
        withdrawn=order.state not in (OrderState.CANCELLED, OrderState.REFUNDED),
        lines=(),
        holds_stock=False,
        warnings=(),
        problem=None,  # what could not be read of another store's order is not this store's problem
        stock_known=True,
    )


def _state(financial: str, fulfillment: str, cancelled: bool) -> OrderState:
    if cancelled:
        return OrderState.CANCELLED
    if financial in FINANCIAL:
        return FINANCIAL[financial]
    if fulfillment == "FULFILLED":
        return OrderState.COMPLETED
    return OrderState.PAID


def _line(node: dict[str, Any]) -> OrderLine:
    """A line item; its properties (`customAttributes`) are the customer's options and note (`_`-keys are
    apps' own), the product's type and tags what routes it to a station."""
    price = node.get("discountedUnitPriceSet") or node.get("originalUnitPriceSet")
    options, note = of.split_line_meta(_pairs(node.get("customAttributes")))
    product = obj_or_empty(node.get("product"))
    tags = [
        of.text(product.get("productType")),
        *(of.text(t) for t in product.get("tags") or [] if isinstance(t, str)),
    ]
    return OrderLine(
        line_id=as_id(get(node, "id", "line"), "line id"),
        sku=opt_str(node.get("sku"), "line sku"),
        name=opt_str(node.get("name"), "line name"),
        qty=as_int(get(node, "quantity", "line"), "line quantity"),
        unit_price_cents=_money(price, "unit price") if price is not None else 0,
        options=options,
        note=note,
        tags=tuple(t for t in tags if t)[:10],
    )


def _catalog_entry(node: dict[str, Any]) -> ShopProduct:
    """A variant: every Shopify product has at least one, and each is an item with its own sku, barcode and
    price. Its name is the product's title, and the variant's title when it has a real one ("Blue / L").
    A variant without a SKU is kept under a key derived from its id.
    """
    product = obj_or_empty(node.get("product"))
    variant_id = as_id(get(node, "id", "variant"), "variant id")
    sku = as_code(node.get("sku"), "variant sku") or derived_sku(variant_id.rpartition("/")[2])
    updated = as_time(get(node, "updatedAt", "variant"), "variant updatedAt")

    def read() -> tuple[str, Decimal, tuple[str, ...], str | None]:
        name = _variant_name(opt_str(product.get("title"), "product title"), node.get("title"))
        price = amount(get(node, "price", "variant"), "variant price")
        sold_by = obj_or_empty(node.get("unit")).get("value") or obj_or_empty(product.get("unit")).get(
            "value"
        )
        return name, price, barcodes([node.get("barcode")]), unit(sold_by)

    return product_or_problem(sku, variant_id, updated, read)


def _variant_name(product_title: str, variant_title: Any) -> str:
    if isinstance(variant_title, str) and variant_title.strip() not in ("", "Default Title"):
        return f"{product_title} - {variant_title.strip()}" if product_title else variant_title.strip()
    return product_title


def _event(topic: str, payload: dict[str, Any], event_id: str) -> WebhookEvent:
    resource = topic.split("/")[0]
    rid = as_id(payload.get("admin_graphql_api_id") or get(payload, "id", "webhook"), "webhook id")
    order: ShopOrder | None = None
    products: tuple[ShopProduct, ...] = ()
    if resource == "orders":
        order = parse_rest_order(payload)
    elif resource == "products":
        products = _rest_products(payload)
    kind = {"orders": "order", "products": "product"}.get(resource, "other")
    return WebhookEvent("shopify", topic, kind, rid, event_id or f"{topic}:{rid}", order, products, payload)


def parse_rest_order(raw: Any) -> ShopOrder:
    """A webhook's order body, which is the REST resource, not the GraphQL node. It does not say whether the
    order is a pickup; `get_order` does.
    """
    obj = as_obj(raw, "order")
    gid = as_id(
        obj.get("admin_graphql_api_id")
        or f"gid://shopify/Order/{as_id(get(obj, 'id', 'order'), 'order id')}",
        "order id",
    )
    financial = opt_str(obj.get("financial_status"), "financial_status").upper()
    fulfilled = opt_str(obj.get("fulfillment_status"), "fulfillment_status").upper()
    cancelled = obj.get("cancelled_at") is not None
    customer = obj_or_empty(obj.get("customer"))
    lines = []
    for raw in as_list(obj.get("line_items") or [], "line_items"):
        line = as_obj(raw, "line_items[]")
        lines.append(
            OrderLine(
                line_id=as_id(line.get("admin_graphql_api_id") or get(line, "id", "line"), "line id"),
                sku=opt_str(line.get("sku"), "line sku"),
                name=opt_str(line.get("name"), "line name"),
                qty=as_int(get(line, "quantity", "line"), "line quantity"),
                unit_price_cents=cents(line.get("price") or "0", "line price"),
            )
        )
    return ShopOrder(
        order_id=gid,
        number=opt_str(obj.get("name"), "order name"),
        state=_state(financial, fulfilled, cancelled),
        status=f"{financial}/{fulfilled}" + ("/CANCELLED" if cancelled else ""),
        placed_at=as_time(get(obj, "created_at", "order"), "created_at"),
        updated_at=as_time(get(obj, "updated_at", "order"), "updated_at"),
        lines=tuple(lines),
        total_cents=cents(obj.get("total_price") or "0", "total_price"),
        currency=opt_str(obj.get("currency"), "currency"),
        customer=" ".join(
            filter(None, (str(customer.get("first_name") or ""), str(customer.get("last_name") or "")))
        ),
        holds_stock=not cancelled,
    )


def _rest_products(obj: dict[str, Any]) -> tuple[ShopProduct, ...]:
    title = opt_str(obj.get("title"), "title")
    variants = [as_obj(raw, "variant") for raw in as_list(obj.get("variants") or [], "variants")]
    return tuple(_rest_variant(v, title, obj) for v in variants if v.get("sku"))


def _rest_variant(variant: dict[str, Any], title: str, product: dict[str, Any]) -> ShopProduct:
    vid = as_id(get(variant, "id", "variant"), "variant id")
    gid = vid if vid.startswith("gid://") else f"gid://shopify/ProductVariant/{vid}"
    sku = as_code(variant["sku"], "variant sku")
    updated = as_time(variant.get("updated_at") or get(product, "updated_at", "product"), "updated_at")

    def read() -> tuple[str, Decimal, tuple[str, ...], str | None]:
        price = amount(get(variant, "price", "variant"), "variant price")
        return _variant_name(title, variant.get("title")), price, barcodes([variant.get("barcode")]), None

    return product_or_problem(sku, gid, updated, read)
