"""Serial settings, the sellable rule, and the simulator's fault model."""

from __future__ import annotations

from decimal import Decimal

import pytest

from devices.errors import DeviceConfigError, ProtocolError
from devices.scales import PROTOCOLS, ScaleReading, SerialSettings
from devices.scales.reading import to_kg
from simulators.scales import RESPONDERS, Fault, VirtualScale
from simulators.scales.state import GARBAGE, apply_fault, with_parity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9600 7E1", SerialSettings(9600, 7, "E", 1)),
        ("4800-7o1", SerialSettings(4800, 7, "O", 1)),
        ("19200,8N2", SerialSettings(19200, 8, "N", 2)),
        ("2400 8N1.5", SerialSettings(2400, 8, "N", 1.5)),
    ],
)
def test_settings_parse_the_way_manuals_write_them(text, expected):
    assert SerialSettings.parse(text) == expected


@pytest.mark.parametrize("text", ["9600", "9601 8N1", "9600 9N1", "9600 8X1", "fast"])
def test_bad_settings_are_config_errors_naming_the_problem(text):
    with pytest.raises(DeviceConfigError):
        SerialSettings.parse(text)


def test_defaults_are_overridable_field_by_field():
    base = PROTOCOLS["toledo8217"].defaults
    assert str(base) == "9600 7E1"
    assert base.override(baudrate=4800, parity="o") == SerialSettings(4800, 7, "O", 1)
    assert base.override() == base
    assert base.pyserial_kwargs() == {"baudrate": 9600, "bytesize": 7, "parity": "E", "stopbits": 1}


@pytest.mark.parametrize(
    ("protocol", "settings"),
    [
        ("toledo8217", "9600 7E1"),
        ("toledo8213", "9600 7E1"),
        ("dialog06", "9600 7O1"),
        ("casecr12", "9600 7O1"),
        ("mtsics", "9600 8N1"),
        ("enq", "9600 8N1"),
        ("cas22", "9600 8N1"),
    ],
)
def test_protocol_defaults_follow_the_reference(protocol, settings):
    assert str(PROTOCOLS[protocol].defaults) == settings


@pytest.mark.parametrize(
    ("reading", "sellable"),
    [
        (ScaleReading(Decimal("1.000"), stable=True), True),
        (ScaleReading(Decimal("1.000"), stable=False), False),
        (ScaleReading(Decimal("0.000"), stable=True), False),
        (ScaleReading(Decimal("-0.010"), stable=True, under=True), False),
        (ScaleReading(Decimal("1.000"), stable=True, over=True), False),
        (ScaleReading(Decimal("1.000"), stable=True, error="scale status 01 general error"), False),
        (ScaleReading(None, stable=True), False),
    ],
)
def test_only_a_stable_positive_in_range_error_free_weight_is_sellable(reading, sellable):
    assert reading.sellable is sellable


def test_unit_conversion_is_exact_and_unknown_units_are_protocol_errors():
    assert to_kg(Decimal("1"), "lb") == Decimal("0.45359237")
    assert to_kg(Decimal("16"), "oz") == Decimal("0.45359237")
    assert to_kg(Decimal("250"), "g") == Decimal("0.250")
    with pytest.raises(ProtocolError, match="unknown weight unit"):
        to_kg(Decimal(1), "stone")


def test_every_protocol_has_a_simulator():
    assert set(RESPONDERS) == set(PROTOCOLS)
    with pytest.raises(DeviceConfigError, match="no simulator"):
        VirtualScale("nope")


def test_fault_model():
    frame = b"\x0201.234\r"
    assert apply_fault(Fault.NONE, frame) == frame
    assert apply_fault(Fault.CORRUPT, frame) == b"\x0201.23#\r"
    assert apply_fault(Fault.PARTIAL, frame) == b"\x0201."
    assert frame in apply_fault(Fault.NOISE, frame)
    assert set(apply_fault(Fault.GARBAGE, frame)) <= set(GARBAGE)


def test_parity_bit_makes_every_byte_even_or_odd():
    for parity, remainder in (("E", 0), ("O", 1)):
        assert all(b.bit_count() % 2 == remainder for b in with_parity(bytes(range(128)), parity))
