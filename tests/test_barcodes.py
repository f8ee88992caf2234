"""Scan vectors for every kind `interpret` tells apart, as str and as bytes, with and without AIM ids."""

import json

import pytest

from devices.barcodes import GS, BarcodeConfig, Kind, interpret

GS1_SCAN = "]C1010950600013435210ABC123" + GS + "3103000250"  # devices.md §2.5, biip's documented vector


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize(
    ("scan", "kind", "gtin", "symbology"),
    [
        ("5901234123457", Kind.EAN13, "5901234123457", None),
        ("]E05901234123457", Kind.EAN13, "5901234123457", "]E0"),
        ("]E04006381333931\r\n", Kind.EAN13, "4006381333931", "]E0"),
        ("]E00012345678905", Kind.UPCA, "012345678905", "]E0"),  # UPC-A sent as 13 digits
        ("]E0012345678905", Kind.UPCA, "012345678905", "]E0"),
        ("012345678905", Kind.UPCA, "012345678905", None),
        ("]E496385074", Kind.EAN8, "96385074", "]E4"),
        ("96385074\t", Kind.EAN8, "96385074", None),
        ("]E001234558", Kind.UPCE, "012345000058", "]E0"),
        ("]I110012345678902", Kind.GTIN14, "10012345678902", "]I1"),
        ("10012345678902", Kind.GTIN14, "10012345678902", None),
    ],
)
def test_retail_codes_give_their_gtin_and_kind(scan, kind, gtin, symbology, as_bytes):
    barcode = interpret(scan.encode() if as_bytes else scan)
    assert (barcode.kind, barcode.gtin, barcode.symbology, barcode.error) == (kind, gtin, symbology, None)
    assert barcode.valid
    assert barcode.gtin14 == gtin.zfill(14)


@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("01234505", "012000003455"),  # last digit 0-2: manufacturer digits around it
        ("11234511", "112100003451"),
        ("01234523", "012200003453"),
        ("01234531", "012300000451"),  # 3: three manufacturer digits
        ("01234543", "012340000053"),  # 4: four manufacturer digits
        ("01234558", "012345000058"),  # 5-9: five manufacturer digits, item digit last
        ("06543217", "065100004327"),
    ],
)
def test_upce_expands_to_its_upca(upce, upca):
    barcode = interpret("]E0" + upce)
    assert (barcode.kind, barcode.gtin) == (Kind.UPCE, upca)
    assert barcode.lookup_keys() == (upca, "0" + upca, "00" + upca, upce)


def test_eight_digits_without_aim_read_as_upce_only_when_the_ean8_check_digit_fails():
    assert interpret("01234531").kind is Kind.UPCE
    assert interpret("96385074").kind is Kind.EAN8
    assert interpret("01234558").kind is Kind.EAN8  # fits both: EAN-8 wins; ]E0 would say UPC-E
    assert interpret("]E001234558").kind is Kind.UPCE


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        ("5901234123453", "EAN-13 check digit is 3, expected 7 (in 5901234123453)"),
        ("]E05901234123450", "EAN-13 check digit is 0, expected 7"),
        ("012345678901", "UPC-A check digit is 1, expected 5 (in 012345678901)"),
        ("]E00012345678901", "UPC-A check digit is 1, expected 5"),
        ("]E496385071", "EAN-8 check digit is 1, expected 4 (in 96385071)"),
        ("]E001234550", "UPC-E check digit is 0, expected 8 (in 01234550)"),
        ("10012345678900", "GTIN-14 check digit is 0, expected 2"),
        ("]E0123456", "EAN/UPC data must be 8, 12 or 13 digits, got '123456'"),
        ("]E0590123412345X", "EAN/UPC data must be 8, 12 or 13 digits"),
        ("]E4123", "EAN-8 data must be 8 digits, got '123'"),
        ("]E0", "]E0 scan carries no data"),
        ("\r\n", "empty scan"),
    ],
)
def test_bad_retail_codes_are_invalid_with_a_reason(scan, message):
    barcode = interpret(scan)
    assert barcode.kind is Kind.INVALID
    assert not barcode.valid
    assert barcode.error is not None
    assert message in barcode.error
    assert barcode.lookup_keys() == ()


