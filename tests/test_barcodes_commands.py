"""Command barcodes on the control sheet and pickup QR codes on order tickets: what is printed reads back."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.barcodes import (
    BarcodeError,
    Cancel,
    Command,
    Kind,
    Mode,
    OrderCopy,
    OrderHandOver,
    OrderStep,
    Pickup,
    Quantity,
    Return,
    SetMode,
    encode_command,
    encode_pickup,
    interpret,
)

ALL_COMMANDS: list[Command] = [
    *(SetMode(mode) for mode in Mode),
    *(Quantity(n) for n in range(1, 1000)),
    Cancel(),
    Return(),
]


def test_every_command_reads_back_from_what_is_printed():
    for command in ALL_COMMANDS:
        printed = encode_command(command)
        assert set(printed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), printed
        for scan in (printed, "]C0" + printed, printed.lower() + "\r\n"):
            barcode = interpret(scan)
            assert (barcode.kind, barcode.command) == (Kind.COMMAND, command), scan
            assert barcode.lookup_keys() == ()


@pytest.mark.parametrize(
    ("printed", "command"),
    [
        ("TBMSALE", SetMode(Mode.SALE)),
        ("TBMRECEIVE", SetMode(Mode.RECEIVE)),
        ("TBMCOUNT", SetMode(Mode.COUNT)),
        ("TBMLOOKUP", SetMode(Mode.LOOKUP)),
        ("TBQTY006", Quantity(6)),
        ("TBQTY999", Quantity(999)),
        ("TBCANCEL", Cancel()),
        ("TBRETURN", Return()),
        ("TBGO1042", OrderStep("1042")),
        ("TBRP1042", OrderCopy("1042")),
        ("TBOUT1042", OrderHandOver("1042")),
    ],
)
def test_the_documented_spellings(printed, command):
    assert encode_command(command) == printed
    assert interpret(printed).command == command


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        ("TBMSELL", "unknown mode 'SELL' (known: SALE, RECEIVE, COUNT, LOOKUP)"),
        ("TBQTY6", "the quantity must be three digits, 001 to 999"),
        ("TBQTY000", "the quantity must be three digits, 001 to 999"),
        ("TBQTY1000", "the quantity must be three digits"),
        ("TBCANCELX", "nothing may follow TBCANCEL"),
    ],
)
def test_broken_commands_are_invalid_with_a_reason(scan, message):
    barcode = interpret(scan)
    assert barcode.kind is Kind.INVALID
    assert barcode.error is not None
    assert message in barcode.error


def test_other_tb_text_is_just_text():
    assert interpret("TB-4471").kind is Kind.OTHER
    assert interpret("TBX").kind is Kind.OTHER


def test_commands_refuse_values_they_cannot_print():
    with pytest.raises(BarcodeError, match="quantity must be 1 to 999"):
        Quantity(0)
    with pytest.raises(BarcodeError, match="quantity must be 1 to 999"):
        Quantity(True)
    with pytest.raises(BarcodeError, match="unknown mode 'sell'"):
        SetMode("sell")  # type: ignore[arg-type]
    assert SetMode("sale") == SetMode(Mode.SALE)  # type: ignore[arg-type]


def test_pickup_code_format_is_the_documented_one():
    assert encode_pickup("1001", "K7Q2XZ") == "TBPICKUP041001K7Q2XZ"
    barcode = interpret("]Q1TBPICKUP041001K7Q2XZ\r")
    assert (barcode.kind, barcode.pickup) == (Kind.PICKUP, Pickup("1001", "K7Q2XZ"))
    assert barcode.to_dict()["pickup"] == {"order_id": "1001", "code": "K7Q2XZ"}


ORDER_IDS = st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,39}", fullmatch=True)
CODES = st.from_regex(r"[A-Z0-9]{4,16}", fullmatch=True)


@given(order_id=ORDER_IDS, code=CODES)
def test_every_pickup_reads_back(order_id, code):
    printed = encode_pickup(order_id, code)
    for scan in (printed, "]Q1" + printed, printed.lower()):
        assert interpret(scan).pickup == Pickup(order_id, code)


@pytest.mark.parametrize(
    ("order_id", "code", "message"),
    [
        ("", "K7Q2", "order id '' must be 1 to 40"),
        ("#1001", "K7Q2", "order id '#1001'"),
        ("-12", "K7Q2", "order id '-12'"),
        ("a1", "K7Q2", "order id 'a1'"),
        ("1" * 41, "K7Q2", "must be 1 to 40"),
        ("1001", "K7Q", "pickup code 'K7Q' must be 4 to 16"),
        ("1001", "K7Q-2", "pickup code 'K7Q-2'"),
    ],
)
def test_pickup_refuses_what_it_cannot_carry(order_id, code, message):
    with pytest.raises(BarcodeError) as excinfo:
        encode_pickup(order_id, code)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        ("TBPICKUP", "expected the order id's length as two digits"),
        ("TBPICKUP001001K7Q2", "expected the order id's length"),
        ("TBPICKUP101001K7Q2", "is cut short: the order id should have 10 characters"),
        ("TBPICKUP041001", "pickup code '' must be 4 to 16"),
        ("TBPICKUP041001K7Q2?", "pickup code 'K7Q2?'"),
    ],
)
def test_broken_pickup_codes_are_invalid_with_a_reason(scan, message):
    barcode = interpret(scan)
    assert barcode.kind is Kind.INVALID
    assert barcode.error is not None
    assert message in barcode.error
