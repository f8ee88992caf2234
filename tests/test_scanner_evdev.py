"""The evdev wedge scanner through its seam: selection, grab, unplug and replug, with fake kernel devices.

This machine has no input devices and no /dev/uinput, so `FakeInputSource` plays the kernel; the real
python-evdev source is exercised where it can be: listing nothing and reporting a missing node.
"""

from __future__ import annotations

import pytest

from devices.errors import DeviceConfigError
from devices.readings import DeviceState, KeyStroke, ScanRead
from devices.scanners import Backoff, EvdevInputSource, EvdevScanner, open_scanner
from devices.scanners.keycodes import KEY_ENTER, KEY_Q
from tests.scanner_helpers import Collector, FakeDevice, FakeInputSource, running, scanner_device

FAST = Backoff(initial=0.01, maximum=0.05)


def by_path(device: FakeDevice) -> str:
    return device.links[0]


def test_scans_are_decoded_with_the_scanners_layout_and_keep_their_keys() -> None:
    device = scanner_device("1.2")
    scanner = EvdevScanner("till", path=by_path(device), layout="fr", source=FakeInputSource(device))
    post = Collector()
    with running(scanner, post):
        assert "grabbed" in post.status(DeviceState.OK).detail
        device.type("]E0a5901234123457", layout="fr")
        scan = post.scan()
    assert scan == ScanRead("till", "]E0a5901234123457")
    assert scan.keys[3] == KeyStroke(KEY_Q) and scan.keys[-1] == KeyStroke(KEY_ENTER)  # AZERTY a


def test_two_identical_scanners_on_two_ports_are_two_devices() -> None:
    left, right = scanner_device("1.2"), scanner_device("1.3")
    source = FakeInputSource(left, right)
    post = Collector()
    scanners = [EvdevScanner(name, path=by_path(d), source=source) for name, d in (("L", left), ("R", right))]
    with running(scanners[0], post), running(scanners[1], post):
        post.status(DeviceState.OK)
        post.status(DeviceState.OK)
        left.type("111")
        right.type("222")
        scans = {post.scan(), post.scan()}
    assert scans == {ScanRead("L", "111"), ScanRead("R", "222")}


def test_unplug_posts_absent_and_replug_into_the_same_port_resumes() -> None:
    device = scanner_device("1.2")
    source = FakeInputSource(device)
    scanner = EvdevScanner("till", path=by_path(device), source=source, backoff=FAST)
    post = Collector()
    with running(scanner, post):
        post.status(DeviceState.OK)
        device.type("half", terminator=None)  # a scan cut short by the unplug
        device.unplug()
        assert "not present" in post.status(DeviceState.ABSENT).detail
        device.plug()  # a new /dev/input/eventN behind the same by-path link
        post.status(DeviceState.OK)
        device.type("5901234123457")
        assert post.scan() == ScanRead("till", "5901234123457")
    assert device.opens == 2
    assert all(not handle.node.grabbed for handle in source.handles)  # closed handles release the grab


def test_a_scanner_absent_at_start_is_picked_up_when_plugged() -> None:
    device = FakeDevice("Scanner", ("/dev/input/by-path/usb-0:1.4:1.0-event-kbd",))
    scanner = EvdevScanner("till", path=device.links[0], source=FakeInputSource(device), backoff=FAST)
    post = Collector()
    with running(scanner, post):
        post.status(DeviceState.ABSENT)
        device.plug()
        post.status(DeviceState.OK)
        device.type("42")
        assert post.scan().data == "42"


def test_a_scanner_grabbed_elsewhere_is_an_error_until_released() -> None:
    device = scanner_device("1.2")
    source = FakeInputSource(device)
    other = source.open(by_path(device))
    other.grab()
    post = Collector()
    with running(EvdevScanner("till", path=by_path(device), source=source, backoff=FAST), post):
        assert "in use by another program" in post.status(DeviceState.ERROR).detail
        other.close()
        post.status(DeviceState.OK)
        device.type("7")
        assert post.scan().data == "7"


def test_without_grab_the_device_is_shared() -> None:
    device = scanner_device("1.2")
    source = FakeInputSource(device)
    post = Collector()
    with running(EvdevScanner("till", path=by_path(device), grab=False, source=source), post):
        assert "grabbed" not in post.status(DeviceState.OK).detail
        assert not source.handles[0].grabbed


def test_selection_by_name_skips_nodes_without_keys() -> None:
    keys = scanner_device("1.2", name="Datalogic Scanner")
    extra = FakeDevice("Datalogic Scanner Consumer Control", ("/dev/input/by-path/x-event",), has_keys=False)
    extra.plug()
    post = Collector()
    scanner = EvdevScanner("till", match="datalogic", source=FakeInputSource(extra, keys))
    with running(scanner, post):
        assert keys.info().path in post.status(DeviceState.OK).detail
        keys.type("9")
        assert post.scan().data == "9"


def test_an_ambiguous_name_names_the_ports_and_resolves_when_one_leaves() -> None:
    left, right = scanner_device("1.2"), scanner_device("1.3")
    post = Collector()
    scanner = EvdevScanner("till", match="xenon", source=FakeInputSource(left, right), backoff=FAST)
    with running(scanner, post):
        error = post.status(DeviceState.ERROR)
        assert "2 input devices match 'xenon'" in error.detail
        assert by_path(left) in error.detail and by_path(right) in error.detail
        right.unplug()
        post.status(DeviceState.OK)
        left.type("1")
        assert post.scan().data == "1"


def test_end_after_idle_ends_scans_of_a_scanner_without_suffix() -> None:
    device = scanner_device("1.2")
    scanner = EvdevScanner("till", path=by_path(device), end_after_idle=0.05, source=FakeInputSource(device))
    post = Collector()
    with running(scanner, post):
        post.status(DeviceState.OK)
        device.type("5901234123457", terminator=None)
        assert post.scan().data == "5901234123457"


def test_configuration_is_checked() -> None:
    with pytest.raises(DeviceConfigError, match="give either path"):
        EvdevScanner("till")
    with pytest.raises(DeviceConfigError, match="give either path"):
        EvdevScanner("till", path="/dev/input/event0", match="x")
    with pytest.raises(DeviceConfigError, match="unknown keyboard layout"):
        EvdevScanner("till", path="/dev/input/event0", layout="klingon")
    with pytest.raises(DeviceConfigError, match="unknown scan terminator"):
        EvdevScanner("till", path="/dev/input/event0", terminators=["space"])


def test_the_real_evdev_source_reports_a_missing_scanner() -> None:
    """On this machine there is no /dev/input: python-evdev lists nothing and the node is absent."""
    assert EvdevInputSource().list_devices() == []
    post = Collector()
    path = "/dev/input/by-path/platform-usb-0:1.2:1.0-event-kbd"
    with running(open_scanner({"type": "evdev", "name": "till", "path": path}), post):
        absent = post.status(DeviceState.ABSENT)
    assert absent.device == "till" and path in absent.detail