def test_ean_with_add_on_keeps_the_add_on_apart():
    barcode = interpret("]E3977123456700352")
    assert (barcode.kind, barcode.gtin, barcode.addon) == (Kind.EAN13, "9771234567003", "52")
    five = interpret("]E2012345678905" + "51299")
    assert (five.kind, five.gtin, five.addon) == (Kind.UPCA, "012345678905", "51299")


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize(
    "scan",
    [
        GS1_SCAN,
        GS1_SCAN + "\r\n",
        "]d2010950600013435210ABC123" + GS + "3103000250",
        "]Q3010950600013435210ABC123" + GS + "3103000250",
        "010950600013435210ABC123" + GS + "3103000250",  # no AIM id: the GS gives it away
        GS + "010950600013435210ABC123" + GS + "3103000250",  # FNC1 sent as a leading GS
        "(01)09506000134352(10)ABC123(3103)000250",  # human-readable form
        "]C1(01) 09506000134352 (10) ABC123 (3103) 000250",
    ],
)
def test_gs1_element_strings_give_gtin_batch_and_weight(scan, as_bytes):
    barcode = interpret(scan.encode() if as_bytes else scan)
    assert barcode.kind is Kind.GS1, barcode.error
    assert dict(barcode.ais) == {"01": "09506000134352", "10": "ABC123", "3103": "000250"}
    assert (barcode.gtin, barcode.gtin14, barcode.weight_g) == ("9506000134352", "09506000134352", 250)
    assert barcode.lookup_keys() == ("9506000134352", "09506000134352")


def test_gs1_reads_the_common_application_identifiers():
    scan = (
        "]C1"
        + "00106141411234567897"
        + "0110012345678902"
        + "11250101"
        + "13250102"
        + "15250630"
        + "17260131"
        + "3102001250"
        + "10LOT-7"
        + GS
        + "21SN123"
        + GS
        + "30"
        + "12"
        + GS
        + "37"
        + "24"
        + GS
        + "3922"
        + "1599"
        + GS
        + "3932"
        + "978"
        + "1599"
    )
    barcode = interpret(scan)
    assert barcode.kind is Kind.GS1, barcode.error
    assert dict(barcode.ais) == {
        "00": "106141411234567897",
        "01": "10012345678902",
        "11": "250101",
        "13": "250102",
        "15": "250630",
        "17": "260131",
        "3102": "001250",
        "10": "LOT-7",
        "21": "SN123",
        "30": "12",
        "37": "24",
        "3922": "1599",
        "3932": "9781599",
    }
    assert (barcode.gtin, barcode.weight_g, barcode.price_cents) == ("10012345678902", 12500, 1599)
    assert barcode.lookup_keys() == ("10012345678902",)


def test_gs1_without_a_gtin_is_valid_but_has_nothing_to_look_up():
    barcode = interpret("]C100106141411234567897")
    assert (barcode.kind, barcode.gtin, barcode.lookup_keys()) == (Kind.GS1, None, ())


def test_gs1_price_with_currency_reads_the_amount():
    barcode = interpret("]C10109506000134352" + "3933" + "978" + "12345")
    assert barcode.price_cents == 1235  # 12.345 rounded to whole cents


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        ("]C1010950600013435310ABC123", "GTIN-14 in AI (01) check digit is 3, expected 2"),
        ("]C100106141411234567890", "SSCC in AI (00) check digit is 0, expected 7"),
        ("]C10109506000134352" + "17991340", "GS1 data is not valid: Failed to match '17991340'"),
        ("]C1" + "0109506000134352" + "3103", "GS1 data is not valid"),
        ("]C1" + "ABC", "GS1 data is not valid: Failed to get GS1 Application Identifier from 'ABC'"),
        ("(01)0950600013435", "GS1 data is not valid"),
        ("]C1" + "10AB" + GS + "10CD", "GS1 AI (10) appears twice with different values: 'AB' and 'CD'"),
        ("]C1" + GS, "GS1 barcode carries no element strings"),
    ],
)
def test_bad_gs1_data_is_invalid_with_a_reason(scan, message):
    barcode = interpret(scan)
    assert barcode.kind is Kind.INVALID
    assert barcode.error is not None
    assert message in barcode.error


