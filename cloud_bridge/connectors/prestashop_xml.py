"""The PrestaShop Webservice's XML: reading it safely, editing one field of a whole document, error bodies.

Writes must be XML and a PUT replaces the whole object (an omitted `id_shop` becomes 0 and the product
loses its stock, PrestaShop#18953), so a stock write edits the document the shop just sent and sends all
of it back. Documents with a DTD are refused: the shop never sends one, and entities are an attack surface.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Final

from cloud_bridge.connectors._values import Invalid
from cloud_bridge.connectors.common import short_text

XLINK: Final = "http://www.w3.org/1999/xlink"
ET.register_namespace("xlink", XLINK)


def parse(body: bytes, what: str) -> ET.Element:
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise Invalid(f"{what}: XML with a DTD or entities is refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise Invalid(f"{what}: not XML ({exc})") from exc
    if root.tag != "prestashop":
        raise Invalid(f"{what}: root element is <{root.tag[:40]}>, not <prestashop>")
    return root


def element(root: ET.Element, name: str, what: str) -> ET.Element:
    found = root.find(name)
    if found is None:
        raise Invalid(f"{what}: <{name}> is missing")
    return found


def text(parent: ET.Element, name: str, what: str) -> str:
    return (element(parent, name, what).text or "").strip()


def with_value(root: ET.Element, resource: str, name: str, value: str, what: str) -> bytes:
    """The whole document, every other field as the shop sent it, with `<name>` set to `value`."""
    element(element(root, resource, what), name, what).text = value
    return _serialize(root)


def document(
    resource: str, fields: dict[str, str], rows: tuple[str, str, list[dict[str, str]]] | None = None
) -> bytes:
    """A new `<prestashop><resource>…` document (for POST and PATCH); `rows` = (association, row element,
    rows) adds `<associations><cart_rows><cart_row>…` as a cart's lines need."""
    root = ET.Element("prestashop")
    holder = ET.SubElement(root, resource)
    for name, value in fields.items():
        ET.SubElement(holder, name).text = value
    if rows is not None:
        association, element_name, items = rows
        listed = ET.SubElement(ET.SubElement(holder, "associations"), association)
        for item in items:
            row = ET.SubElement(listed, element_name)
            for name, value in item.items():
                ET.SubElement(row, name).text = value
    return _serialize(root)


def _serialize(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def describe(body: bytes) -> tuple[str, str]:
    """(code, message) of the first error in an XML or JSON error body, best effort."""
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        try:
            errors = json.loads(stripped).get("errors")
            first = errors[0] if isinstance(errors, list) and errors else {}
            return str(first.get("code", ""))[:20], str(first.get("message", ""))[:200]
        except (ValueError, AttributeError, RecursionError):
            return "", short_text(body)
    try:
        error = parse(body, "error").find("errors/error")
    except Invalid:
        return "", short_text(body)
    if error is None:
        return "", short_text(body)
    return (error.findtext("code") or "").strip()[:20], (error.findtext("message") or "").strip()[:200]
