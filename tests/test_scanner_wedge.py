"""The keyboard-wedge decoder: key events in, scans out, for every layout; whole, one by one, with junk."""

from __future__ import annotations

import pytest
from evdev import InputEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceConfigError
from devices.hid import decode_reports, reports_for_scan
from devices.readings import KeyStroke, ScanRead
from devices.scanners.keycodes import (
    EV_KEY,
    EV_MSC,
    EV_SYN,
    KEY_2,
    KEY_A,
    KEY_APOSTROPHE,
    KEY_CAPSLOCK,
    KEY_DOWN,
    KEY_ENTER,
    KEY_KPENTER,
    KEY_LEFTSHIFT,
    KEY_NUMLOCK,
    KEY_REPEAT,
    KEY_RIGHTALT,
    KEY_RIGHTBRACE,
    KEY_RIGHTCTRL,
    KEY_TAB,
    KEY_UP,
)
from devices.scanners.layouts import GS, LAYOUTS, get_layout
from devices.scanners.wedge import WedgeDecoder
from simulators.scanner import Event, key_events_for
from tests.scanner_helpers import decode

ALL = sorted(LAYOUTS)
EAN = "5901234123457"
GS1 = "]C1010950600013435210ABC123" + GS + "3103000250"
VECTORS = [EAN, "]E05901234123457", "]Q1https://example.com/p?id=42&x=1", GS1]
NATIONAL = {
    "es": "Año ÑÇ 12,50",
    "de": "Größe ÄÖÜ",
    "fr": "été à ù",
    "it": "più è",
    "pt": "Nº5 ç«»",
    "uk": "£5",
}
CASES = [(layout, text) for layout in ALL for text in VECTORS] + sorted(NATIONAL.items())
JUNK: list[Event] = [
    (EV_MSC, 4, 0x70028),  # the scan code a USB keyboard reports before each key
    (EV_SYN, 0, 0),
    (EV_KEY, KEY_A, KEY_UP),  # release of a key never pressed
    (EV_KEY, KEY_NUMLOCK, KEY_DOWN),
    (EV_KEY, KEY_NUMLOCK, KEY_UP),
]


def texts(events: list[Event], layout: str = "us", **options: object) -> list[str]:
    return [scan.data for scan in decode(events, layout, **options)]


def press(code: int) -> list[Event]:
    return [(EV_KEY, code, KEY_DOWN), (EV_KEY, code, KEY_UP)]


def held(modifier: int, events: list[Event]) -> list[Event]:
    return [(EV_KEY, modifier, KEY_DOWN), *events, (EV_KEY, modifier, KEY_UP)]


@pytest.mark.parametrize(("layout", "text"), CASES)
def test_vectors_whole_one_by_one_and_with_junk(layout: str, text: str) -> None:
    events = key_events_for(text, layout)
    batch = WedgeDecoder(layout).feed_events(InputEvent(0, 0, *event) for event in events)
    assert [scan.data for scan in batch] == [text]
    assert texts(events, layout) == [text]
    assert texts(JUNK + events + JUNK, layout) == [text]
    interleaved = [item for event in events for item in (event, *JUNK)]
    assert texts(interleaved, layout) == [text]


def test_two_scans_in_one_batch() -> None:
    assert texts(key_events_for("123") + key_events_for("456")) == ["123", "456"]


@pytest.mark.parametrize("terminator", ["enter", "kpenter", "tab"])
def test_each_default_terminator_ends_a_scan(terminator: str) -> None:
    scans = decode(key_events_for(EAN, terminator=terminator))
    assert [scan.data for scan in scans] == [EAN]
    assert scans[0].keys[-1].code == {"enter": KEY_ENTER, "kpenter": KEY_KPENTER, "tab": KEY_TAB}[terminator]


def test_a_key_not_configured_as_terminator_is_data() -> None:
    events = key_events_for("A", terminator="tab") + key_events_for("B")
    assert texts(events, terminators={"enter"}) == ["A\tB"]


def test_terminator_configuration_is_checked() -> None:
    with pytest.raises(DeviceConfigError, match="unknown scan terminator 'esc'"):
        WedgeDecoder("us", terminators={"esc"})
    with pytest.raises(DeviceConfigError, match="at least one terminator"):
        WedgeDecoder("us", terminators=())


def test_empty_scans_are_ignored() -> None:
    assert texts(press(KEY_ENTER) + press(KEY_TAB) + press(KEY_ENTER)) == []
    assert texts(press(KEY_ENTER) + key_events_for("7")) == ["7"]


@pytest.mark.parametrize("layout", ALL)
def test_gs_is_ctrl_right_brace_whatever_the_layout(layout: str) -> None:
    """xkb would type `+` (es, de) or `$` (fr) for Ctrl+]; the decoder works at key-code level."""
    events = key_events_for("01", layout, None) + held(KEY_RIGHTCTRL, press(KEY_RIGHTBRACE))
    events += key_events_for("10", layout)
    [scan] = decode(events, layout)
    assert scan.data == f"01{GS}10"
    assert KeyStroke(KEY_RIGHTBRACE, ctrl=True) in scan.keys


