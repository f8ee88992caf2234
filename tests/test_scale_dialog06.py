"""Dialog 06 conversations: what the POS sends next given what the scale said."""

from __future__ import annotations

from decimal import Decimal

import pytest

from devices.errors import DeviceConfigError
from devices.scales import ScaleReading, ScaleReply
from devices.scales.dialog06 import (
    STATUS_CODES,
    STATUS_REQUEST,
    WEIGHT_REQUEST,
    Article,
    Dialog06Codec,
    State,
    checksum_record,
    z_nibbles,
)
from simulators.scales import ScaleState
from simulators.scales.responders import Dialog06Responder
from tests.scales_helpers import decode_every_way, readings

RESULT_1KG = bytes.fromhex("02 30 32 1B 33 1B 30 31 30 30 30 1B 30 30 30 32 35 30 1B 30 30 30 32 35 30 03")
ACK, NAK, EOT = b"\x06", b"\x15", b"\x04"


def state(codec):
    """The codec's state, read afresh (mypy would otherwise keep an earlier narrowing)."""
    return codec.state


def status_record(code: int) -> bytes:
    return b"\x0209\x1b" + f"{code:02d}".encode() + b"\x03"


# -- POS → scale records -----------------------------------------------------------------------------


def test_unit_price_record_matches_the_reference_vector():
    assert Article(Decimal("2.50")).encode() == bytes.fromhex("04 02 30 31 1B 30 30 30 32 35 30 1B 03")


def test_price_with_tare_text_and_both():
    assert Article(Decimal("2.50"), tare_kg=Decimal("0.015")).encode() == b"\x04\x0203\x1b000250\x1b0015\x03"
    assert Article(Decimal("2.50"), text="Apples").encode() == b"\x04\x0204\x1b000250\x1bApples       \x03"
    both = Article(Decimal("9999.99"), tare_kg=Decimal("9.999"), text="Pears").encode()
    assert both == b"\x04\x0205\x1b999999\x1b9999\x1bPears        \x03"


@pytest.mark.parametrize(
    "article",
    [
        Article(Decimal("2.505")),  # fraction of a cent
        Article(Decimal("10000.00")),  # 7 digits
        Article(Decimal("-1")),
        Article(Decimal("1"), tare_kg=Decimal("10.000")),
        Article(Decimal("1"), text="fourteen chars"),
        Article(Decimal("1"), text="Äpfel"),
    ],
)
def test_articles_the_scale_cannot_take_are_config_errors(article):
    with pytest.raises(DeviceConfigError, match="Dialog 06"):
        article.encode()


def test_status_and_weight_requests_match_the_reference():
    assert bytes.fromhex("04 05") == WEIGHT_REQUEST
    assert bytes.fromhex("04 02 30 38 03") == STATUS_REQUEST


# -- flows -------------------------------------------------------------------------------------------


def test_reference_flow_price_ack_enq_result_eot():
    codec = Dialog06Codec(article=Article(Decimal("2.50")))
    assert codec.request() == bytes.fromhex("04 02 30 31 1B 30 30 30 32 35 30 1B 03")
    assert codec.feed(ACK) == [ScaleReply("ack", True, raw=ACK)]
    assert codec.data_to_send() == bytes.fromhex("04 05")
    (reading,) = readings(codec.feed(RESULT_1KG))
    assert (reading.weight_kg, reading.amount, reading.sellable) == (Decimal("1.000"), Decimal("2.50"), True)
    assert codec.data_to_send() == EOT
    assert not codec.busy


def test_without_an_article_the_poll_is_just_eot_enq():
    codec = Dialog06Codec()
    assert codec.request() == WEIGHT_REQUEST and state(codec) is State.WEIGHT_REQUESTED


def test_nak_then_08_then_09_motion():
    codec = Dialog06Codec()
    codec.request()
    assert codec.feed(NAK) == [ScaleReply("nak", False, raw=NAK)]
    assert codec.data_to_send() == STATUS_REQUEST and codec.busy
    events = codec.feed(status_record(20))
    assert events[0] == ScaleReply("status", True, "20 scale in motion", status_record(20))
    (reading,) = readings(events)
    assert (reading.weight_kg, reading.stable, reading.error, reading.sellable) == (None, False, None, False)
    assert codec.data_to_send() == b"" and not codec.busy


def test_nak_after_a_price_record_also_asks_for_the_status():
    codec = Dialog06Codec(article=Article(Decimal("1.00")))
    codec.request()
    codec.feed(NAK)
    assert codec.data_to_send() == STATUS_REQUEST
    (reading,) = readings(codec.feed(status_record(11)))
    assert reading.error == "scale status 11 invalid unit price"


@pytest.mark.parametrize("code", sorted(STATUS_CODES))
def test_every_status_code_maps_to_flags_or_an_error(code):
    (reading,) = readings(decode_every_way("dialog06", status_record(code)))
    assert reading.weight_kg is None and not reading.sellable
    flags = {20: "motion", 22: "motion", 30: "zero", 31: "under", 32: "over"}.get(code)
    assert reading.stable == (flags != "motion")
    assert (reading.zero, reading.under, reading.over) == (flags == "zero", flags == "under", flags == "over")
    condition = code in (0, 20, 21, 22, 30, 31, 32)
    assert (reading.error is None) == condition
    if not condition:
        assert reading.error == f"scale status {code:02d} {STATUS_CODES[code]}"


def test_unknown_status_code_is_an_error():
    (reading,) = readings(decode_every_way("dialog06", status_record(99)))
    assert reading.error == "scale status 99 unknown status"


