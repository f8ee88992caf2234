"""The PrestaShop simulator's checkout resources: what a client must send to make an order through the
Webservice, checked the way PrestaShop's object models check it.

An order is never written directly: `POST /orders` names a cart, and PrestaShop runs the payment module's
`validateOrder` on it (`Order::addWs`), which builds the order rows from the cart, takes the stock, and puts
the order in "Remote payment accepted" (`PS_OS_WS_PAYMENT`, 11) whatever `current_state` says; a
`total_paid` other than the cart's total gives an order in "Payment error" (8) that takes no stock. A cart
already ordered, or whose `secure_key` is not its customer's, is refused. So a client creates, in order: a
customer (`passwd`, names and e-mail required; `is_guest` for a guest; PrestaShop makes its `secure_key`),
an address (`id_country`, `alias`, names, `address1`, `city`), a cart (`id_currency`, `id_lang`, the
customer's `secure_key`, rows in `associations/cart_rows`), then the order.

Validation follows the fields' validators (docs' resource tables): a missing required field answers 400,
code 41, `parameter "x" required`; a value its validator refuses answers 400, code 41,
`Validation error: "Property Class->field is not valid"`. Texts are checked as `isCustomerName`, `isName`,
`isAddress`, `isCityName`, `isPhoneNumber`, `isEmail`, `isModuleName`, `isPrice` and `isCleanHtml` do, in
their essentials (not every Unicode rule).
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

Row = dict[str, Any]

STATE_WS_PAYMENT: Final = 11
STATE_ERROR: Final = 8
PAYMENT_MODULES: Final = frozenset({"ps_cashondelivery", "ps_checkpayment", "ps_wirepayment"})

CUSTOMER_REQUIRED: Final = ("passwd", "lastname", "firstname", "email")
ADDRESS_REQUIRED: Final = ("id_country", "alias", "lastname", "firstname", "address1", "city")
CART_REQUIRED: Final = ("id_currency", "id_lang")
ORDER_IDS: Final = (
    "id_address_delivery",
    "id_address_invoice",
    "id_cart",
    "id_currency",
    "id_lang",
    "id_customer",
    "id_carrier",
)
ORDER_REQUIRED: Final = (
    *ORDER_IDS,
    "module",
    "payment",
    "total_paid",
    "total_paid_real",
    "total_products",
    "total_products_wt",
    "conversion_rate",
)
MESSAGE_MAX: Final = 1600

_CUSTOMER_NAME: Final = re.compile(r"[0-9!<>,;?=+()/\\@#\"°*`{}_^$%:¤\[\]|]")
_ADDRESS: Final = re.compile(r"[!<>?=+@{}_$%]")
_CITY: Final = re.compile(r"[!<>;?=+@#\"°{}_$%]")
_PHONE: Final = re.compile(r"[+0-9. ()/-]*")
_EMAIL: Final = re.compile(r"[a-z0-9!#$&'*+/=?^`{}|~_.-]+@[a-z0-9-]+(\.[a-z0-9-]+)+", re.I)
_MODULE: Final = re.compile(r"[a-zA-Z0-9_-]+")
_PRICE: Final = re.compile(r"\d{1,10}(\.\d{1,9})?")
_UNCLEAN: Final = re.compile(r"<\s*(script|iframe|form|object|embed)|javascript:|\bon\w+\s*=", re.I)


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def parse_document(body: bytes, element: str) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """The fields of a posted `<prestashop><element>…` document and its `associations` rows (JSON input is
    refused, as in 8.1)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ApiError(400, 127, f"XML error: {exc}") from exc
    found = root.find(element)
    if root.tag != "prestashop" or found is None:
        raise ApiError(400, 127, f"XML error: expected <prestashop><{element}>")
    fields = {child.tag: (child.text or "").strip() for child in found if child.tag != "associations"}
    associations: dict[str, list[dict[str, str]]] = {}
    for holder in found.findall("associations/*"):
        associations[holder.tag] = [
            {field.tag: (field.text or "").strip() for field in row} for row in holder
        ]
    return fields, associations


def required(given: Mapping[str, str], names: tuple[str, ...]) -> None:
    for name in names:
        if not given.get(name, "").strip():
            raise ApiError(400, 41, f'parameter "{name}" required')


