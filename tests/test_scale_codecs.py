"""Byte vectors for every scale codec, each fed whole, byte by byte and wrapped in junk."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from devices.errors import DeviceConfigError
from devices.scales import PROTOCOLS, ScaleReading, ScaleReply, make_codec
from devices.scales.enq import bcc
from devices.scales.toledo import ToledoStatus, probe_matches, probe_request
from simulators.scales.state import with_parity
from tests.scales_helpers import decode, decode_every_way, only_reading, readings, weights

# -- Mettler-Toledo 8217 / 8213 ---------------------------------------------------------------------


def test_toledo8217_zero_weight_from_the_reference_is_stable_zero_and_not_sellable():
    reading = only_reading("toledo8217", bytes.fromhex("02 30 30 2E 30 30 30 0D"))
    assert reading.weight_kg == Decimal("0.000")
    assert (reading.stable, reading.zero, reading.sellable) == (True, True, False)


def test_toledo8217_net_weight_with_leading_spaces():
    reading = only_reading("toledo8217", b"\x02 01.234N\r")
    assert (reading.weight_kg, reading.net, reading.sellable) == (Decimal("1.234"), True, True)
    assert reading.raw == b"\x02 01.234N\r"


@pytest.mark.parametrize(
    ("frame", "stable", "zero", "under", "over", "net"),
    [
        ("02 3F 41 0D", False, False, False, False, False),  # ?A in motion
        ("02 3F 51 0D", False, True, False, False, False),  # ?Q centre of zero + motion
        ("02 3F 44 0D", True, False, True, False, False),  # ?D under zero
        ("02 3F 42 0D", True, False, False, True, False),  # ?B over capacity
        ("02 3F 20 0D", True, False, False, False, True),  # net weight only: not an error (odoo#251237)
    ],
)
def test_toledo_status_frames_from_real_scales(frame, stable, zero, under, over, net):
    reading = only_reading("toledo8217", bytes.fromhex(frame))
    assert reading.weight_kg is None and reading.error is None and not reading.sellable
    assert (reading.stable, reading.zero, reading.under, reading.over, reading.net) == (
        stable,
        zero,
        under,
        over,
        net,
    )


@pytest.mark.parametrize("bit", range(8))
def test_toledo_status_byte_decodes_bits_0_to_5_only(bit):
    flags = ToledoStatus.decode(1 << bit)
    expected = [
        ToledoStatus.MOTION,
        ToledoStatus.OVER_CAPACITY,
        ToledoStatus.UNDER_ZERO,
        ToledoStatus.OUTSIDE_ZERO_CAPTURE,
        ToledoStatus.CENTER_OF_ZERO,
        ToledoStatus.NET,
        ToledoStatus(0),  # bit 6: unverified "bad command", ignored
        ToledoStatus(0),  # bit 7: parity
    ][bit]
    assert flags == expected


def test_toledo_outside_zero_capture_is_an_error_without_weight():
    reading = only_reading("toledo8217", b"\x02?H\r")
    assert reading.error == "outside zero-capture range" and reading.weight_kg is None


def test_toledo_reads_a_7e1_line_opened_as_8n1_by_masking_the_parity_bit():
    reading = only_reading("toledo8217", with_parity(b"\x02 02.500\r", "E"))
    assert reading.weight_kg == Decimal("2.500")


def test_toledo_repeats_the_last_weight_on_an_all_clear_status_but_never_after_motion():
    events = decode_every_way("toledo8217", b"\x0201.500\r\x02?@\r\x02?A\r\x02?@\r")
    got = [r.weight_kg for r in readings(events)]
    assert got == [Decimal("1.500"), Decimal("1.500"), None, None]


def test_toledo_does_not_repeat_a_gross_weight_when_the_status_says_net():
    got = [r.weight_kg for r in readings(decode("toledo8217", b"\x0201.500\r\x02?`\r"))]
    assert got == [Decimal("1.500"), None]


def test_toledo_keep_last_can_be_switched_off():
    events = decode("toledo8217", b"\x0201.500\r\x02?@\r", keep_last=False)
    assert [r.weight_kg for r in readings(events)] == [Decimal("1.500"), None]


@pytest.mark.parametrize("frame", [b"\x02 1.2.3\r", b"\x021#3.000\r", b"\x02 01.23X\r", b"\x02.\r"])
def test_toledo_malformed_weight_frames_are_errors_never_weights(frame):
    reading = only_reading("toledo8217", frame)
    assert reading.weight_kg is None and reading.error
    assert reading.error.startswith("toledo8217: ")


def test_toledo_resynchronises_on_the_next_stx_after_a_truncated_frame():
    assert weights(decode_every_way("toledo8217", b"\x02 01.2\x02 02.500\r")) == [Decimal("2.500")]


def test_toledo_echo_probe_helpers_match_the_reference_bytes():
    assert probe_request() == b"Ehello"
    assert probe_matches(bytes.fromhex("02 45 0D 68 65 6C 6C 6F"))
    assert probe_matches(b"noise" + with_parity(b"\x02E\rhello", "E"))
    assert not probe_matches(b"\x02E\rhellx")
    assert make_codec("toledo8217").probe_request() == b"Ehello"  # type: ignore[attr-defined]


def test_toledo_echo_answer_is_a_reply_not_a_reading():
    events = decode_every_way("toledo8217", bytes.fromhex("02 45 0D 68 65 6C 6C 6F"))
    assert events == [ScaleReply("echo", True, "echo mode", b"\x02E\r")]


def test_toledo_commands():
    codec = make_codec("toledo8217")
    assert (codec.request(), codec.zero(), codec.tare()) == (b"W", b"Z", b"T")


def test_toledo8213_reports_pounds_converted_exactly():
    reading = only_reading("toledo8213", b"\x02002.72\r")
    assert (reading.value, reading.unit) == (Decimal("2.72"), "lb")
    assert reading.weight_kg == Decimal("2.72") * Decimal("0.45359237")


# -- Dialog 06 / CAS ECR-12 (frames; flows are in test_scale_dialog06.py) ---------------------------

DIALOG_RESULT = bytes.fromhex(
    "02 30 32 1B 33 1B 30 31 30 30 30 1B 30 30 30 32 35 30 1B 30 30 30 32 35 30 03".replace(" ", "")
)


def test_dialog06_result_record_from_the_reference_vector():
    reading = only_reading("dialog06", DIALOG_RESULT)
    assert (reading.weight_kg, reading.unit_price, reading.amount) == (
        Decimal("1.000"),
        Decimal("2.50"),
        Decimal("2.50"),
    )
    assert reading.sellable


@pytest.mark.parametrize(
    ("s", "digits", "value", "unit"),
    [(b"1", b"01234", "12.34", "lb"), (b"2", b"01235", "1.235", "lb"), (b"3", b"12345", "12.345", "kg")],
)
def test_dialog06_weight_units(s, digits, value, unit):
    frame = b"\x0202\x1b" + s + b"\x1b" + digits + b"\x1b000100\x1b000123\x03"
    reading = only_reading("dialog06", frame)
    assert (reading.value, reading.unit) == (Decimal(value), unit)


def test_cas_ecr12_uses_its_own_unit_codes():
    frame = b"\x0202\x1b2\x1b01500\x1b000100\x1b000150\x03"
    reading = only_reading("casecr12", frame)
    assert (reading.value, reading.unit, reading.weight_kg) == (Decimal("1.500"), "g", Decimal("0.001500"))
    assert make_codec("casecr12").zero() == bytes.fromhex("04 02 33 31 03")


@pytest.mark.parametrize(
    "frame",
    [
        b"\x0202\x1b9\x1b01000\x1b000250\x1b000250\x03",  # unknown unit code
        b"\x0202\x1b3\x1b01#00\x1b000250\x1b000250\x03",  # non-digit weight
        b"\x0202\x1b3\x1b01000\x1b000250\x03",  # missing field
        b"\x0277\x1b00\x03",  # unknown record
    ],
)
def test_dialog06_malformed_records_are_errors(frame):
    reading = only_reading("dialog06", frame)
    assert reading.weight_kg is None and reading.error and reading.error.startswith("dialog06: ")


# -- CAS 22-byte continuous --------------------------------------------------------------------------


def cas22(head: bytes, weight: bytes, lamp: int = 0x44, unit: bytes = b"kg") -> bytes:
    frame = head + b",1" + bytes([lamp]) + b"," + weight + b" " + unit + b"\r\n"
    assert len(frame) == 22
    return frame


def test_cas22_stable_gross_weight():
    reading = only_reading("cas22", cas22(b"ST,GS", b"   1.234"))
    assert (reading.weight_kg, reading.stable, reading.net, reading.sellable) == (
        Decimal("1.234"),
        True,
        False,
        True,
    )


def test_cas22_unstable_net_and_negative():
    moving = only_reading("cas22", cas22(b"US,NT", b"   0.500", lamp=0x02))
    assert (moving.stable, moving.net, moving.sellable) == (False, True, False)
    below = only_reading("cas22", cas22(b"ST,GS", b"  -0.020"))
    assert (below.under, below.weight_kg, below.sellable) == (True, Decimal("-0.020"), False)


def test_cas22_overload_has_no_weight():
    reading = only_reading("cas22", cas22(b"OL,GS", b"  ------"))
    assert (reading.over, reading.weight_kg) == (True, None)


def test_cas22_zero_lamp_and_a_lamp_byte_equal_to_cr_or_lf():
    assert only_reading("cas22", cas22(b"ST,GS", b"   0.000", lamp=0x41)).zero
    for lamp in (0x0A, 0x0D):
        assert only_reading("cas22", cas22(b"ST,GS", b"   2.000", lamp=lamp)).weight_kg == Decimal("2.000")


def test_cas22_corrupt_weight_is_an_error():
    reading = only_reading("cas22", cas22(b"ST,GS", b"   1.2#4"))
    assert reading.weight_kg is None and reading.error == "cas22: weight field is not a number"


def test_cas22_streams_without_a_request():
    codec = make_codec("cas22")
    assert codec.continuous and codec.request() == b""


# -- MT-SICS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kg", "stable"),
    [
        (b"S S     100.00 g\r\n", "0.10000", True),
        (b"S D      1.234 kg\r\n", "1.234", False),
        (b"S S     -0.50 g\r\n", "-0.00050", True),
    ],
)
def test_mtsics_weights(line, kg, stable):
    reading = only_reading("mtsics", line)
    assert (reading.weight_kg, reading.stable) == (Decimal(kg), stable)


@pytest.mark.parametrize(
    ("line", "over", "under"),
    [(b"S I\r\n", False, False), (b"S +\r\n", True, False), (b"S -\r\n", False, True)],
)
def test_mtsics_weight_status_replies(line, over, under):
    reading = only_reading("mtsics", line)
    assert (reading.weight_kg, reading.stable, reading.over, reading.under) == (None, False, over, under)


@pytest.mark.parametrize(
    ("line", "word"), [(b"ES\r\n", "syntax"), (b"ET\r\n", "transmission"), (b"EL\r\n", "logical")]
)
def test_mtsics_command_errors(line, word):
    reading = only_reading("mtsics", line)
    assert reading.weight_kg is None and reading.error and word in reading.error


def test_mtsics_zero_and_tare_replies():
    assert decode_every_way("mtsics", b"Z A\r\n") == [ScaleReply("zero", True, "zeroed", b"Z A\r\n")]
    assert decode_every_way("mtsics", b"Z I\r\n")[0] == ScaleReply(
        "zero", False, "not executable now", b"Z I\r\n"
    )
    tare = decode_every_way("mtsics", b"T S      0.500 kg\r\n")
    assert tare == [ScaleReply("tare", True, "0.500 kg", b"T S      0.500 kg\r\n")]
    codec = make_codec("mtsics")
    assert (codec.request(), codec.zero(), codec.tare()) == (b"SI\r\n", b"Z\r\n", b"T\r\n")
    assert make_codec("mtsics", command="S").request() == b"S\r\n"


@pytest.mark.parametrize("line", [b"S S 1.0 zz\r\n", b"HELLO\r\n", b"S S 1#0 kg\r\n"])
def test_mtsics_unknown_units_and_lines_are_errors(line):
    reading = only_reading("mtsics", line)
    assert reading.weight_kg is None and reading.error


def test_mtsics_noise_before_a_reply_on_the_same_line_does_not_hide_it():
    assert weights(decode("mtsics", b"#~%S S      1.234 kg\r\n")) == [Decimal("1.234")]


# -- ENQ / DC1 ---------------------------------------------------------------------------------------


def enq_frame(
    status: bytes, sign: bytes, weight: bytes, unit: bytes = b"kg", check: int | None = None
) -> bytes:
    body = status + sign + weight + unit
    return b"\x01\x02" + body + bytes([bcc(body) if check is None else check]) + b"\x03\x04"


def test_enq_stable_weight():
    reading = only_reading("enq", enq_frame(b"S", b" ", b"01.234"))
    assert (reading.weight_kg, reading.stable, reading.sellable) == (Decimal("1.234"), True, True)


def test_enq_unstable_negative_and_overflow():
    assert not only_reading("enq", enq_frame(b"U", b" ", b"01.234")).stable
    assert only_reading("enq", enq_frame(b"S", b"-", b"00.020")).weight_kg == Decimal("-0.020")
    over = only_reading("enq", enq_frame(b"S", b"F", b"99.999"))
    assert (over.over, over.weight_kg) == (True, None)


def test_enq_bad_bcc_is_an_error_never_a_weight():
    frame = enq_frame(b"S", b" ", b"01.234")
    bad = frame[:12] + bytes([frame[12] ^ 0x01]) + frame[13:]
    reading = only_reading("enq", bad)
    assert reading.weight_kg is None and reading.error == "enq: BCC mismatch"


def test_enq_bcc_equal_to_etx_or_ack_is_still_framed():
    for weight in (b"01.23" + bytes([c]) for c in b"0123456789"):
        frame = enq_frame(b"S", b" ", weight)
        assert only_reading("enq", frame).weight_kg == Decimal(weight.decode())
    body = b"S 00.000kg"
    for target in (0x03, 0x06, 0x15):
        last = bcc(body[:-1]) ^ target  # choose the unit's last byte so the BCC lands on a control byte
        frame = enq_frame(b"S", b" ", b"00.000", b"k" + bytes([last]))
        assert frame[12] == target
        reading = only_reading("enq", frame)
        assert reading.weight_kg is None and "unknown weight unit" in (reading.error or "")


def test_enq_handshake_ack_then_dc1():
    codec = make_codec("enq")
    assert codec.request() == b"\x05" and codec.busy
    codec.feed(b"\x06")
    assert codec.data_to_send() == b"\x11" and codec.busy
    assert weights(codec.feed(enq_frame(b"S", b" ", b"00.500"))) == [Decimal("0.500")]
    assert not codec.busy


def test_enq_nak_means_not_ready_and_ends_the_exchange():
    codec = make_codec("enq")
    codec.request()
    events = codec.feed(b"\x15")
    assert events[0] == ScaleReply("nak", False, "scale not ready", b"\x15")
    assert readings(events)[0].weight_kg is None and not codec.busy


def test_enq_without_handshake_sends_dc1_directly():
    assert make_codec("enq", handshake=False).request() == b"\x11"


# -- registry ----------------------------------------------------------------------------------------


def test_every_required_protocol_is_registered():
    assert {"toledo8217", "toledo8213", "dialog06", "cas22", "mtsics", "enq"} <= set(PROTOCOLS)


def test_unknown_protocol_lists_the_valid_names():
    with pytest.raises(DeviceConfigError, match="valid protocols: cas22, casecr12, dialog06"):
        make_codec("toledo9999")


def test_bad_codec_options_are_a_config_error():
    with pytest.raises(DeviceConfigError, match="bad options"):
        make_codec("toledo8217", colour="red")
    with pytest.raises(DeviceConfigError, match="'S' or 'SI'"):
        make_codec("mtsics", command="SIR")


@pytest.mark.parametrize("protocol", ["cas22", "dialog06"])
def test_protocols_without_a_zero_command_say_so(protocol):
    with pytest.raises(DeviceConfigError, match="zero"):
        make_codec(protocol).zero()


def test_skipped_counts_noise_bytes():
    codec = make_codec("toledo8217")
    codec.feed(b"abc\x02 01.000\r")
    assert codec.skipped == 3


def test_reading_type_is_frozen():
    reading = ScaleReading(Decimal(1))
    with pytest.raises(AttributeError):
        reading.weight_kg = Decimal(2)  # type: ignore[misc]


def test_toledo_forgets_the_last_weight_after_a_restart():
    codec = make_codec("toledo8217")
    codec.feed(b"\x0201.500\r")
    codec.restart()  # what the driver does after a reconnect or a silent poll
    (reading,) = readings(codec.feed(b"\x02?@\r"))
    assert reading.weight_kg is None


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_a_flood_of_noise_is_skipped_counted_and_does_not_grow_the_buffer(protocol):
    codec = make_codec(protocol)
    flood = b"\x02\x01S" + bytes(range(256)) * 400
    events = codec.feed(flood)
    assert not weights(events)
    framed = sum(len(e.raw) for e in events)
    for first, second in itertools.pairwise(events):  # a status reply and its reading share one frame
        if isinstance(first, ScaleReply) and isinstance(second, ScaleReading) and first.raw == second.raw:
            framed -= len(second.raw)
    assert codec.skipped + framed + codec.buffered == len(flood)  # every byte accounted for
    assert codec.buffered < codec.max_frame
