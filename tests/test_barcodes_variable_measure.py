"""Variable-measure (in-store) labels: layouts, weight, price, the value check digit; biip as an oracle."""

from decimal import Decimal

import pytest
from biip import ParseConfig
from biip.gtin import Gtin
from hypothesis import given
from hypothesis import strategies as st

from devices.barcodes import (
    DEFAULT_CONFIG,
    BarcodeConfig,
    BarcodeError,
    Kind,
    interpret,
    parse_layout,
    with_check_digit,
)

WEIGHT = "20IIIIIWWWWWC"
PRICE = "21IIIII$$$$$C"
CHECKED_WEIGHT = "22IIIIVWWWWWC"


def test_default_layouts_read_weight_in_grams_and_price_in_cents():
    weighed = interpret("]E02012345012509")
    assert (weighed.kind, weighed.item_code, weighed.weight_g, weighed.price_cents) == (
        Kind.VARIABLE_MEASURE,
        "12345",
        1250,
        None,
    )
    priced = interpret("2100042001992")
    assert (priced.kind, priced.item_code, priced.weight_g, priced.price_cents) == (
        Kind.VARIABLE_MEASURE,
        "00042",
        None,
        199,
    )


def test_lookup_keys_are_the_label_with_its_value_zeroed_then_the_item_code():
    assert interpret("2012345012509").lookup_keys() == ("2012345000001", "12345")
    heavier = parse_layout(WEIGHT).encode("12345", weight_g=99_999)
    assert interpret(heavier).item_key == "2012345000001"


def test_value_check_digit_is_verified():
    config = BarcodeConfig(variable_measure_layouts=(CHECKED_WEIGHT,))
    good = interpret("2212347012501", config)
    assert (good.kind, good.item_code, good.weight_g, good.item_key) == (
        Kind.VARIABLE_MEASURE,
        "1234",
        1250,
        "2212340000000",
    )
    bad = interpret(with_check_digit("221234801250"), config)  # value check 8, EAN check digit right
    assert bad.kind is Kind.INVALID
    assert bad.error == "variable-measure check digit for value 01250 is 8, expected 7 (layout 22IIIIVWWWWWC)"


def test_biip_documented_vectors_read_the_same_with_their_layouts():
    sweden = BarcodeConfig(variable_measure_layouts=("23IIIIIIWWWWC",))
    assert interpret("2302148001504", sweden).weight_g == 150
    assert interpret("2302148001504", sweden).item_key == "2302148000002"  # biip: without_variable_measure()
    britain = BarcodeConfig(variable_measure_layouts=("20IIIIIV$$$$C",))
    assert interpret("2012345702509", britain).price_cents == 250
    bad = interpret("2012345802506", britain)
    assert bad.error is not None
    assert "check digit for value 0250 is 8, expected 7" in bad.error


def test_an_in_store_code_without_a_layout_is_a_plain_ean13_with_a_note():
    barcode = interpret("2212345012503")
    assert (barcode.kind, barcode.gtin, barcode.valid) == (Kind.EAN13, "2212345012503", True)
    assert barcode.note == "in-store code (prefix 22) matches no variable-measure layout"


def test_bad_ean_check_digit_on_a_label_is_reported_before_the_layout():
    barcode = interpret("2012345012500")
    assert barcode.error == "EAN-13 check digit is 0, expected 9 (in 2012345012500)"


def test_the_longest_prefix_wins():
    config = BarcodeConfig(variable_measure_layouts=("2IIIIII$$$$$C", "29IIIIIWWWWWC"))
    priced = parse_layout("2IIIIII$$$$$C").encode("912345", price_cents=150)
    assert (interpret(priced, config).weight_g, interpret(priced, config).item_code) == (150, "12345")
    other = parse_layout("2IIIIII$$$$$C").encode("812345", price_cents=150)
    assert (interpret(other, config).price_cents, interpret(other, config).item_code) == (150, "812345")


def test_upca_random_weight_labels_can_be_laid_out_too():
    config = BarcodeConfig(variable_measure_layouts=("02IIIII$$$$$C",))
    label = config.layouts[0].encode("01234", price_cents=349)
    barcode = interpret(label[1:], config)  # scanned as 12-digit UPC-A
    assert (barcode.kind, barcode.gtin, barcode.price_cents) == (Kind.VARIABLE_MEASURE, label[1:], 349)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("20IIIIIWWWWW", "has 12 characters, expected 13"),
        ("20IIIIIWWWWWX", "'X' at position 13 is not a digit or one of I W $ V C"),
        ("20IIIIIWWWWCC", "must end with the EAN-13 check digit C, and have no other C"),
        ("20IIIIIWWWWWW", "must end with the EAN-13 check digit C"),
        ("30IIIIIWWWWWC", "must start with a literal prefix in the in-store range"),
        ("IIIIIIIWWWWWC", "must start with a literal prefix"),
        ("20IIIIIWWWW5C", "digit '5' at position 12 comes after the fields"),
        ("20IIIIWWWWWIC", "the I field must be one unbroken run of Is"),
        ("20WWWWWWWWWWC", "has no item code field (I)"),
        ("20IIIIIIIIIIC", "has neither a weight (W) nor a price ($) field"),
        ("22IIIVVWWWWWC", "has more than one V"),
        ("2IIIIVWWW$$$C", "V is ambiguous with both a weight (W) and a price ($) field"),
        ("2IIIIVWWWWWWC", "V checks a 4- or 5-digit W or $ field, this one has 6"),
    ],
)
def test_bad_layouts_are_refused_with_the_reason(layout, message):
    with pytest.raises(BarcodeError, match="variable-measure layout") as excinfo:
        parse_layout(layout)
    assert message in str(excinfo.value)
    with pytest.raises(BarcodeError):
        BarcodeConfig(variable_measure_layouts=(layout,))


