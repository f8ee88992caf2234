"""django-oscar through django-oscar-api's admin API (`/api/admin/`), signed in as a staff account.

Oscar keeps stock per partner in a stock record: `num_in_stock` units on the shelf, `num_allocated` of them
promised to placed orders and not yet shipped. Buyers see `num_in_stock − num_allocated`, so that is the
level the bridge reads, and a write of level L sets `num_in_stock = L + num_allocated` (one PATCH per stock
record: the API has no batch and no compare-and-swap, so an expected level is checked by reading first).
The SKU is the stock record's `partner_sku` for the configured partner, the barcode the product's `upc`,
the price the stock record's `price`. Oscar sends no webhooks; the bridge polls.

Orders are read from the admin API (`oscar_orders` says how, without a change time). The admin API cannot
change an order's status, so a collected order is closed the way the shop's staff close it: through
Oscar's dashboard order page (`change_order_status`), which runs the shop's own status pipeline; the
bridge signs in with the same account (a session, as a browser would) and reads the order back to check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlencode

from cloud_bridge.connectors._values import (
    amount,
    as_code,
    as_id,
    as_int,
    as_list,
    as_obj,
    as_time,
    get,
    opt_int,
    opt_str,
)
from cloud_bridge.connectors.base import (
    BatchLimits,
    ItemResult,
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
    describe_json,
    load_json,
    reading,
    result_order,
)
from cloud_bridge.connectors.cursor import PollWindow
from cloud_bridge.connectors.http import Call, OverHttp, Reply, ShopHttp
from cloud_bridge.connectors.oscar_orders import (
    Reading,
    Statuses,
    StatusWindow,
    changed_orders,
    read_order,
)
from cloud_bridge.errors import (
    NotApplied,
    RequestRejected,
    ShopAuthError,
    ShopError,
    StaleStock,
    UnknownSku,
    UnsupportedOperation,
)

API: Final = "/api/admin"
PICKUP_METHODS: Final = ("no-shipping-required",)  # a basket with nothing to ship is collected in store


@dataclass(frozen=True)
class _Record:
    """One sku: a stock record of the configured partner, and its product."""

    sku: str
    record_id: int
    product_id: str
    in_stock: int | None
    allocated: int
    updated: datetime
    product_updated: datetime
    title: str
    price: Any
    upc: Any

    @property
    def available(self) -> int | None:
        return None if self.in_stock is None else self.in_stock - self.allocated


class OscarConnector(OverHttp):
    platform = "oscar"
    supports_deltas = False
    limits = BatchLimits(reads=1_000_000, writes=1)  # one list read; a PATCH per stock record
    supports_cas = False
    supports_webhooks = False

    def __init__(
        self,
        shop: str,
        base_url: str,
        username: str,
        password: str,
        *,
        partner: str = "",
        pickup_methods: Sequence[str] = PICKUP_METHODS,
        collected_status: str = Statuses.collected,
        options: ConnectorOptions = ConnectorOptions(),  # noqa: B008 - frozen
    ) -> None:
        self.shop = shop
        self.partner = partner
        self.options = options
        self.site = base_url.rstrip("/")
        self.credentials = (username, password)
        self.statuses = Statuses(collected=collected_status)
        self.pickup_methods = tuple(pickup_methods)
        # A session of its own (its cookies are this shop's sign-in), not a pooled one.
        self.http = ShopHttp(
            shop,
            self.site,
            options.retrier(),
            describe_oscar,
            timeout=options.timeout,
            headers={"Accept": "application/json"},
        )
        self._signed_in = False

    # --- the signed-in session -------------------------------------------------------------------------

    def _send(self, call: Call, what: str) -> Reply:
        """An admin API call on the signed-in session. Signing in once instead of sending Basic auth on
        every call spares the shop a password hash per request (Django's PBKDF2 costs a noticeable share
        of a CPU each time); a session the shop no longer knows is signed in again once.
        """
        for attempt in range(2):
            if not self._signed_in:
                self._sign_in()
            try:
                return self.http.send(self._csrf(replace(call, path=API + call.path)), what)
            except ShopAuthError:
                self._signed_in = False
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _sign_in(self) -> None:
        """django-oscar-api's session login (`POST /api/login/`); refused credentials: `ShopAuthError`."""
        username, password = self.credentials
        self.http.session.cookies.clear()
        call = Call("POST", "/api/login/", json={"username": username, "password": password})
        self.http.send(call, "POST /api/login/")
        self._signed_in = True

    def _csrf(self, call: Call) -> Call:
        """Django checks a session's unsafe requests for its CSRF token (and, over HTTPS, the Referer)."""
        if call.method in ("GET", "HEAD", "OPTIONS"):
            return call
        token = self.http.session.cookies.get("csrftoken") or ""
        return replace(
            call, headers={**(call.headers or {}), "X-CSRFToken": token, "Referer": self.site + "/"}
        )

    # --- stock -----------------------------------------------------------------------------------------

    def get_stock(self, skus: Sequence[str]) -> dict[str, StockLevel]:
        records = self._records()
        return {
            sku: StockLevel(sku, records[sku].available, records[sku].updated.isoformat())
            for sku in skus
            if sku in records
        }

    def set_stock(self, changes: Sequence[StockChange]) -> list[ItemResult]:
        records = self._records()
        results: dict[str, ItemResult] = {}
        for change in changes:
            record = records.get(change.sku)
            if record is None:
                results[change.sku] = ItemResult(change.sku, error=UnknownSku(self.shop, change.sku))
            elif change.expected is not None and record.available != change.expected:
                problem = f"sku {change.sku!r} is at {record.available}, not {change.expected}"
                results[change.sku] = ItemResult(
                    change.sku, error=StaleStock(self.shop, problem, record.available)
                )
            else:
                results[change.sku] = self._write(record, change.quantity)
        return result_order([c.sku for c in changes], results)

    def _write(self, record: _Record, level: int) -> ItemResult:
        """Sets the shelf count so that buyers see `level` with the units promised to orders kept aside."""
        path = f"/stockrecords/{record.record_id}/"
        what = f"PATCH {path}"
        try:
            reply = self._send(Call("PATCH", path, json={"num_in_stock": level + record.allocated}), what)
            with reading(self.shop, what):
                answer = as_obj(load_json(reply.body, self.shop, what), what)
                in_stock = opt_int(answer.get("num_in_stock"), f"{what} num_in_stock")
                allocated = opt_int(answer.get("num_allocated"), f"{what} num_allocated") or 0
        except ShopAuthError:
            raise
        except RequestRejected as exc:
            if exc.status == 404:
                gone = f"sku {record.sku!r}: stock record {record.record_id} is gone"
                return ItemResult(record.sku, error=NotApplied(self.shop, gone))
            return ItemResult(record.sku, error=exc)
        except ShopError as exc:
            return ItemResult(record.sku, error=exc)
        return ItemResult(record.sku, None if in_stock is None else in_stock - allocated)

    def adjust_stock(self, deltas: Sequence[StockDelta], idempotency_key: str) -> list[ItemResult]:
        raise UnsupportedOperation(self.shop, "Oscar has no atomic, idempotent stock deltas; use set_stock")

    # --- catalog ---------------------------------------------------------------------------------------

    def products_since(self, cursor: str | None) -> tuple[list[ShopProduct], str]:
        """Every product whose product or stock record (where the price lives) changed since the cursor.
        Oscar's admin list has no date filter, so each poll reads the list and the cursor drops repeats.
        """
        window = PollWindow.decode(cursor)
        since = window.query_from()
        products = [
            product
            for product in map(self._product, self._records().values())
            if since is None or product.updated_at >= since  # the filter the shop's API does not have
        ]
        fresh = [p for p in products if window.is_new(p.product_id, p.updated_at, p.fingerprint)]
        return fresh, window.advance((p.product_id, p.updated_at, p.fingerprint) for p in products)

    def _product(self, record: _Record) -> ShopProduct:
        def read() -> tuple[str, Decimal, tuple[str, ...], str | None]:
            return record.title, amount(record.price or "0", "price"), barcodes([record.upc]), None

        updated = max(record.updated, record.product_updated)
        return product_or_problem(record.sku, record.product_id, updated, read)

    def _records(self) -> dict[str, _Record]:
        """Every sku of the configured partner (the first partner's records when none is configured)."""
        what = "GET /products/"
        reply = self._send(Call("GET", "/products/"), what)
        found: dict[str, _Record] = {}
        twice: set[str] = set()
        with reading(self.shop, what):
            for entry in as_list(load_json(reply.body, self.shop, what), what):
                for record in self._product_records(as_obj(entry, what)):
                    if record.sku in found:
                        twice.add(record.sku)
                    found[record.sku] = record
        return {sku: record for sku, record in found.items() if sku not in twice}

    def _product_records(self, product: dict[str, Any]) -> list[_Record]:
        product_id = as_id(get(product, "id", "product"), "product id")
        what = f"product {product_id}"
        records: list[_Record] = []
        for raw in as_list(product.get("stockrecords") or [], f"{what} stockrecords"):
            obj = as_obj(raw, f"{what} stockrecord")
            partner = opt_str(obj.get("partner"), f"{what} partner")
            if self.partner and not partner.rstrip("/").endswith(f"/partners/{self.partner}"):
                continue
            sku = as_code(obj.get("partner_sku"), f"{what} partner_sku")
            if not sku:
                continue
            records.append(
                _Record(
                    sku=sku,
                    record_id=_record_id(obj, what),
                    product_id=product_id,
                    in_stock=opt_int(obj.get("num_in_stock"), f"{what} num_in_stock"),
                    allocated=opt_int(obj.get("num_allocated"), f"{what} num_allocated") or 0,
                    updated=as_time(get(obj, "date_updated", what), f"{what} date_updated"),
                    product_updated=as_time(get(product, "date_updated", what), f"{what} date_updated"),
                    title=opt_str(product.get("title"), f"{what} title"),
                    price=obj.get("price"),
                    upc=product.get("upc"),
                )
            )
        return records

    # --- orders and webhooks ---------------------------------------------------------------------------

    def orders_since(self, cursor: str | None) -> tuple[list[ShopOrder], str]:
        """Orders new to the cursor or whose status moved, oldest first (see `oscar_orders`). The list has
        no filter, so each poll reads it whole; lines and stock records are read only when one changed.
        """
        window = StatusWindow.decode(cursor)
        what = "GET /orders/"
        reply = self._send(Call("GET", "/orders/"), what)
        with reading(self.shop, what):
            listed = as_list(load_json(reply.body, self.shop, what), what)
        changed = changed_orders(listed, window)
        if not changed:
            return [], window.advance(())
        context = self._reading()
        pairs: list[tuple[str, ShopOrder]] = []
        for raw, pk in changed:
            if pk is None:  # too broken to follow: read once for its problem, and parked
                broken = read_order(raw, [], context)
                pairs.append((broken.order_id, broken))
            else:
                pairs.append((pk, self._read(raw, pk, context)))
        return [order for _, order in pairs], window.advance(pairs)

    def get_order(self, order_id: str) -> ShopOrder:
        pk = _pk(order_id, self.shop)
        what = f"GET /orders/{pk}/"
        raw = load_json(self._send(Call("GET", f"/orders/{pk}/"), what).body, self.shop, what)
        return self._read(raw, pk, self._reading())

    def complete_order(self, order_id: str) -> ShopOrder:
        """Moves the order to the collected status through the dashboard's order form, as staff would, and
        reads it back: Oscar answers the form with a redirect whether or not its pipeline allowed the move.
        """
        order = self.get_order(order_id)
        if order.status == self.statuses.collected:
            return order  # a retry after the first attempt's answer was lost
        self._dashboard_status(order.number, self.statuses.collected)
        after = self.get_order(order_id)
        if after.status != self.statuses.collected:
            problem = (
                f"order {order.number} stayed {after.status!r}: the shop's status pipeline does not "
                f"allow {after.status!r} → {self.statuses.collected!r}, or the account may not use "
                "the dashboard's orders (order.view_order)"
            )
            raise RequestRejected(self.shop, problem, 409, "status_not_changed")
        return after

    def _dashboard_status(self, number: str, status: str) -> None:
        """Posts the dashboard's order status form on the signed-in session, as staff would."""
        if not self._signed_in:
            self._sign_in()
        page = f"/dashboard/orders/{number}/"
        form = {
            "order_action": "change_order_status",
            "new_status": status,
            "csrfmiddlewaretoken": self.http.session.cookies.get("csrftoken") or "",
        }
        post = Call(
            "POST",
            page,
            data=urlencode(form).encode(),
            headers={
                "Referer": self.site + page,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "text/html",
            },
        )
        try:
            self.http.send(post, f"POST {page} change_order_status")
        except RequestRejected as exc:
            if exc.status != 302:  # the form's answer is a redirect back to the order page
                raise
            # a redirect to the sign-in page means the session had expired: the read-back tells

    def _reading(self) -> Reading:
        skus = {r.record_id: (r.sku, r.title) for r in self._records().values()}
        return Reading(self.statuses, self.pickup_methods, skus)

    def _read(self, raw: Any, pk: str, context: Reading) -> ShopOrder:
        what = f"GET /orders/{pk}/lines/"
        reply = self._send(Call("GET", f"/orders/{pk}/lines/"), what)
        return read_order(raw, load_json(reply.body, self.shop, what), context)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        raise UnsupportedOperation(self.shop, "Oscar sends no webhooks; the bridge polls it")


def _pk(order_id: str, shop: str) -> str:
    if not order_id.isdigit() or len(order_id) > 18:
        raise RequestRejected(shop, f"order id {order_id[:40]!r} is not an Oscar order id", 404)
    return order_id


def _record_id(obj: dict[str, Any], what: str) -> int:
    """The stock record's id, from its `url` (`…/stockrecords/<id>/`): the admin API gives no `id` field."""
    url = opt_str(obj.get("url"), f"{what} stockrecord url").rstrip("/")
    return as_int(url.rpartition("/")[2], f"{what} stockrecord url")


def describe_oscar(body: bytes) -> tuple[str, str]:
    """(code, message) from Django REST framework's `{"detail": …}` or field errors `{"field": [...]}`."""
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        return describe_json(body)
    if isinstance(obj, dict) and isinstance(obj.get("detail"), str):
        return "", obj["detail"][:200]
    if isinstance(obj, dict):
        return "", "; ".join(f"{k}: {v}" for k, v in obj.items())[:200]
    return describe_json(body)