# -- checksum handshake ------------------------------------------------------------------------------


def test_z_nibbles_as_one_raw_byte_or_two_characters():
    assert z_nibbles(b"\x5a") == (5, 10)
    assert z_nibbles(b";2") == (11, 2)
    assert z_nibbles(b"") == (0, 0)


def test_checksum_record_rotates_cs_left_and_kw_right():
    assert checksum_record(b"") == b"\x04\x0210\x1b4711F336\x03"  # the Cely example's bytes
    assert checksum_record(b";2") == b"\x04\x0210\x1b8A38BCCD\x03"  # 4711 rotl 11, F336 rotr 2
    assert checksum_record(b"\x5a") == b"\x04\x0210\x1bE228CDBC\x03"
    assert checksum_record(b"\x00", cs=0x1234, kw=0xABCD) == b"\x04\x0210\x1b1234ABCD\x03"


def test_record_11_interrupts_a_weighing_then_the_weighing_resumes():
    codec = Dialog06Codec()
    codec.request()
    events = codec.feed(b"\x0211\x1b2;2\x03")
    assert events == [ScaleReply("checksum", True, "checksum requested", b"\x0211\x1b2;2\x03")]
    assert codec.data_to_send() == b"\x04\x0210\x1b8A38BCCD\x03" and state(codec) is State.CHECKSUM_SENT
    codec.feed(b"\x0211\x1b1\x03")
    assert codec.data_to_send() == WEIGHT_REQUEST and state(codec) is State.WEIGHT_REQUESTED
    assert [r.weight_kg for r in readings(codec.feed(RESULT_1KG))] == [Decimal("1.000")]


def test_record_11_during_a_price_record_resends_the_price():
    codec = Dialog06Codec(article=Article(Decimal("2.50")))
    price = codec.request()
    codec.feed(b"\x0211\x1b2\x00\x03")
    assert codec.data_to_send() == b"\x04\x0210\x1b4711F336\x03"
    codec.feed(b"\x0211\x1b1\x03")
    assert codec.data_to_send() == price and state(codec) is State.PRICE_SENT


def test_rejected_checksum_is_an_error_and_ends_the_exchange():
    codec = Dialog06Codec(rotate=False)
    codec.request()
    codec.feed(b"\x0211\x1b2;2\x03")
    assert codec.data_to_send() == b"\x04\x0210\x1b4711F336\x03"
    (reading,) = readings(codec.feed(b"\x0211\x1b0\x03"))
    assert reading.weight_kg is None and "rejected the POS checksum" in (reading.error or "")
    assert not codec.busy


def test_unsolicited_checksum_after_power_on_sends_nothing_after_the_verdict():
    codec = Dialog06Codec()
    codec.feed(b"\x0211\x1b2;2\x03")
    assert codec.data_to_send().startswith(b"\x04\x0210")
    codec.feed(b"\x0211\x1b1\x03")
    assert codec.data_to_send() == b"" and not codec.busy


def test_malformed_record_11_is_an_error():
    (reading,) = readings(decode_every_way("dialog06", b"\x0211\x1b7\x03"))
    assert reading.error == "dialog06: malformed record 11"


# -- the codec against the simulated scale, conversation by conversation ------------------------------


def converse(codec: Dialog06Codec, scale: Dialog06Responder, state: ScaleState) -> list[ScaleReading]:
    """Run one poll to its end, shuttling bytes both ways with no port in between."""
    out: list[ScaleReading] = []
    to_scale = codec.request()
    for _ in range(10):
        to_pos = b"".join(scale.receive(to_scale, state))
        out += readings(codec.feed(to_pos))
        to_scale = codec.data_to_send()
        if not codec.busy:
            return out
    raise AssertionError("conversation did not end")


def test_conversations_with_the_simulated_scale():
    state = ScaleState(weight_kg=Decimal("1.250"))
    scale = Dialog06Responder(require_price=True, checksum_every=3)
    (no_article,) = converse(Dialog06Codec(), scale, state)
    assert no_article.raw == status_record(22) and no_article.weight_kg is None
    priced = Dialog06Codec(article=Article(Decimal("4.00")))
    (result,) = converse(priced, scale, state)
    assert (result.weight_kg, result.amount) == (Decimal("1.250"), Decimal("5.00"))
    (after_checksum,) = converse(priced, scale, state)  # weighing 3 is interrupted by record 11
    assert scale.checksum_ok is True and after_checksum == result
    state.stable = False
    (moving,) = converse(priced, scale, state)
    assert (moving.stable, moving.weight_kg) == (False, None)


_CAME = {"ack": ACK, "nak": NAK, "02": RESULT_1KG, "09": status_record(0)}


@pytest.mark.parametrize("start", list(State))
@pytest.mark.parametrize("came", sorted(_CAME))
def test_transition_table_what_to_send_next(start, came):
    codec = Dialog06Codec()
    codec.state = start
    codec.feed(_CAME[came])
    expected = {
        (State.PRICE_SENT, "ack"): (State.WEIGHT_REQUESTED, WEIGHT_REQUEST),
        (State.PRICE_SENT, "nak"): (State.STATUS_REQUESTED, STATUS_REQUEST),
        (State.WEIGHT_REQUESTED, "nak"): (State.STATUS_REQUESTED, STATUS_REQUEST),
        (State.WEIGHT_REQUESTED, "02"): (State.IDLE, EOT),
        (State.STATUS_REQUESTED, "09"): (State.IDLE, b""),
    }.get((start, came), (start, b""))  # anything unexpected is decoded but changes nothing
    assert (state(codec), codec.data_to_send()) == expected