def test_gs1_dates_of_all_zeros_pass_when_date_checks_are_off():
    scan = "]C10109506000134352" + "15000000"
    assert interpret(scan).kind is Kind.INVALID
    assert interpret(scan, BarcodeConfig(verify_gs1_dates=False)).ais["15"] == "000000"


def test_a_configured_separator_stands_in_for_gs():
    config = BarcodeConfig(gs1_separators=(GS, "|"))
    barcode = interpret("]C1010950600013435210ABC123|3103000250", config)
    assert (barcode.ais["10"], barcode.weight_g) == ("ABC123", 250)


def test_gs1_digital_link_in_a_plain_qr_code_is_gs1():
    barcode = interpret("]Q1https://id.gs1.org/01/09506000134352/10/ABC123?3103=000250")
    assert barcode.kind is Kind.GS1
    assert (barcode.gtin, barcode.ais["10"], barcode.weight_g) == ("9506000134352", "ABC123", 250)


@pytest.mark.parametrize(
    ("scan", "data", "symbology"),
    [
        ("]C0ABC-123", "ABC-123", "]C0"),
        ("]Q1Hello, world", "Hello, world", "]Q1"),
        ("]d1SOMETHING", "SOMETHING", "]d1"),
        ("]C05901234123457", "5901234123457", "]C0"),  # Code 128 that happens to hold 13 digits
        ("]Q1https://example.com/menu", "https://example.com/menu", "]Q1"),
        ("ITEM-42", "ITEM-42", None),
        ("1234567", "1234567", None),
        ("12345678901234567", "12345678901234567", None),
        ("0109506000134353", "0109506000134353", None),  # starts like AI (01) but its GTIN does not check
        ("]", "]", None),
    ],
)
def test_other_text_is_kept_as_it_is_for_the_catalog(scan, data, symbology):
    barcode = interpret(scan)
    assert (barcode.kind, barcode.data, barcode.symbology) == (Kind.OTHER, data, symbology)
    assert barcode.lookup_keys() == (data,)


def test_plain_urls_say_why_they_are_not_gs1():
    barcode = interpret("]Q1https://example.com/menu")
    assert barcode.note is not None
    assert "not a GS1 Digital Link" in barcode.note


def test_undecodable_bytes_still_give_a_barcode():
    barcode = interpret(b"\xff\xfeABC")
    assert (barcode.kind, barcode.data) == (Kind.OTHER, "ÿþABC")


def test_to_dict_is_json_and_names_everything_the_cli_prints():
    out = json.loads(json.dumps(interpret(GS1_SCAN).to_dict()))
    assert out["kind"] == "gs1"
    assert out["weight_kg"] == 0.25
    assert out["ais"]["3103"] == "000250"
    assert out["lookup_keys"] == ["9506000134352", "09506000134352"]


def test_lookup_keys_try_every_spelling_of_a_short_gtin():
    assert interpret("96385074").lookup_keys() == (
        "96385074",
        "0000096385074",
        "00000096385074",
        "000096385074",
    )
    assert interpret("012345678905").lookup_keys() == ("012345678905", "0012345678905", "00012345678905")


def test_barcodes_are_hashable_values():
    assert len({interpret(GS1_SCAN), interpret(GS1_SCAN), interpret("5901234123457")}) == 2
