"""Serial scanners: the line framer as a codec, and the scanner over a real pty pair, unplug included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceConfigError
from devices.readings import DeviceState, ScanRead
from devices.scanners import Backoff, LineFramer, SerialScanner, open_scanner
from devices.scanners.framing import TERMINATORS
from devices.scanners.layouts import GS
from simulators.scanner import VirtualSerialScanner
from tests.scanner_helpers import Collector, running

FAST = Backoff(initial=0.01, maximum=0.05)
GS1 = "]C1010950600013435210ABC123" + GS + "3103000250"
VECTORS = ["5901234123457", "]E05901234123457", GS1, "]Q1https://example.com/a b", "Größe"]


def frame_all(framer: LineFramer, chunks: list[bytes]) -> list[str]:
    return [scan for chunk in chunks for scan in framer.feed(chunk)]


@pytest.mark.parametrize("terminator", sorted(TERMINATORS))
@pytest.mark.parametrize("text", VECTORS)
def test_framer_vectors_whole_byte_by_byte_and_after_junk(terminator: str, text: str) -> None:
    wire = text.encode() + TERMINATORS[terminator]
    assert LineFramer(terminator).feed(wire) == [text]
    assert frame_all(LineFramer(terminator), [wire[i : i + 1] for i in range(len(wire))]) == [text]
    framer = LineFramer(terminator)
    assert framer.feed(b"\x00\xff noise" + TERMINATORS[terminator] + wire)[-1] == text
    assert framer.feed(wire * 3) == [text] * 3


def test_a_partial_scan_waits_for_its_terminator() -> None:
    framer = LineFramer("CR")
    assert framer.feed(b"59012341") == []
    assert framer.feed(b"23457\r8") == ["5901234123457"]
    assert framer.feed(b"\r") == ["8"]


def test_cr_lf_mismatch_is_tolerated_but_inner_line_breaks_are_kept() -> None:
    assert LineFramer("CR").feed(b"123\r\n456\r\n") == ["123", "456"]
    assert LineFramer("LF").feed(b"123\r\n") == ["123"]
    assert LineFramer("CRLF").feed(b"BEGIN:VCARD\nN:Doe\r\n") == ["BEGIN:VCARD\nN:Doe"]
    assert LineFramer("TAB").feed(b"\r\n123\t") == ["\r\n123"]  # TAB: nothing stripped


def test_empty_frames_and_undecodable_bytes() -> None:
    assert LineFramer("CR").feed(b"\r\r\r") == []
    assert LineFramer("CR").feed(b"A\xffB\r") == ["A\ufffdB"]
    assert LineFramer("CR", encoding="latin-1").feed(b"A\xf1o\r") == ["Año"]


def test_data_without_terminator_is_bounded_and_dropped() -> None:
    framer = LineFramer("CR", max_length=16)
    assert framer.feed(b"x" * 40) == []
    assert framer.feed(b"yyyy\r5901234123457\r") == ["5901234123457"]  # the tail of the noise is dropped
    assert framer.overflows == 1
    assert framer.feed(b"z" * 20 + b"\r") == []
    assert framer.overflows == 2


def test_unknown_terminator_is_a_config_error() -> None:
    with pytest.raises(DeviceConfigError, match="unknown serial scan terminator 'ETX'"):
        LineFramer("ETX")


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.binary(max_size=50), max_size=20), terminator=st.sampled_from(sorted(TERMINATORS)))
def test_no_bytes_crash_the_framer(data: list[bytes], terminator: str) -> None:
    framer = LineFramer(terminator, max_length=64)
    for chunk in data:
        assert all(isinstance(scan, str) and scan for scan in framer.feed(chunk))


scan_text = st.text(st.characters(blacklist_characters="\r\n\t", blacklist_categories=["Cs"]), min_size=1)


@settings(max_examples=100, deadline=None)
@given(scans=st.lists(scan_text.map(str.strip).filter(bool), max_size=8), cut=st.integers(1, 7))
def test_scans_survive_any_chunking(scans: list[str], cut: int) -> None:
    wire = b"".join(scan.encode() + b"\r\n" for scan in scans)
    chunks = [wire[i : i + cut] for i in range(0, len(wire), cut)]
    assert frame_all(LineFramer("CRLF"), chunks) == scans


def test_serial_settings_are_checked() -> None:
    with pytest.raises(DeviceConfigError, match="bad serial settings 9X1"):
        SerialScanner("till", url="loop://", bytesize=9, parity="X")
    with pytest.raises(DeviceConfigError, match="unknown serial scan terminator"):
        SerialScanner("till", url="loop://", terminator="EOT")


def test_scans_arrive_over_a_pty_with_7e1_settings() -> None:
    """A pty ignores parity (devices.md §1.0): this checks the settings are accepted, not the parity."""
    post = Collector()
    with VirtualSerialScanner("CRLF") as device:
        scanner = SerialScanner("till", url=device.port_path, terminator="CRLF", bytesize=7, parity="E")
        with running(scanner, post):
            ok = post.status(DeviceState.OK)
            assert device.port_path in ok.detail
            device.scan("5901234123457")
            device.scan(GS1)
            assert post.scan() == ScanRead("till", "5901234123457")
            assert post.scan().data == GS1


def test_unplug_and_replug_without_restart() -> None:
    post = Collector()
    with VirtualSerialScanner("CR") as device:
        scanner = SerialScanner("till", url=device.port_path, backoff=FAST)
        with running(scanner, post):
            post.status(DeviceState.OK)
            device.scan("111")
            assert post.scan().data == "111"
            device.unplug()
            absent = post.status(DeviceState.ABSENT)
            assert device.port_path in absent.detail
            device.plug()
            post.status(DeviceState.OK)
            device.scan("222")
            assert post.scan().data == "222"


def test_a_scanner_missing_at_start_is_found_when_plugged() -> None:
    post = Collector()
    with VirtualSerialScanner() as device:
        device.unplug()
        with running(open_scanner({"type": "serial", "name": "s", "url": device.port_path}), post):
            assert "not present" in post.status(DeviceState.ABSENT).detail
            device.plug()
            post.status(DeviceState.OK)
            device.scan("333")
            assert post.scan().data == "333"


def test_status_is_posted_on_change_not_on_every_retry() -> None:
    post = Collector()
    with VirtualSerialScanner() as device:
        device.unplug()
        scanner = SerialScanner("s", url=device.port_path, backoff=FAST)
        with running(scanner, post):
            post.status(DeviceState.ABSENT)
            device.plug()
            post.status(DeviceState.OK)
    assert [item for item in post.drain() if getattr(item, "state", None) is DeviceState.ABSENT] == []


def test_loop_url_opens_like_a_port() -> None:
    post = Collector()
    with running(SerialScanner("loop", url="loop://", baudrate=115200), post):
        assert "loop:// 115200 baud" in post.status(DeviceState.OK).detail
