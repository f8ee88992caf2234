"""PrestaShop customizations on order rows: what the customer typed into a product's customization fields
("Sin": "cebolla", "Nota": "bien hecha") as the line's options and note.

An order row names its `id_customization` (0: none); the `customizations` resource holds the values in
`associations.customized_data_text_fields` (`id_customization_field`, `value`), and
`product_customization_fields` the fields' multilingual names. A field named like a note (`orderfacts`)
becomes the line's note, the others its options. Pure: rows in, lines out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cloud_bridge.connectors import orderfacts as of
from cloud_bridge.connectors._values import obj_or_empty
from cloud_bridge.connectors.base import ShopOrder


def line_customizations(order_row: Mapping[str, Any]) -> dict[str, str]:
    """Order row id -> customization id, for the rows of a raw order that have one."""
    rows = obj_or_empty(order_row.get("associations")).get("order_rows")
    found: dict[str, str] = {}
    for row in rows if isinstance(rows, list) else []:
        row = obj_or_empty(row)
        cid = str(row.get("id_customization") or "0")
        if cid.isdigit() and cid != "0" and len(cid) < 12:
            found[str(row.get("id"))] = cid
    return found


def texts_of(customization: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field id, value) of a customization's text fields."""
    texts = obj_or_empty(customization.get("associations")).get("customized_data_text_fields")
    pairs = []
    for item in texts if isinstance(texts, list) else []:
        item = obj_or_empty(item)
        field, value = str(item.get("id_customization_field", "")), of.text(item.get("value"))
        if field.isdigit() and value:
            pairs.append((field, value))
    return pairs


def with_customizations(
    order: ShopOrder,
    line_ids: Mapping[str, str],
    texts: Mapping[str, list[tuple[str, str]]],
    names: Mapping[str, str],
) -> ShopOrder:
    """The order with each customized line's values added to its options (and note)."""
    if not line_ids:
        return order
    lines = []
    for line in order.lines:
        pairs = [(names.get(f) or "Extra", v) for f, v in texts.get(line_ids.get(line.line_id, ""), [])]
        options, note = of.split_line_meta(pairs)
        if options or note:
            line = replace(
                line, options=line.options + options, note=" / ".join(filter(None, [line.note, note]))
            )
        lines.append(line)
    return replace(order, lines=tuple(lines))
