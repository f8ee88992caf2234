"""Status replies: each vector whole, byte by byte, with junk; silence stays unknown."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printers import PaperState, PrinterStatus, StatusQuery, StatusReader, status_from_reply
from devices.readings import DeviceState

Q = StatusQuery
OUT, NEAR, OK = PaperState.OUT, PaperState.NEAR_END, PaperState.OK


@pytest.mark.parametrize(
    ("query", "byte", "expected"),
    [
        (Q.ROLL_PAPER, 0x12, PrinterStatus(paper=OK)),
        (Q.ROLL_PAPER, 0x1E, PrinterStatus(paper=NEAR)),
        (Q.ROLL_PAPER, 0x72, PrinterStatus(paper=OUT)),
        (Q.ROLL_PAPER, 0x7E, PrinterStatus(paper=OUT)),
        (Q.PRINTER, 0x12, PrinterStatus(online=True, drawer_pin_high=False)),
        (Q.PRINTER, 0x1A, PrinterStatus(online=False, drawer_pin_high=False)),
        (Q.PRINTER, 0x16, PrinterStatus(online=True, drawer_pin_high=True)),
        (Q.OFFLINE_CAUSE, 0x12, PrinterStatus(cover_open=False, error=False)),
        (Q.OFFLINE_CAUSE, 0x16, PrinterStatus(cover_open=True, error=False)),
        (Q.OFFLINE_CAUSE, 0x32, PrinterStatus(cover_open=False, error=False, paper=OUT)),
        (Q.OFFLINE_CAUSE, 0x52, PrinterStatus(cover_open=False, error=True)),
        (Q.ERROR_CAUSE, 0x1A, PrinterStatus(error=True)),
        (Q.ERROR_CAUSE, 0x12, PrinterStatus(error=False)),
        (Q.PAPER_SENSOR, 0x00, PrinterStatus(paper=OK)),
        (Q.PAPER_SENSOR, 0x03, PrinterStatus(paper=NEAR)),
        (Q.PAPER_SENSOR, 0x0F, PrinterStatus(paper=OUT)),
        (Q.DRAWER, 0x01, PrinterStatus(drawer_pin_high=True)),
    ],
)
def test_single_reply_vectors(query, byte, expected):
    assert status_from_reply(query, byte) == expected


OFFLINE_OUT_OF_PAPER = PrinterStatus(
    online=False, paper=OUT, cover_open=False, error=False, drawer_pin_high=False
)
REPLIES = bytes.fromhex("1a327e")  # DLE EOT 1/2/4: offline, stopped by paper end, paper end + near end


def reader_fed(chunks):
    reader = StatusReader()
    results = [status for chunk in chunks for status in reader.feed(chunk)]
    return reader, results


def test_the_default_queries_are_dle_eot_1_2_4():
    assert StatusReader().request() == bytes.fromhex("100401 100402 100404")


def test_replies_whole():
    assert reader_fed([REPLIES])[1] == [OFFLINE_OUT_OF_PAPER]


def test_replies_byte_by_byte():
    reader, results = reader_fed([bytes([b]) for b in REPLIES])
    assert results == [OFFLINE_OUT_OF_PAPER]
    assert reader.done


def test_junk_before_is_skipped_and_junk_after_ignored():
    reader, results = reader_fed([b"\xff\x00\x11\x13" + REPLIES[:2], b"\x80" + REPLIES[2:] + b"\x12\x7e"])
    assert results == [OFFLINE_OUT_OF_PAPER]
    assert reader.skipped == 5


def test_a_healthy_printer_is_ready():
    status = reader_fed([b"\x12\x12\x12"])[1][0]
    assert status.ready
    assert status.describe() == "online, paper ok"
    assert status.device_status("printer").state is DeviceState.OK


def test_no_reply_is_unknown_not_adequate():
    status = StatusReader().expire()
    assert status == PrinterStatus()
    assert not status.answered and not status.ready
    assert status.paper is PaperState.UNKNOWN
    assert status.device_status("printer").state is DeviceState.UNKNOWN


def test_a_partial_answer_keeps_the_rest_unknown():
    reader = StatusReader()
    assert reader.feed(b"\x12") == []
    status = reader.expire()
    assert status.online is True
    assert status.cover_open is None and status.paper is PaperState.UNKNOWN
    assert not status.ready


def test_near_end_is_still_ready_but_reported():
    status = reader_fed([b"\x12\x12\x1e"])[1][0]
    assert status.ready
    assert status.device_status("printer").detail == "online, paper near end"


def test_cover_open_is_described():
    status = reader_fed([b"\x1a\x16\x12"])[1][0]
    assert status.describe() == "offline, paper ok, cover open"
    assert status.device_status("printer").state is DeviceState.ERROR


def test_gs_r_queries_are_matched_with_their_own_reply_pattern():
    reader = StatusReader([Q.PAPER_SENSOR, Q.DRAWER])
    assert reader.request() == bytes.fromhex("1d7201 1d7202")
    assert reader.feed(b"\xff\x0c\x01") == [PrinterStatus(paper=OUT, drawer_pin_high=True)]


@given(st.lists(st.binary(max_size=8), max_size=10))
def test_no_input_breaks_the_reader(chunks):
    reader = StatusReader()
    results = [status for chunk in chunks for status in reader.feed(chunk)]
    assert len(results) <= 1
    assert isinstance(reader.expire(), PrinterStatus)
    assert reader.feed(b"\x12") == []
