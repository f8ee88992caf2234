"""The ESC/POS decoder the virtual printer and the preview use: vectors whole, byte by byte, with junk."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printers.decode import (
    Cut,
    DrawerKick,
    EscPosDecoder,
    StatusRequest,
    Symbol,
    TextLine,
    decode_tickets,
)

REPLACEMENT = "\ufffd"


def line(text, columns=None, align="left", bold=False):
    return TextLine(text, len(text) if columns is None else columns, align, bold)


VECTORS = [
    (b"plain\n", [line("plain")]),
    (b"\x1bt\x00\xa4\xa5\n", [line("ñÑ")]),  # CP437
    (b"\x1bt\x13\xd5 \xa4\n", [line("€ ñ")]),  # CP858
    (b"\x1bt\x10\x80 \xf1\xd1\n", [line("€ ñÑ")]),  # CP1252
    (b"\x1bt\x28\xa4 \xf1\n", [line("€ ñ")]),  # ISO-8859-15
    (b"\x1bt\x13\x1b@\xd5\n", [line("╒")]),  # ESC @ goes back to CP437
    (b"\x1bt\x63\xd5\n", [line(REPLACEMENT)]),  # a table the printer model does not know
    (b"\x1b!\x38wide\n", [line("wide", 8, bold=True)]),
    (b"\x1d!\x11x\x1d!\x00y\n", [line("xy", 3)]),
    (b"\x1ba\x01\x1bE\x01mid\n", [line("mid", align="center", bold=True)]),
    (b"a\tb\n", [line("a       b")]),
    (b"text\x1bd\x03", [line("text"), line(""), line("")]),
    (b"\x1d(k\x04\x001A2\x00\x1d(k\x08\x001P0HELLO\x1d(k\x03\x001Q0", [Symbol("QR", "HELLO")]),
    (b"\x1dk\x028412345678905\x00", [Symbol("EAN13", "8412345678905")]),
    (b"\x1dkC\x0d8412345678905", [Symbol("EAN13", "8412345678905")]),
    (b"\x1dkI\x0a{BA{{B{C\x0c\x22", [Symbol("CODE128", "A{B1234")]),
    (b"\x1dv0\x00\x02\x00\x02\x00\n\n\n\n", [Symbol("IMAGE", "16x2")]),
    (b"\x1dV\x00", [Cut(partial=False)]),
    (b"\x1dV\x01", [Cut(partial=True)]),
    (b"\x1dV1", [Cut(partial=True)]),
    (b"\x1dVA\x03", [Cut(partial=False)]),
    (b"\x1dVB\x00", [Cut(partial=True)]),
    (b"left\x1dV\x00", [line("left"), Cut(partial=False)]),
    (b"\x1bp\x0022", [DrawerKick(2)]),
    (b"\x1bp\x0122", [DrawerKick(5)]),
    (b"\x10\x14\x01\x00\x05", [DrawerKick(2)]),
    (b"\x10\x04\x01", [StatusRequest(b"\x10\x04\x01")]),
    (b"\x10\x04\x07\x01", [StatusRequest(b"\x10\x04\x07\x01")]),
    (b"\x1dr\x01", [StatusRequest(b"\x1dr\x01")]),
]
JUNK = b"\x00\r\x07\x18\x1b~\x1d\x7f\x1c.\x10\x00"  # controls and unknown commands: nothing on paper


def feed_bytewise(data):
    decoder = EscPosDecoder()
    return [event for i in range(len(data)) for event in decoder.feed(data[i : i + 1])]


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_vector_whole(data, expected):
    assert EscPosDecoder().feed(data) == expected


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_vector_byte_by_byte(data, expected):
    assert feed_bytewise(data) == expected


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_vector_with_junk_around(data, expected):
    assert EscPosDecoder().feed(JUNK + data + JUNK) == expected


def test_ascii_bytes_inside_commands_are_not_printed():
    events = EscPosDecoder().feed(b"\x1d(k\x0c\x001P0LF\nINSIDE\x1bp\x00\x0a\x0aok\n")
    assert events == [DrawerKick(2), line("ok")]


def test_realtime_status_requests_are_told_apart():
    assert StatusRequest(b"\x10\x04\x04").realtime
    assert not StatusRequest(b"\x1dr\x01").realtime


def test_decode_tickets_splits_at_cuts_and_drops_the_uncut_tail():
    tickets = decode_tickets(b"one\n\x1dV\x00two\n\x1bd\x02\x1dV\x01three\n")
    assert [t.text for t in tickets] == ["one", "two"]
    assert [t.partial_cut for t in tickets] == [False, True]


def test_render_aligns_like_paper():
    (ticket,) = decode_tickets(b"\x1ba\x01mid\n\x1ba\x02r\n\x1dV\x00")
    assert ticket.render(9).split("\n") == ["   mid", "        r"]


def test_wider_than_counts_double_width():
    (ticket,) = decode_tickets(b"\x1b!\x20" + b"x" * 17 + b"\n\x1dV\x00")
    assert ticket.wider_than(32) == [line("x" * 17, 34)]


FRAGMENTS = [
    b"\x1b",
    b"\x1d",
    b"\x10",
    b"\x1c",
    b"\n",
    b"\x1bt",
    b"\x1d(k",
    b"\x1dk",
    b"\x1dV",
    b"\x1dv0",
    b"\x1b*",
    b"\x1bD",
    b"\x10\x04",
    b"\x10\x14",
    b"\x1c(",
    b"\x1d8L",
]
streams = st.lists(st.one_of(st.binary(max_size=6), st.sampled_from(FRAGMENTS)), max_size=40).map(b"".join)


@settings(max_examples=300)
@given(streams)
def test_no_input_crashes_the_decoder(data):
    events = EscPosDecoder().feed(data)
    assert all(isinstance(e, TextLine | Symbol | Cut | DrawerKick | StatusRequest) for e in events)


@settings(max_examples=200)
@given(streams, st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_where_the_stream_is_split_does_not_matter(data, cuts):
    whole = EscPosDecoder().feed(data)
    decoder = EscPosDecoder()
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    pieces = [event for a, b in itertools.pairwise(bounds) for event in decoder.feed(data[a:b])]
    assert pieces == whole
