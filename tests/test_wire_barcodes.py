"""The catalog's barcode spelling: whatever form the shop typed, a scan of the item finds it; whatever a shop
sends, the answer is a spelling or an error naming the problem, never a crash.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from devices.barcodes import BarcodeConfig, interpret, with_check_digit
from wire import MalformedMessage
from wire.barcodes import catalog_barcode

NO_LAYOUTS = BarcodeConfig(variable_measure_layouts=())
DIGITS = "0123456789"


def gtins(length: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=length - 1, max_size=length - 1).map(with_check_digit)


@given(code=st.one_of(gtins(8), gtins(12), gtins(13), gtins(14)))
@example(code="012345678905")  # a UPC-A
@example(code="96385074")  # an EAN-8
def test_a_scan_of_the_printed_code_finds_the_catalog_spelling(code: str) -> None:
    stored = catalog_barcode(code)
    assert stored in interpret(code, NO_LAYOUTS).lookup_keys()


@given(code=gtins(12))
def test_every_spelling_of_one_number_is_stored_alike(code: str) -> None:
    """UPC-A ⇄ EAN-13 ⇄ GTIN-14: the shop may type any of them, and the scanner may send any of them."""
    spellings = {catalog_barcode(code), catalog_barcode("0" + code), catalog_barcode("00" + code)}
    assert len(spellings) == 1
    for scanned in (code, "0" + code, "00" + code, "]E0" + "0" + code):
        assert spellings <= set(interpret(scanned, NO_LAYOUTS).lookup_keys())


@given(body=st.text(DIGITS, min_size=12, max_size=12), wrong=st.integers(1, 9))
def test_a_wrong_check_digit_is_refused_with_the_right_one(body: str, wrong: int) -> None:
    right = with_check_digit(body)
    typed = body + str((int(right[-1]) + wrong) % 10)
    with pytest.raises(MalformedMessage, match=f"expected {right[-1]}"):
        catalog_barcode(typed)


@given(text=st.text(max_size=200))
@example(text="\x00")
@example(text="9" * 300)
def test_any_text_is_a_spelling_or_a_named_refusal(text: str) -> None:
    try:
        stored = catalog_barcode(text)
    except MalformedMessage as exc:
        assert exc.path == "barcode" and exc.problem
    else:
        assert 0 < len(stored) <= 128 and stored.isascii() and stored.isprintable() and " " not in stored


def test_isbns_become_the_ean_13_printed_under_them() -> None:
    assert catalog_barcode("0-306-40615-2") == catalog_barcode("978-0-306-40615-7") == "9780306406157"
    assert catalog_barcode("080442957X") == "9780804429573"
    with pytest.raises(MalformedMessage, match="ISBN-10 check digit is 3, expected 2"):
        catalog_barcode("0306406153")
