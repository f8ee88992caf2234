"""The simulated scanner the demo uses, the key-event helper, and building scanners from configuration."""

from __future__ import annotations

import pytest

from devices.errors import DeviceConfigError
from devices.hid import decode_reports, reports_for_scan
from devices.readings import DeviceState, ScanRead
from devices.scanners import EvdevScanner, SerialScanner, open_scanner
from devices.scanners.keycodes import EV_KEY, EV_SYN, KEY_DOWN, KEY_ENTER, KEY_LEFTSHIFT, KEY_UP
from devices.scanners.keycodes import KEY_A as A
from simulators.scanner import SimulatedScanner, key_events_for
from tests.scanner_helpers import Collector, running


def test_key_events_are_what_a_keyboard_sends() -> None:
    assert key_events_for("A") == [
        (EV_KEY, KEY_LEFTSHIFT, KEY_DOWN),
        (EV_KEY, A, KEY_DOWN),
        (EV_SYN, 0, 0),
        (EV_KEY, A, KEY_UP),
        (EV_KEY, KEY_LEFTSHIFT, KEY_UP),
        (EV_SYN, 0, 0),
        (EV_KEY, KEY_ENTER, KEY_DOWN),
        (EV_SYN, 0, 0),
        (EV_KEY, KEY_ENTER, KEY_UP),
        (EV_SYN, 0, 0),
    ]
    assert key_events_for("a", terminator=None)[-2:] == [(EV_KEY, A, KEY_UP), (EV_SYN, 0, 0)]


def test_scripted_and_on_demand_scans_carry_forwardable_keys() -> None:
    scanner = SimulatedScanner("sim", barcodes=["5901234123457", "]E04006381333931"], layout="es")
    post = Collector()
    with running(scanner, post):
        assert post.status(DeviceState.OK).detail == "simulated"
        first, second = post.scan(), post.scan()
        scanner.scan("Año@1")
        third = post.scan()
    assert [first.data, second.data, third.data] == ["5901234123457", "]E04006381333931", "Año@1"]
    assert decode_reports(reports_for_scan(third.keys), "es") == "Año@1\n"


def test_scans_come_at_the_interval() -> None:
    scanner = SimulatedScanner("sim", barcodes=iter(["1", "2"]), interval=0.05)
    post = Collector()
    with running(scanner, post):
        assert [post.scan().data, post.scan().data] == ["1", "2"]


def test_text_the_layout_cannot_type_is_scanned_without_keys() -> None:
    scanner = SimulatedScanner("sim", layout="us")
    post = Collector()
    with running(scanner, post):
        scanner.scan("ñ")
        assert post.scan() == ScanRead("sim", "ñ", ())


def test_open_scanner_by_type() -> None:
    assert isinstance(open_scanner({"type": "sim", "name": "demo", "barcodes": ["1"]}), SimulatedScanner)
    serial = open_scanner({"type": "serial", "name": "s", "url": "loop://", "terminator": "CRLF"})
    assert isinstance(serial, SerialScanner) and serial.name == "s"
    evdev = open_scanner({"type": "evdev", "name": "w", "match": "Honeywell", "layout": "de"})
    assert isinstance(evdev, EvdevScanner) and evdev.layout.name == "de"


def test_a_plug_in_scanner_type_whose_module_is_not_installed_is_refused_naming_it(
    tmp_path, monkeypatch
) -> None:
    # What the box sees for `type = "sim"`: its wheel has no simulators. A distribution declaring a plug-in
    # whose module is absent, found on sys.path like any installed one.
    info = tmp_path / "ghost_scanners-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ghost-scanners\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[tillbridge.scanners]\nghost = no_such_simulators.scanner:Ghost\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        DeviceConfigError, match=r"scanner 'g': type 'ghost' needs no_such_simulators.scanner"
    ):
        open_scanner({"type": "ghost", "name": "g"})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "laser", "name": "x"}, "scanner 'x': unknown type 'laser': use one of evdev, serial, sim"),
        ({"type": "serial", "name": "x", "url": "loop://", "speed": 9600}, "scanner 'x' .*'speed'"),
        ({"type": "serial", "name": "x"}, "scanner 'x' .*'url'"),
        ({"type": "serial"}, "needs a name"),
        (
            {"type": "evdev", "name": "x", "path": "/dev/input/event0", "layout": "zz"},
            "unknown keyboard layout",
        ),
    ],
)
def test_open_scanner_names_what_is_wrong(config: dict[str, object], message: str) -> None:
    with pytest.raises(DeviceConfigError, match=message):
        open_scanner(config)
