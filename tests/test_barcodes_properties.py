"""Properties over many inputs: GTINs round-trip, single-digit errors never pass, nothing makes it raise."""

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from devices.barcodes import GS, BarcodeConfig, Kind, check_digit, expand_upce, interpret, with_check_digit

NO_LAYOUTS = BarcodeConfig(variable_measure_layouts=())
DIGITS = "0123456789"


def gtins(length):
    return st.text(DIGITS, min_size=length - 1, max_size=length - 1).map(with_check_digit)


@given(code=st.one_of(gtins(8), gtins(12), gtins(13), gtins(14)))
def test_every_valid_gtin_round_trips(code):
    barcode = interpret(code, NO_LAYOUTS)
    assert barcode.valid, barcode.error
    assert barcode.gtin14 == code.zfill(14)
    assert code in barcode.lookup_keys()
    assert barcode.gtin == (code[1:] if len(code) == 13 and code[0] == "0" else code)
    expected = {8: {Kind.EAN8}, 12: {Kind.UPCA}, 13: {Kind.EAN13, Kind.UPCA}, 14: {Kind.GTIN14}}
    assert barcode.kind in expected[len(code)]


@given(code=gtins(13))
def test_every_valid_ean13_round_trips_with_its_aim_id(code):
    assert interpret("]E0" + code, NO_LAYOUTS).gtin14 == "0" + code


@given(code=gtins(14))
def test_every_gtin14_round_trips_through_gs1(code):
    for scan in ("]C101" + code, f"(01){code}", "]d201" + code + "10X" + GS + "3103000001"):
        barcode = interpret(scan)
        assert (barcode.kind, barcode.gtin14) == (Kind.GS1, code), barcode.error


@given(body=st.sampled_from("01"), digits=st.text(DIGITS, min_size=6, max_size=6))
def test_upce_expansion_agrees_with_biip(body, digits):
    from biip.upc import Upc

    provisional = body + digits + "0"
    upce = provisional[:-1] + str(check_digit(expand_upce(provisional)[:-1]))
    barcode = interpret("]E0" + upce)
    assert barcode.kind is Kind.UPCE, barcode.error
    assert barcode.gtin == Upc.parse(upce).as_upc_a()


@settings(max_examples=40)
@given(code=gtins(13))
@example(code="2012345012509")  # a default-layout weight label
@example(code="0012345678905")  # a UPC-A
def test_every_single_digit_corruption_of_an_ean13_is_invalid(code):
    for position in range(13):
        for digit in DIGITS.replace(code[position], ""):
            corrupted = code[:position] + digit + code[position + 1 :]
            for scan in (corrupted, "]E0" + corrupted):
                barcode = interpret(scan)
                assert barcode.kind is Kind.INVALID, scan
                assert barcode.error is not None
                assert "check digit is" in barcode.error


SCAN_ALPHABET = st.sampled_from(
    [
        *DIGITS,
        "]",
        "E",
        "C",
        "d",
        "Q",
        "I",
        "0",
        "1",
        "2",
        "3",
        "4",
        GS,
        "(",
        ")",
        "T",
        "B",
        "PICKUP",
        "QTY",
        "MODE",
        "CANCEL",
        "http://",
        "https://id.gs1.org/01/",
        "/",
        "?",
        "=",
        "\r",
        "\n",
        " ",
        "é",
        "²",
        "٣",
    ]
)


@given(text=st.one_of(st.text(), st.lists(SCAN_ALPHABET, max_size=40).map("".join)))
def test_interpret_never_raises_on_text(text):
    barcode = interpret(text)
    assert isinstance(barcode.kind, Kind)
    assert barcode.valid == (barcode.error is None)
    json.dumps(barcode.to_dict())
    assert all(isinstance(key, str) and key for key in barcode.lookup_keys())


@given(data=st.binary())
def test_interpret_never_raises_on_bytes(data):
    assert isinstance(interpret(data).kind, Kind)