def test_config_refuses_two_layouts_for_one_prefix_and_a_bare_string():
    with pytest.raises(BarcodeError, match="both claim prefix 20"):
        BarcodeConfig(variable_measure_layouts=(WEIGHT, "20IIIII$$$$$C"))
    with pytest.raises(BarcodeError, match="list of strings"):
        BarcodeConfig(variable_measure_layouts=WEIGHT)  # type: ignore[arg-type]
    with pytest.raises(BarcodeError, match="GS1 separator"):
        BarcodeConfig(gs1_separators=("1",))


def test_encode_refuses_values_that_do_not_fit():
    layout = parse_layout(WEIGHT)
    with pytest.raises(BarcodeError, match="does not fit a 5-digit field"):
        layout.encode("12345", weight_g=100_000)
    with pytest.raises(BarcodeError, match="a weight"):
        layout.encode("12345")
    with pytest.raises(BarcodeError, match="item code '1234' does not fit"):
        layout.encode("1234", weight_g=1)


LAYOUTS = [WEIGHT, PRICE, CHECKED_WEIGHT, "23IIIIV$$$$$C", "24IIIIIV$$$$C", "2IIIIII$$$$$C", "25IIIIIIWWWWC"]


@given(layout=st.sampled_from(LAYOUTS), data=st.data())
def test_every_encoded_label_reads_back(layout, data):
    compiled = parse_layout(layout)
    width = compiled.item.stop - compiled.item.start
    item = data.draw(st.text("0123456789", min_size=width, max_size=width))
    field = compiled.weight or compiled.price
    assert field is not None
    value = data.draw(st.integers(0, 10 ** (field.stop - field.start) - 1))
    kwargs = {"weight_g": value} if compiled.weight else {"price_cents": value}
    barcode = interpret(compiled.encode(item, **kwargs), BarcodeConfig(variable_measure_layouts=(layout,)))
    assert barcode.kind is Kind.VARIABLE_MEASURE, barcode.error
    measured = barcode.weight_g if compiled.weight else barcode.price_cents
    assert (barcode.item_code, measured) == (item, value)


@given(item=st.integers(0, 9999), grams=st.integers(0, 99999))
def test_german_weight_labels_agree_with_biip(item, grams):
    layout = parse_layout("28IIIIVWWWWWC")
    label = layout.encode(f"{item:04d}", weight_g=grams)
    ours = interpret(label, BarcodeConfig(variable_measure_layouts=("28IIIIVWWWWWC",)))
    theirs = Gtin.parse(label, config=ParseConfig(rcn_region="de"))
    assert ours.weight_g is not None
    assert Decimal(ours.weight_g) / 1000 == theirs.weight  # type: ignore[attr-defined]


def test_default_config_is_shared_and_precompiled():
    assert DEFAULT_CONFIG.layouts[0].text in (WEIGHT, PRICE)
    assert interpret("2012345012509") == interpret("2012345012509", DEFAULT_CONFIG)


# --- national presets ------------------------------------------------------------------------------------


def _preset(name):
    from devices.barcodes import preset_layouts

    return BarcodeConfig(variable_measure_layouts=preset_layouts(name))


@pytest.mark.parametrize(
    ("preset", "label", "item", "weight_g", "price_cents"),
    [
        ("SE", "2302148001504", "021480", 150, None),  # biip's Swedish vector
        ("GB", "2012345702509", "12345", None, 250),  # biip's British vector
        ("ES", "2000042003500", "00042", 350, None),
    ],
)
def test_a_country_preset_reads_its_labels_as_the_gs1_rules_say(preset, label, item, weight_g, price_cents):
    scan = interpret(label, _preset(preset))
    assert (scan.kind, scan.item_code, scan.weight_g, scan.price_cents) == (
        Kind.VARIABLE_MEASURE,
        item,
        weight_g,
        price_cents,
    )


def test_the_british_preset_checks_the_price_check_digit():
    scan = interpret("2012345802506", _preset("GB"))
    assert scan.kind is Kind.INVALID and "check digit" in (scan.error or "")


@pytest.mark.parametrize("preset", ["DE", "FR", "IT", "NL", "US", "SE", "GB", "ES"])
def test_every_preset_prints_labels_it_reads_back(preset):
    from devices.barcodes import PRESETS

    for text in PRESETS[preset]:
        layout = parse_layout(text)
        weight = 1234 if layout.weight is not None else None
        price = 1234 if layout.price is not None else None
        item = "1" * (layout.item.stop - layout.item.start)
        scan = interpret(layout.encode(item, weight_g=weight, price_cents=price), _preset(preset))
        assert (scan.item_code, scan.weight_g, scan.price_cents) == (item, weight, price), text


def test_a_us_upc_a_price_label_reads_as_twelve_digits_too():
    label = parse_layout("02IIIIIV$$$$C").encode("12345", price_cents=299)
    scan = interpret(label[1:], _preset("US"))  # the scanner sends the UPC-A's 12 digits
    assert (scan.kind, scan.item_code, scan.price_cents) == (Kind.VARIABLE_MEASURE, "12345", 299)


def test_an_unknown_preset_names_the_ones_there_are():
    from devices.barcodes import preset_layouts

    with pytest.raises(BarcodeError, match="no variable-measure preset 'XX': there are DE, ES, FR, GB"):
        preset_layouts("XX")
