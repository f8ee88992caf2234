"""What a PrestaShop shop says about orders is outside input: the bridge's own phone-order message read
back (an employee can edit it), customizations and their rows. Whatever they hold, reading them never
raises, and a phone order's details survive the trip through a message PrestaShop accepts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors import prestashop_custom as custom
from cloud_bridge.connectors import prestashop_phone as phone
from cloud_bridge.connectors.base import LineOption, OrderDraft, OrderLine, OrderState, ShopOrder
from wire import PhoneLine, format_ts

WHEN = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
ORDER = ShopOrder(
    "7",
    "7",
    OrderState.PENDING,
    "13",
    WHEN,
    WHEN,
    (OrderLine("1", "PIZ", "Pizza", 2, 950), OrderLine("2", "CANA", "Caña", 1, 250)),
    2150,
    "EUR",
)
UNCLEAN = re.compile(r"<\s*(script|iframe|form|object|embed)|javascript:|\bon\w+\s*=", re.I)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
texts = st.text(max_size=40)


@given(st.text(max_size=300))
def test_any_message_text_reads_as_no_facts_or_facts(text: str) -> None:
    facts = phone.read_facts(text)
    assert facts is None or isinstance(facts, dict)


@given(
    st.dictionaries(st.sampled_from(["lines", "note", "due_at", "pickup", "customer", "phone"]), json_values)
)
def test_any_facts_apply_to_an_order_as_a_phone_order_to_pay(facts: dict[str, Any]) -> None:
    order = phone.with_facts(ORDER, facts)
    assert (order.source, order.paid, order.due_cents, order.state) == ("phone", False, 2150, OrderState.PAID)
    assert [line.sku for line in order.lines] == ["PIZ", "CANA"]


@settings(max_examples=60)
@given(
    st.lists(st.tuples(texts, texts), max_size=3),
    texts,
    texts,
    texts,
)
def test_a_phone_order_s_details_come_back_whole_from_a_message_prestashop_accepts(
    options: list[tuple[str, str]], line_note: str, note: str, customer: str
) -> None:
    draft = OrderDraft(
        ref="till-1-p9",
        lines=(PhoneLine("PIZ", 2, tuple(LineOption(n, v) for n, v in options), line_note),),
        customer=customer,
        note=note,
        due_at=format_ts(WHEN),
    )
    message = phone.facts_message(draft)
    assert UNCLEAN.search(message) is None and not set("<>=&") & set(message)
    facts = phone.read_facts(message, "till-1-p9")
    assert facts is not None and phone.read_facts(message, "till-1-p") is None
    order = phone.with_facts(ORDER, facts)
    pizza = order.lines[0]
    kept = tuple(LineOption(n.strip(), v.strip()) for n, v in options if v.strip())
    assert pizza.options == kept and pizza.note == line_note.strip()
    assert order.note == note.strip() and order.customer == (customer.strip() or ORDER.customer)
    assert order.requested_at == WHEN


@given(json_values, json_values)
def test_any_customization_rows_read_without_raising(row: Any, customization: Any) -> None:
    named = custom.line_customizations(row if isinstance(row, dict) else {"associations": row})
    texts = custom.texts_of(customization if isinstance(customization, dict) else {})
    order = custom.with_customizations(ORDER, named, {"9": texts}, {"1": "Sin"})
    assert [line.sku for line in order.lines] == ["PIZ", "CANA"]
    assert all(o.value for line in order.lines for o in line.options)


def test_a_customization_row_names_its_line_and_its_texts() -> None:
    row = {"associations": {"order_rows": [{"id": "1", "id_customization": "9"}, {"id": "2"}]}}
    values = {
        "associations": {"customized_data_text_fields": [{"id_customization_field": "1", "value": "ajo"}]}
    }
    named = custom.line_customizations(row)
    assert named == {"1": "9"}
    order = custom.with_customizations(ORDER, named, {"9": custom.texts_of(values)}, {"1": "Sin"})
    assert order.lines[0].options == (LineOption("Sin", "ajo"),) and order.lines[1].options == ()
    assert json.loads(json.dumps(values)) == values
