"""PrestaShop order rows as the kitchen needs them: a combination's attributes, which PrestaShop writes into
the row's `product_name`, become the line's options; any other name stays whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.connectors.base import LineOption
from cloud_bridge.connectors.prestashop import _line

ROW = {"id": "7", "product_quantity": "2", "product_reference": "PIZ", "unit_price_tax_incl": "9.500000"}


def test_a_combination_s_attributes_are_the_line_s_options() -> None:
    line = _line({**ROW, "product_name": "Pizza - Tamaño : Familiar, Masa : Fina"})
    assert line.name == "Pizza" and line.options == (
        LineOption("Tamaño", "Familiar"),
        LineOption("Masa", "Fina"),
    )
    assert _line({**ROW, "product_name": "Caña - 33 cl"}).name == "Caña - 33 cl"


@given(st.text(max_size=60))
def test_any_name_reads_whole_or_as_a_product_and_its_non_empty_options(name: str) -> None:
    line = _line({**ROW, "product_name": name})
    if line.options:
        assert all(o.name and o.value for o in line.options) and line.name + " - " in name
    else:
        assert line.name == name.strip() or line.name == name