def invalid(cls: str, name: str) -> ApiError:
    return ApiError(400, 41, f'Validation error: "Property {cls}->{name} is not valid"')


def _unsigned(given: Mapping[str, str], cls: str, *names: str) -> None:
    for name in names:
        if given.get(name, "0") and not given.get(name, "0").isdigit():
            raise invalid(cls, name)


def new_customer(given: Mapping[str, str], cid: int, stamp: str) -> Row:
    required(given, CUSTOMER_REQUIRED)
    for name in ("firstname", "lastname"):
        if _CUSTOMER_NAME.search(given[name]) or _control(given[name]) or len(given[name]) > 255:
            raise invalid("Customer", name)
    if not _EMAIL.fullmatch(given["email"]) or len(given["email"]) > 255:
        raise invalid("Customer", "email")
    _unsigned(given, "Customer", "id_lang", "id_default_group")
    return {
        "id": cid,
        "firstname": given["firstname"],
        "lastname": given["lastname"],
        "email": given["email"],
        "is_guest": "1" if given.get("is_guest") == "1" else "0",
        "id_lang": given.get("id_lang", "1") or "1",
        "active": given.get("active", "1") or "1",
        "note": given.get("note", ""),
        "secure_key": secrets.token_hex(16),  # read-only: made by PrestaShop, what a cart must carry
        "date_add": stamp,
        "date_upd": stamp,
    }


def new_address(given: Mapping[str, str], aid: int, customers: Mapping[int, Row], stamp: str) -> Row:
    required(given, ADDRESS_REQUIRED)
    _unsigned(given, "Address", "id_customer", "id_country")
    if int(given.get("id_customer", "0") or "0") not in customers:
        raise invalid("Address", "id_customer")
    checks: dict[str, Callable[[str], bool]] = {
        "firstname": lambda v: not _CUSTOMER_NAME.search(v) and len(v) <= 255,  # isName
        "lastname": lambda v: not _CUSTOMER_NAME.search(v) and len(v) <= 255,
        "alias": lambda v: len(v) <= 32 and not _ADDRESS.search(v),  # isGenericName, near enough
        "address1": lambda v: len(v) <= 128 and not _ADDRESS.search(v),
        "address2": lambda v: len(v) <= 128 and not _ADDRESS.search(v),
        "city": lambda v: len(v) <= 64 and not _CITY.search(v),
        "phone": lambda v: len(v) <= 32 and bool(_PHONE.fullmatch(v)),
        "phone_mobile": lambda v: len(v) <= 32 and bool(_PHONE.fullmatch(v)),
        "other": lambda v: len(v) <= 300 and not _UNCLEAN.search(v),
    }
    for name, ok in checks.items():
        value = given.get(name, "")
        if value and (_control(value) or not ok(value)):
            raise invalid("Address", name)
    shown = ("id_customer", "id_country", "alias", "firstname", "lastname", "address1", "city", "phone")
    fields = {name: given.get(name, "") for name in shown}
    return {"id": aid, **fields, "deleted": "0", "date_add": stamp, "date_upd": stamp}


def check_message(given: Mapping[str, str]) -> None:
    required(given, ("message",))
    text = given["message"]
    if len(text) > MESSAGE_MAX or _UNCLEAN.search(text):
        raise invalid("Message", "message")
    _unsigned(given, "Message", "id_cart", "id_order", "id_customer", "id_employee")


def check_order(given: Mapping[str, str]) -> None:
    required(given, ORDER_REQUIRED)
    _unsigned(given, "Order", *ORDER_IDS, "current_state")
    if not _MODULE.fullmatch(given["module"]):
        raise invalid("Order", "module")
    if re.search(r"[<>={}]", given["payment"]):  # isGenericName
        raise invalid("Order", "payment")
    for name in ("total_paid", "total_paid_real", "total_products", "total_products_wt"):
        if not _PRICE.fullmatch(given[name]):
            raise invalid("Order", name)
    try:
        Decimal(given["conversion_rate"])
    except InvalidOperation as exc:
        raise invalid("Order", "conversion_rate") from exc


def _control(value: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