def test_aim_prefix_is_kept_as_text() -> None:
    assert texts(key_events_for("]E05901234123457", "fr"), "fr") == ["]E05901234123457"]


def test_auto_repeat_types_nothing_but_keeps_a_modifier_held() -> None:
    events = [(EV_KEY, KEY_A, KEY_DOWN), (EV_KEY, KEY_A, KEY_REPEAT), (EV_KEY, KEY_A, KEY_REPEAT)]
    events += [(EV_KEY, KEY_A, KEY_UP), (EV_KEY, KEY_LEFTSHIFT, KEY_REPEAT), *press(KEY_A)]
    events += [(EV_KEY, KEY_LEFTSHIFT, KEY_UP), *press(KEY_A), *press(KEY_ENTER)]
    assert texts(events) == ["aAa"]


def test_caps_lock_toggles_letters_only_and_shift_reverses_it() -> None:
    caps = press(KEY_CAPSLOCK)
    events = caps + key_events_for("ab12", terminator=None) + held(KEY_LEFTSHIFT, press(KEY_A))
    events += caps + key_events_for("a")
    assert texts(events) == ["AB12aa"]
    assert texts(caps + key_events_for("ñ", "es"), "es") == ["Ñ"]
    assert texts(caps + key_events_for("é2", "fr"), "fr") == ["é2"]


def test_caps_lock_is_folded_into_the_forwarded_strokes() -> None:
    [scan] = decode(press(KEY_CAPSLOCK) + key_events_for("abc1"))
    assert scan.data == "ABC1"
    assert decode_reports(reports_for_scan(scan.keys), "us") == "ABC1\n"


def test_altgr_types_the_third_level() -> None:
    assert texts(held(KEY_RIGHTALT, press(KEY_2)) + press(KEY_ENTER), "es") == ["@"]
    assert texts(held(KEY_RIGHTALT, press(KEY_2)) + press(KEY_ENTER), "us") == ["2"]  # no AltGr on us


def test_altgr_wins_over_ctrl_as_windows_sends_it() -> None:
    events = held(KEY_RIGHTCTRL, held(KEY_RIGHTALT, press(KEY_2))) + press(KEY_ENTER)
    assert texts(events, "es") == ["@"]


def test_dead_keys_and_shift_altgr_type_nothing() -> None:
    events = press(KEY_APOSTROPHE) + held(KEY_LEFTSHIFT, held(KEY_RIGHTALT, press(KEY_2)))
    assert texts(events + key_events_for("a", "es"), "es") == ["a"]


def test_recorded_strokes_include_the_terminator() -> None:
    [scan] = decode(key_events_for("A1"))
    assert scan.keys == (KeyStroke(KEY_A, shift=True), KeyStroke(2), KeyStroke(KEY_ENTER))
    assert scan.source == "test"


def test_an_overlong_scan_is_dropped_and_the_next_one_decodes() -> None:
    events = key_events_for("1" * 50) + key_events_for("ok")
    assert texts(events, max_length=20) == ["ok"]


def test_flush_ends_a_scan_without_terminator_and_reset_forgets_it() -> None:
    decoder = WedgeDecoder("us")
    decoder.feed_events(InputEvent(0, 0, *event) for event in key_events_for("12", terminator=None))
    assert decoder.pending
    scan = decoder.flush()
    assert scan is not None and scan.data == "12"
    assert decoder.flush() is None  # nothing pending any more
    for event in [(EV_KEY, KEY_LEFTSHIFT, KEY_DOWN), *press(KEY_A)]:
        decoder.feed(*event)
    decoder.reset()
    assert [s.data for s in decoder.feed_events(InputEvent(0, 0, *e) for e in key_events_for("a"))] == ["a"]


events_strategy = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 260), st.integers(-1, 3)),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(events=events_strategy, layout=st.sampled_from(ALL))
def test_no_event_sequence_crashes_the_decoder(events: list[Event], layout: str) -> None:
    for scan in decode(events, layout):
        assert isinstance(scan, ScanRead) and scan.data


@st.composite
def layout_and_text(draw: st.DrawFn) -> tuple[str, str]:
    layout = draw(st.sampled_from(ALL))
    alphabet = sorted(get_layout(layout).charset)
    return layout, draw(st.text(st.sampled_from(alphabet), min_size=1, max_size=40))


@settings(max_examples=200, deadline=None)
@given(case=layout_and_text())
def test_any_text_of_a_layout_round_trips_through_key_events(case: tuple[str, str]) -> None:
    layout, text = case
    [scan] = decode(key_events_for(text, layout), layout)
    assert scan.data == text
    assert decode_reports(reports_for_scan(scan.keys), layout) == text + "\n"
