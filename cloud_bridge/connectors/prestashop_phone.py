"""Phone orders in a PrestaShop shop: the Webservice's way of making an order, and how one reads back.

The Webservice cannot write an order directly: `POST /orders` names a cart and PrestaShop runs the payment
module's `validateOrder` on it, so a phone order takes a customer (a guest, found again by the phone
number it was made for), an address (`id_address_delivery` / `invoice` are required; a pickup gets the
customer's phone and the shop's city), a cart with the lines (product and combination ids), and then the
order: `module` an installed payment module, `payment` the label the back office shows ("Pay at pickup",
"Pay on delivery"), `total_paid` exactly the cart's total with taxes (PrestaShop puts an order whose
total differs in "Payment error" and takes no stock): the products' prices read from the shop
(`price[…][use_tax]=1`, to 6 decimals, as the cart takes them), less its automatic cart rules, rounded as
its `PS_ROUND_TYPE` and `PS_PRICE_ROUND_MODE` say (`prestashop_cartrules`), plus the delivery's cost,
worked out from the carrier's rows as the shop does (`prestashop_shipping`). A pickup goes with
`carrier`, a delivery with `delivery_carrier`.

A try that died half way left its customer and address in the shop: the next finds both again (the
guest by its e-mail, the address by its customer, alias and fields) instead of making twins.

PrestaShop has no field for a slot, a per-line note or a "made by phone" mark, so the bridge writes them
in a private message on the cart before the order exists: `tillbridge phone order <ref>` and the order's
facts as JSON. That message is the idempotency key too: creating the same ref again finds it (a prefix
filter on `messages`), then the order made from its cart, and gives that order back instead of a second;
a cart without an order (the first try died in between) is ordered then. Reading orders, one whose
`payment` is one of ours gets its cart's messages read and the facts applied: the floor sees a phone
order, to pay at hand-over, with its options, notes and slot.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any, Final

from cloud_bridge.connectors import orderfacts as of
from cloud_bridge.connectors import prestashop_cartrules as rules
from cloud_bridge.connectors import prestashop_shipping as ship
from cloud_bridge.connectors import prestashop_xml as psxml
from cloud_bridge.connectors._values import (
    Invalid,
    amount,
    as_id,
    as_int,
    as_list,
    as_obj,
    get,
    obj_or_empty,
)
from cloud_bridge.connectors.base import LineOption, OrderDraft, OrderLine, OrderState, ShopOrder
from cloud_bridge.connectors.common import chunked, load_json, reading
from cloud_bridge.connectors.http import Call, ShopHttp
from cloud_bridge.errors import RequestRejected, ShopAuthError

log = logging.getLogger(__name__)

MARKER: Final = "tillbridge phone order "
PAYMENTS: Final = {True: "Pay at pickup", False: "Pay on delivery"}
MESSAGE_MAX: Final = 1600  # a message's `message` field (isCleanHtml, 1600 characters)
PAYMENT_ERROR: Final = "8"  # PS_OS_ERROR: validateOrder found total_paid other than the cart's total
FILTER_UNSAFE: Final = frozenset("[]|,%")
_NAME_UNSAFE: Final = frozenset('0123456789!<>,;?=+()/\\@#"°*`{}_^$%:¤[]|.')
_ADDRESS_UNSAFE: Final = frozenset("!<>?=+@{}_$%")
_PHONE_CHARS: Final = frozenset("+0123456789. ()/-")
_ESCAPED: Final = "<>=&:"  # never raw in the facts' strings: isCleanHtml must find nothing to refuse
ALIAS: Final = "tillbridge phone order"
_XML: Final = {"Content-Type": "text/xml; charset=utf-8"}
_ELEMENTS: Final = {"addresses": "address", "countries": "country", "taxes": "tax"}
_JSON: Final = {"output_format": "JSON"}


@dataclass(frozen=True)
class PhoneSettings:
    """The shop's ids a phone order is made with (PrestaShop's defaults: Spain is country 6, the first
    currency and language 1). `carrier` is the one pickup phone orders go with, `delivery_carrier` (0:
    the same) the one for deliveries; `state` other than 0 moves the new order there (e.g. 13, "Awaiting
    cash on delivery validation"), since the Webservice always creates it in "Remote payment
    accepted"."""

    module: str = "ps_cashondelivery"
    country_id: int = 6
    currency_id: int = 1
    lang_id: int = 1
    city: str = "-"
    carrier: int = 1
    state: int = 0
    guest_domain: str = "tillbridge.invalid"  # a reserved domain: no mail ever leaves for a guest
    delivery_carrier: int = 0

    def carrier_for(self, pickup: bool) -> int:
        return self.carrier if pickup or not self.delivery_carrier else self.delivery_carrier


@dataclass(frozen=True)
class Target:
    """A line's product in the shop: ids for the cart, the sku it was asked by."""

    sku: str
    product_id: str
    attribute_id: str
    qty: int


@dataclass(frozen=True)
class _Price:
    gross: Decimal
    net: Decimal
    weight: Decimal
    additional: Decimal


def facts_message(draft: OrderDraft) -> str:
    """The private message that marks the cart and carries what PrestaShop has no field for."""
    facts = {
        "v": 1,
        "customer": draft.customer,
        "phone": draft.phone,
        "pickup": draft.pickup,
        "address": draft.address,
        "due_at": draft.requested_at.isoformat() if draft.requested_at else None,
        "note": draft.note,
        "allergies": draft.allergies,
        "lines": [
            {"sku": line.sku, "options": [[o.name, o.value] for o in line.options], "note": line.note}
            for line in draft.lines
        ],
    }
    return f"{MARKER}{draft.ref}\n{_dump(facts)}"


def _dump(value: Any) -> str:
    """JSON whose strings carry `<>=&:` as \\u escapes (json.loads reads them back unchanged)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{_dump(str(k))}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    if isinstance(value, str):
        quoted = json.dumps(value, ensure_ascii=False)
        return "".join(f"\\u{ord(ch):04x}" if ch in _ESCAPED else ch for ch in quoted)
    return json.dumps(value)


def read_facts(text: str, ref: str | None = None) -> dict[str, Any] | None:
    """The facts of a marker message (of `ref`, when given), or None for any other message."""
    first, _, rest = text.partition("\n")
    if not first.startswith(MARKER) or (ref is not None and first != MARKER + ref):
        return None
    try:
        facts = json.loads(rest)
    except (ValueError, RecursionError):
        return {}
    return facts if isinstance(facts, dict) else {}


def with_facts(order: ShopOrder, facts: Mapping[str, Any]) -> ShopOrder:
    """The order as the phone call made it: to pay at hand-over (so it prints while PrestaShop calls it
    unpaid), with the customer, slot, notes and each line's options and note (matched by sku, in order)."""
    wanted: list[tuple[str, tuple[LineOption, ...], str]] = []
    for item in _listed(facts.get("lines")):
        item = obj_or_empty(item)
        pairs = [p for p in _listed(item.get("options")) if isinstance(p, list) and len(p) == 2]
        options = tuple(LineOption(of.text(n), of.text(v)) for n, v in pairs if of.text(v))
        wanted.append((of.text(item.get("sku")), options, of.text(item.get("note"))))
    lines: list[OrderLine] = []
    for line in order.lines:
        match = next((w for w in wanted if w[0] == line.sku), None)
        if match is not None:
            wanted.remove(match)
            line = replace(line, options=line.options + match[1], note=match[2] or line.note)
        lines.append(line)
    note = of.text(facts.get("note"))
    requested = _moment(of.text(facts.get("due_at")))
    return replace(
        order,
        state=OrderState.PAID if order.state is OrderState.PENDING else order.state,
        lines=tuple(lines),
        source="phone",
        paid=False,
        due_cents=order.total_cents,
        customer=of.text(facts.get("customer")) or order.customer,
        phone=of.text(facts.get("phone")),
        pickup=facts.get("pickup") is not False,
        address=of.text(facts.get("address")),
        requested_at=requested,
        note=note or order.note,
        allergies=of.text(facts.get("allergies")) or of.allergies_of([], note),
    )


def _id(value: Any, what: str) -> str:
    """A PrestaShop id (digits) the shop sent, as text; anything else is `Invalid`."""
    text = as_id(value, what)
    if not (text.isascii() and text.isdigit()):
        raise Invalid(f"{what}: {text[:40]!r} is not a PrestaShop id")
    return text


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def customer_name(name: str) -> tuple[str, str]:
    """(firstname, lastname) PrestaShop's `isCustomerName` accepts: no digits nor its punctuation."""
    kept = "".join(ch for ch in name if ch not in _NAME_UNSAFE and ch.isprintable())
    first, _, last = " ".join(kept.split()).partition(" ")
    return (first or "Cliente")[:255], (last or "-")[:255]


def phone_text(phone: str) -> str:
    return "".join(ch for ch in phone if ch in _PHONE_CHARS).strip()[:32]


def address_text(text: str) -> str:
    kept = "".join(ch for ch in text if ch not in _ADDRESS_UNSAFE and ch.isprintable())
    return " ".join(kept.split())[:128]


class PhoneOrderMaker:
    """The Webservice calls that make one phone order (see the module's docstring)."""

    def __init__(
        self, shop: str, http: ShopHttp, settings: PhoneSettings, shop_id: str, tz: tzinfo = UTC
    ) -> None:
        self.shop, self.http, self.settings, self.shop_id, self.tz = shop, http, settings, shop_id, tz
        self._told_unrounded = False  # the log line saying the shop's rounding is not read, said once

    def create(self, draft: OrderDraft, resolve: Callable[[], Sequence[Target]]) -> str:
        """The id of the order made for `draft.ref`, made now unless it already was; `resolve` finds the
        lines' products (or raises) once the ref is known to be new."""
        text = facts_message(draft)
        if not draft.ref or FILTER_UNSAFE & set(draft.ref) or not draft.ref.isprintable():
            raise RequestRejected(self.shop, f"phone order ref {draft.ref[:40]!r} cannot be looked up")
        if len(text) > MESSAGE_MAX:
            raise RequestRejected(
                self.shop,
                f"phone order {draft.ref}: its details take {len(text)} characters, more than a "
                f"PrestaShop message holds ({MESSAGE_MAX}); shorten the notes",
            )
        cart = self._marked_cart(draft.ref)
        if cart is not None:
            order = self._order_of_cart(cart)
            if order is not None:
                return order
            return self._order(self._get("carts", cart), draft.pickup)
        targets = resolve()
        customer, secure_key = self._customer(draft)
        address = self._address(draft, customer)
        carrier = self._live_carrier(self.settings.carrier_for(draft.pickup))
        cart_row = self._cart(targets, customer, secure_key, address, carrier.id)
        with reading(self.shop, "POST /carts"):
            cart_id = _id(get(cart_row, "id", "cart"), "cart id")
        self._post("messages", {"id_cart": cart_id, "id_customer": customer, "message": text, "private": "1"})
        return self._order(cart_row, draft.pickup, carrier)

    def _live_carrier(self, configured: int) -> ship.Carrier:
        """The configured carrier, or the one it became: PrestaShop saves an edited carrier as a copy
        with a new id and the same `id_reference`, and keeps the old one as `deleted`."""
        what = f"GET /carriers/{configured}"
        with reading(self.shop, what):
            carrier = ship.carrier_of(self._get("carriers", str(configured)))
        if not carrier.deleted:
            return carrier
        params = {
            "filter[id_reference]": f"[{carrier.reference}]",
            "filter[deleted]": "[0]",
            "display": "full",
            **_JSON,
        }
        rows = self._list("carriers", params)
        with reading(self.shop, "GET /carriers"):
            live = [ship.carrier_of(row) for row in rows]
        if not live:
            raise RequestRejected(
                self.shop,
                f"carrier {configured} was deleted in the shop: set the phone orders' carrier again",
            )
        return max(live, key=lambda c: int(c.id))

    def _marked_cart(self, ref: str) -> str | None:
        params = {"filter[message]": f"[{MARKER}{ref}]%", "display": "[id,id_cart,message]", **_JSON}
        for row in self._list("messages", params):
            if read_facts(str(row.get("message", "")), ref) is not None and str(row.get("id_cart")) != "0":
                with reading(self.shop, "GET /messages"):
                    return _id(row.get("id_cart"), "message id_cart")
        return None

    def _order_of_cart(self, cart: str) -> str | None:
        """The order made from the cart, if any; one made in "Payment error" is refused again, naming it."""
        params = {"filter[id_cart]": f"[{cart}]", "display": "[id,current_state]", **_JSON}
        rows = self._list("orders", params)
        if not rows:
            return None
        with reading(self.shop, "GET /orders"):
            order_id = _id(rows[0].get("id"), "order id")
        if str(rows[0].get("current_state")) == PAYMENT_ERROR:
            raise RequestRejected(self.shop, f"order {order_id} was made in 'Payment error' (see the order)")
        return order_id

    def _customer(self, draft: OrderDraft) -> tuple[str, str]:
        """(id, secure_key) of the guest made for this phone number (found by its e-mail), else of a new
        one. The cart must carry the customer's `secure_key`: validateOrder refuses a cart whose key
        does not match ("Secure key does not match")."""
        digits = "".join(ch for ch in draft.phone if ch.isdigit())[:20]
        email = f"phone-{digits or 'anonymous'}@{self.settings.guest_domain}"
        params = {"filter[email]": f"[{email}]", "display": "[id,secure_key]", **_JSON}
        found = self._list("customers", params)
        if found:
            with reading(self.shop, "GET /customers"):
                return _id(found[0].get("id"), "customer id"), str(found[0].get("secure_key") or "")
        first, last = customer_name(draft.customer)
        fields = {
            "firstname": first,
            "lastname": last,
            "email": email,
            "passwd": secrets.token_hex(16),  # required even for a guest; nobody logs in with it
            "is_guest": "1",
            "active": "1",
            "id_lang": str(self.settings.lang_id),
            "id_default_group": "2",  # PrestaShop's Guest group
            "note": "phone orders taken at the shop (tillbridge)",
        }
        made = self._post("customers", fields)
        with reading(self.shop, "POST /customers"):
            return _id(get(made, "id", "customer"), "customer id"), str(made.get("secure_key") or "")

    def _address(self, draft: OrderDraft, customer: str) -> str:
        """The customer's address with these fields (made by an earlier phone order, or by a try that
        died after writing it), else a new one."""
        first, last = customer_name(draft.customer)
        fields = {
            "id_customer": customer,
            "id_country": str(self.settings.country_id),
            "alias": ALIAS,
            "firstname": first,
            "lastname": last,
            "address1": (address_text(draft.address) if not draft.pickup else "") or "Pickup at the shop",
            "city": self.settings.city,
            "phone": phone_text(draft.phone),
        }
        params = {
            "filter[id_customer]": f"[{customer}]",
            "filter[alias]": f"[{ALIAS}]",
            "filter[deleted]": "[0]",  # an address edited after an order is kept, deleted, beside its copy
            "display": f"[id,{','.join(fields)}]",
            **_JSON,
        }
        for row in self._list("addresses", params):
            if all(str(row.get(name, "")).strip() == value.strip() for name, value in fields.items()):
                with reading(self.shop, "GET /addresses"):
                    return _id(row.get("id"), "address id")
        made = self._post("addresses", fields)
        with reading(self.shop, "POST /addresses"):
            return _id(get(made, "id", "address"), "address id")

    def _cart(
        self, targets: Sequence[Target], customer: str, secure_key: str, address: str, carrier: str
    ) -> dict[str, Any]:
        fields = {
            "id_currency": str(self.settings.currency_id),
            "id_lang": str(self.settings.lang_id),
            "id_customer": customer,
            "id_address_delivery": address,
            "id_address_invoice": address,
            "id_carrier": carrier,
            "id_shop": self.shop_id,
            "secure_key": secure_key,
        }
        rows = [
            {
                "id_product": t.product_id,
                "id_product_attribute": t.attribute_id,
                "id_address_delivery": address,
                "quantity": str(t.qty),
            }
            for t in targets
        ]
        return self._post("carts", fields, ("cart_rows", "cart_row", rows))

    def _order(self, cart: Mapping[str, Any], pickup: bool, carrier: ship.Carrier | None = None) -> str:
        """`POST /orders` from the cart, its total worked out from the shop's prices and the delivery's
        cost first (`carrier`: the cart's, when just read)."""
        what = f"cart {cart.get('id')}"
        with reading(self.shop, what):
            rows = [
                (
                    _id(get(r, "id_product", what), what),
                    _id(r.get("id_product_attribute") or "0", what),
                    as_int(get(r, "quantity", what), what),
                )
                for r in (
                    as_obj(x, what)
                    for x in as_list(obj_or_empty(cart.get("associations")).get("cart_rows") or [], what)
                )
            ]
        gross_lines, net_lines, weight, additional = [], [], Decimal(0), Decimal(0)
        for product, attribute, qty in rows:
            price = self._price(product, attribute)
            gross_lines.append(rules.Line(price.gross, qty))
            net_lines.append(rules.Line(price.net, qty))
            weight += price.weight * qty
            additional += price.additional * qty
        settings = self._configuration()
        rounding = self._rounding(settings)
        gross, net = rules.products(gross_lines, rounding), rules.products(net_lines, rounding)
        kept = self._cart_rules(cart, gross, net)
        paid = rules.discounted(kept, gross_lines, rounding)
        parcel = ship.Parcel(paid, weight, additional)  # the shop's thresholds count discounts
        delivery = (
            Decimal(0) if rules.ships_free(kept) else self._shipping(cart, parcel, rows, carrier, settings)
        )
        total = f"{paid + delivery:.2f}"
        fields = {
            "id_address_delivery": str(cart.get("id_address_delivery")),
            "id_address_invoice": str(cart.get("id_address_invoice")),
            "id_cart": str(cart.get("id")),
            "id_currency": str(cart.get("id_currency")),
            "id_lang": str(cart.get("id_lang")),
            "id_customer": str(cart.get("id_customer")),
            "id_carrier": str(cart.get("id_carrier")),
            "id_shop": self.shop_id,
            "current_state": str(self.settings.state or 0),
            "module": self.settings.module,
            "payment": PAYMENTS[pickup],
            "total_paid": total,
            "total_paid_real": total,
            "total_products": f"{net:.2f}",
            "total_products_wt": total,
            "conversion_rate": "1",
        }
        body = psxml.document(
            "order", {k: v for k, v in fields.items() if v != "0" or k == "conversion_rate"}
        )
        what = f"POST /orders (phone order, cart {cart.get('id')})"
        reply = self.http.send_write(Call("POST", "/orders", params=_JSON, data=body, headers=_XML), what)
        with reading(self.shop, what):
            order = as_obj(get(as_obj(load_json(reply.body, self.shop, what), what), "order", what), what)
            order_id = _id(get(order, "id", what), "order id")
            state = str(order.get("current_state", ""))
        if state == PAYMENT_ERROR:
            raise RequestRejected(
                self.shop,
                f"order {order_id} was made in 'Payment error': PrestaShop's cart total is not the "
                f"{total} worked out from its prices and delivery (a cart rule?)",
            )
        if self.settings.state and state != str(self.settings.state):
            body = psxml.document(
                "order_history", {"id_order": order_id, "id_order_state": str(self.settings.state)}
            )
            self.http.send(
                Call("POST", "/order_histories", data=body, headers=_XML),
                f"POST /order_histories (order {order_id})",
            )
        return order_id

    def _settings(self) -> list[dict[str, Any]]:
        """The shop's settings the order's total depends on (its rounding, its delivery's), in one read."""
        names = "|".join((*rules.ROUNDING_SETTINGS, *ship.CONFIGURATION))
        params = {"filter[name]": f"[{names}]", "display": "[name,value,id_shop]", **_JSON}
        return self._list("configurations", params)

    def _configuration(self) -> list[dict[str, Any]] | None:
        """`_settings`, or None when the key cannot read `configurations`: the rounding is then the
        bridge's own, and a delivery that needs the settings fails reading them, as before."""
        try:
            return self._settings()
        except ShopAuthError as exc:
            if not self._told_unrounded:
                self._told_unrounded = True
                log.warning(
                    "shop %s: settings not read (%s): phone orders' totals round each item half up, "
                    "whatever the shop's PS_ROUND_TYPE (a cent apart: 'Payment error', parked)",
                    self.shop,
                    exc,
                )
            return None

    def _rounding(self, settings: Sequence[Any] | None) -> rules.Rounding:
        if settings is None:
            return rules.Rounding()
        with reading(self.shop, "GET /configurations"):
            return rules.rounding_of(ship.settings_of(settings, rules.ROUNDING_SETTINGS, self.shop_id))

    def _cart_rules(self, cart: Mapping[str, Any], gross: Decimal, net: Decimal) -> list[rules.CartRule]:
        """The automatic cart rules PrestaShop will put on this cart (`prestashop_cartrules`); one it may
        put and the bridge cannot compute is refused, naming it, before the order is made. A key
        without GET on `cart_rules` reads none (as before: a rule then lands the order in "Payment
        error", parked saying so)."""
        what = f"cart {cart.get('id')}: its cart rules"
        customer = str(cart.get("id_customer") or "0")
        try:
            rows = self._list("cart_rules", {"filter[active]": "[1]", "display": "full", **_JSON})
        except ShopAuthError as exc:
            log.warning(
                "shop %s: cart rules not read (%s): phone orders' totals leave them out", self.shop, exc
            )
            return []
        now = datetime.now(self.tz)
        currency = str(self.settings.currency_id)
        with reading(self.shop, what):
            found = [
                rules.rule_of(row, currency)
                for row in rows
                if rules.is_automatic(row, now, customer, self.tz)
            ]
        try:
            return rules.applying(found, self._uses(customer, found), gross, net)
        except rules.Uncomputable as exc:
            raise RequestRejected(self.shop, f"phone order, cart {cart.get('id')}: {exc}") from exc

    def _uses(self, customer: str, found: Sequence[rules.CartRule]) -> dict[str, int]:
        """How often this customer used each rule: in their orders not in "Payment error"."""
        if not found:
            return {}
        params = {"filter[id_customer]": f"[{customer}]", "display": "[id,current_state]", **_JSON}
        orders = [
            str(row.get("id"))
            for row in self._list("orders", params)
            if str(row.get("current_state")) != PAYMENT_ERROR and str(row.get("id")).isdigit()
        ]
        counted: Counter[str] = Counter()
        wanted = "[" + "|".join(rule.id for rule in found) + "]"
        for chunk in chunked(orders, 50):
            params = {
                "filter[id_order]": "[" + "|".join(chunk) + "]",
                "filter[id_cart_rule]": wanted,
                "display": "[id,id_order,id_cart_rule]",
                **_JSON,
            }
            counted.update(str(row.get("id_cart_rule")) for row in self._list("order_cart_rules", params))
        return dict(counted)

    def _price(self, product: str, attribute: str) -> _Price:
        """Per unit, as the shop computes it for this product or combination, with the product's weight
        and `additional_shipping_cost` (a combination's own weight is read only when it counts)."""
        params = {
            "price[tb_gross][use_tax]": "1",
            "price[tb_gross][product_attribute]": attribute,
            "price[tb_gross][decimals]": "6",  # as the cart takes it (else PS_PRICE_ROUND_MODE's number)
            "price[tb_net][use_tax]": "0",
            "price[tb_net][product_attribute]": attribute,
            "price[tb_net][decimals]": "6",
            **_JSON,
        }
        what = f"GET /products/{product} (prices)"
        reply = self.http.send(Call("GET", f"/products/{int(product)}", params=params), what)
        with reading(self.shop, what):
            row = as_obj(get(as_obj(load_json(reply.body, self.shop, what), what), "product", what), what)
            return _Price(
                amount(get(row, "tb_gross", what), what),
                amount(get(row, "tb_net", what), what),
                amount(row.get("weight") or "0", f"{what} weight"),
                amount(row.get("additional_shipping_cost") or "0", f"{what} additional_shipping_cost"),
            )

    def _shipping(
        self,
        cart: Mapping[str, Any],
        parcel: ship.Parcel,
        rows: Sequence[tuple[str, str, int]],
        known: ship.Carrier | None,
        settings: Sequence[Any] | None,
    ) -> Decimal:
        """What the cart's delivery costs, with tax, as the shop will total it (`prestashop_shipping`):
        the carrier first, and only for one that charges the shop's `settings` (read here when the
        order's read failed), the delivery address's zone, the carrier's prices there and its tax."""
        what = f"cart {cart.get('id')}: its delivery"
        carrier_id = str(cart.get("id_carrier") or "0")
        if carrier_id == "0":
            return Decimal(0)
        carrier = known
        if carrier is None or carrier.id != carrier_id:
            with reading(self.shop, what):
                carrier = ship.carrier_of(self._get("carriers", _id(carrier_id, "cart id_carrier")))
        if carrier.free or not carrier.active:
            return Decimal(0)
        found = self._settings() if settings is None else settings
        with reading(self.shop, what):
            shop = ship.shop_shipping(found, self.shop_id)
        by_weight = ship.method(carrier, shop) == ship.BY_WEIGHT
        if by_weight or shop.free_weight > 0:
            parcel = replace(parcel, weight=parcel.weight + self._combinations_weight(rows))
        if ship.ships_free(carrier, shop, parcel):
            return Decimal(0)
        with reading(self.shop, what):
            address = self._get("addresses", _id(cart.get("id_address_delivery"), "cart address"))
            country = _id(address.get("id_country"), "address id_country")
            zone = _id(self._get("countries", country).get("id_zone"), "country id_zone")
        deliveries = self._list(
            "deliveries",
            {
                "filter[id_carrier]": f"[{carrier_id}]",
                "filter[id_zone]": f"[{zone}]",
                "display": "[id,id_range_price,id_range_weight,price]",
                **_JSON,
            },
        )
        ranges = self._list(
            "weight_ranges" if by_weight else "price_ranges",
            {"filter[id_carrier]": f"[{carrier_id}]", "display": "[id,delimiter1,delimiter2]", **_JSON},
        )
        tax = (
            self._tax_percent(carrier.tax_group, country)
            if shop.taxed and carrier.tax_group != "0"
            else Decimal(0)
        )
        with reading(self.shop, what):
            priced = ship.bands(deliveries, ranges, by_weight)
        try:
            return ship.cost(carrier, shop, parcel, priced, tax)
        except ship.OutOfRange as exc:
            raise RequestRejected(self.shop, f"phone order, cart {cart.get('id')}: {exc}") from exc

    def _combinations_weight(self, rows: Sequence[tuple[str, str, int]]) -> Decimal:
        """The combinations' own weights (an impact on their product's) × quantities."""
        weight = Decimal(0)
        for _, attribute, qty in rows:
            if attribute != "0":
                with reading(self.shop, f"GET /combinations/{attribute}"):
                    row = self._get("combinations", attribute)
                    weight += amount(row.get("weight") or "0", "combination weight") * qty
        return weight

    def _tax_percent(self, group: str, country: str) -> Decimal:
        """The carrier's tax rate in the country: its group's rule for the whole country (`id_state` 0)
        or, lacking one, the first rule; an unknown group or country, none."""
        params = {
            "filter[id_tax_rules_group]": f"[{group}]",
            "filter[id_country]": f"[{country}]",
            "display": "[id,id_tax,id_state]",
            **_JSON,
        }
        rules = self._list("tax_rules", params)
        rule = next((r for r in rules if str(r.get("id_state") or "0") == "0"), rules[0] if rules else None)
        if rule is None:
            return Decimal(0)
        with reading(self.shop, "GET /tax_rules"):
            tax = self._get("taxes", _id(rule.get("id_tax"), "tax rule id_tax"))
            return amount(get(tax, "rate", "tax"), "tax rate")

    def _get(self, resource: str, row_id: str) -> dict[str, Any]:
        what = f"GET /{resource}/{row_id}"
        reply = self.http.send(Call("GET", f"/{resource}/{int(row_id)}", params=_JSON), what)
        element = _ELEMENTS.get(resource, resource.removesuffix("s"))
        with reading(self.shop, what):
            return as_obj(get(as_obj(load_json(reply.body, self.shop, what), what), element, what), what)

    def _list(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        what = f"GET /{resource}"
        reply = self.http.send(Call("GET", f"/{resource}", params=params), what)
        with reading(self.shop, what):
            found = load_json(reply.body, self.shop, what)
            if found == []:
                return []
            return [as_obj(r, what) for r in get(as_obj(found, what), resource, what) or []]

    def _post(
        self, resource: str, fields: dict[str, str], rows: tuple[str, str, list[dict[str, str]]] | None = None
    ) -> dict[str, Any]:
        element = _ELEMENTS.get(resource, resource.removesuffix("s"))
        body = psxml.document(element, fields, rows)
        what = f"POST /{resource} (phone order)"
        reply = self.http.send_write(
            Call("POST", f"/{resource}", params=_JSON, data=body, headers=_XML), what
        )
        with reading(self.shop, what):
            return as_obj(get(as_obj(load_json(reply.body, self.shop, what), what), element, what), what)
