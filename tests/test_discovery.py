"""Discovery against a fake Raspberry Pi sysfs and /dev, with real ptys and sockets for the probes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.discovery import FoundDevice, discover, probe_network_printer
from devices.discovery.printers import parse_host_port, parse_ieee1284_id
from devices.discovery.scanners import types_digits_and_enter
from devices.discovery.toledo_probe import is_echo_reply, with_even_parity
from devices.errors import DeviceConfigError
from tests.discovery_helpers import (
    CONSUMER_EV,
    CONSUMER_KEYS,
    EchoScale,
    FakeBox,
    Pty,
    StatusPrinter,
    closed_port,
)

HONEYWELL_PATH = "platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.1:1.0-event-kbd"
KBW_PATHS = [f"platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.{p}:1.0-event-kbd" for p in (3, 4)]
KBW_ID = "usb-SM_SM-2D_PRODUCT_HID_KBW_APP-000000000-event-kbd"
FTDI_PATH = "platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.2:1.0-port0"
FTDI_ID = "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"
EPSON_IEEE = "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;DES:TM-T20II;"


@pytest.fixture
def box(tmp_path: Path) -> FakeBox:
    """A till box with the usual suspects plugged in, and the things that must not be reported."""
    box = FakeBox(tmp_path)
    honeywell = box.interface(box.usb_device("1-1.1", "0c2e", "0b61", "Honeywell", "1900"))
    box.input_node(honeywell, "Honeywell Imaging & Mobility 1900", "0c2e", by_path=HONEYWELL_PATH)
    keyboard = box.interface(box.usb_device("1-1.5", "046d", "c31c", "Logitech", "USB Keyboard"))
    box.input_node(keyboard, "Logitech USB Keyboard", "046d", by_path="…-usb-0:1.5:1.0-event-kbd")
    box.input_node(keyboard, "Logitech USB Keyboard Consumer Control", "046d", CONSUMER_KEYS, CONSUMER_EV)
    for port, by_path in zip(("1-1.3", "1-1.4"), KBW_PATHS, strict=True):
        kbw = box.interface(box.usb_device(port, "0483", "0011"))
        box.input_node(kbw, "SM SM-2D PRODUCT HID KBW", "0483", by_path=by_path, by_id=KBW_ID)
        box.input_node(kbw, "SM SM-2D PRODUCT HID KBW System Control", "0483", CONSUMER_KEYS, CONSUMER_EV)
    ftdi = box.usb_device("1-1.2", "0403", "6001", "FTDI", "FT232R USB UART")
    box.usb_tty(box.interface(ftdi, cls="ff"), "ttyUSB0", "ftdi_sio", by_path=FTDI_PATH, by_id=FTDI_ID)
    epson = box.interface(
        box.usb_device("2-1", "04b8", "0e15", "EPSON", "TM-T20II"), cls="07", driver="usblp"
    )
    box.usblp(epson, 0, EPSON_IEEE)
    box.platform_tty("ttyS1", uart_type="0")
    box.virtual_tty("tty0")
    return box


def by_kind(found: list[FoundDevice], kind: str) -> list[FoundDevice]:
    return [d for d in found if d.kind == kind]


def test_finds_the_scanner_by_vendor_and_reports_its_by_path_link(box: FakeBox) -> None:
    found = discover(box.sys, box.dev)
    honeywell = next(d for d in found if d.name.startswith("Honeywell"))
    assert honeywell.kind == "scanner"
    assert honeywell.path == str(box.dev / "input/by-path" / HONEYWELL_PATH)
    assert honeywell.details["why"] == "USB vendor 0c2e is Honeywell (Metrologic)"
    assert honeywell.details["usb_id"] == "0c2e:0b61" and honeywell.details["usb_port"] == "1-1.1"


def test_a_keyboard_is_not_a_scanner_and_keyless_nodes_are_skipped(box: FakeBox) -> None:
    names = [d.name for d in discover(box.sys, box.dev)]
    assert not [n for n in names if "Logitech" in n or "System Control" in n]


def test_two_identical_scanners_get_distinct_paths_by_usb_port(box: FakeBox) -> None:
    kbw = [d for d in by_kind(discover(box.sys, box.dev), "scanner") if "KBW" in d.name]
    assert [d.path for d in kbw] == [str(box.dev / "input/by-path" / p) for p in KBW_PATHS]
    assert {d.details["why"] for d in kbw} == {"name contains 'kbw'"}
    assert [d.details["usb_port"] for d in kbw] == ["1-1.3", "1-1.4"]


def test_the_usb_serial_adapter_is_a_serial_port_with_its_stable_links(box: FakeBox) -> None:
    (port,) = by_kind(discover(box.sys, box.dev), "serial")
    assert port.path == str(box.dev / "serial/by-path" / FTDI_PATH)
    assert port.name == "FTDI FT232R USB UART"
    assert port.details["by_id"] == str(box.dev / "serial/by-id" / FTDI_ID)
    assert port.details["node"] == str(box.dev / "ttyUSB0")
    assert port.details["driver"] == "ftdi_sio" and port.details["usb_id"] == "0403:6001"


def test_a_scanner_in_usb_serial_mode_is_reported_as_a_scanner(box: FakeBox) -> None:
    honeywell_com = box.usb_device("1-1.6", "0c2e", "0b6a", "Honeywell", "1900 USB-COM")
    box.usb_tty(box.interface(honeywell_com, cls="02", driver="cdc_acm"), "ttyACM0", "cdc_acm")
    (com,) = [d for d in discover(box.sys, box.dev) if d.path.endswith("ttyACM0")]
    assert (com.kind, com.name) == ("scanner", "Honeywell 1900 USB-COM")
    assert com.details["driver"] == "cdc_acm"


def test_the_usb_printer_is_named_from_its_ieee1284_id_and_reported_once(box: FakeBox) -> None:
    (printer,) = by_kind(discover(box.sys, box.dev), "printer")
    assert (printer.path, printer.name) == (str(box.dev / "usb/lp0"), "EPSON TM-T20II")
    assert printer.details["commands"] == "ESC/POS" and printer.details["usb_id"] == "04b8:0e15"


def test_a_printer_without_usblp_is_found_by_its_usb_class(box: FakeBox) -> None:
    box.interface(box.usb_device("2-2", "0519", "000b", "Star Micronics", "TSP143IIIU"), cls="07")
    printers = by_kind(discover(box.sys, box.dev), "printer")
    star = next(p for p in printers if p.path == "usb:0519:000b")
    assert star.name == "Star Micronics TSP143IIIU"
    assert (star.details["driver"], star.details["interface"]) == ("none", "2-2:1.0")


def test_placeholder_and_virtual_ttys_are_not_serial_ports(box: FakeBox) -> None:
    box.platform_tty("ttyS0", uart_type="4")  # a real 16550A UART
    paths = [d.path for d in by_kind(discover(box.sys, box.dev), "serial")]
    assert str(box.dev / "ttyS0") in paths
    assert not [p for p in paths if p.endswith(("ttyS1", "tty0"))]


def test_one_unreadable_entry_is_reported_with_its_error_and_the_rest_still_found(box: FakeBox) -> None:
    junk = box.interface(box.usb_device("1-1.7", "1234", "5678"))
    box.input_node(junk, "Broken", "1234", keys="not hex")
    found = discover(box.sys, box.dev)
    (broken,) = [d for d in found if "error" in d.details]
    assert "cannot read" in broken.details["error"] and broken.path.endswith("event8")
    assert len(by_kind(found, "scanner")) == 4  # the broken one plus the three real scanners


def test_an_empty_or_missing_tree_finds_nothing(tmp_path: Path) -> None:
    assert discover(tmp_path / "sys", tmp_path / "dev") == []


@pytest.fixture
def ptys() -> Iterator[tuple[Pty, Pty]]:
    scale_pty, silent_pty = Pty(), Pty()
    yield scale_pty, silent_pty
    scale_pty.close()
    silent_pty.close()


def plug_serial(box: FakeBox, port: str, pty: Pty, name: str) -> None:
    """A USB-serial adapter whose /dev node leads to a real pty."""
    adapter = box.usb_device(port, "1a86", "7523", "", "USB Serial")
    node = box.usb_tty(box.interface(adapter, cls="ff"), name, "ch341", by_path=f"…-usb-0:{port}:1.0-port0")
    node.unlink()
    node.symlink_to(pty.slave_path)


def test_probe_turns_a_port_that_answers_the_8217_echo_into_a_scale(
    box: FakeBox, ptys: tuple[Pty, Pty]
) -> None:
    scale_pty, silent_pty = ptys
    plug_serial(box, "1-1.8", scale_pty, "ttyUSB1")
    plug_serial(box, "1-1.9", silent_pty, "ttyUSB2")
    scale = EchoScale(scale_pty)
    try:
        started = time.monotonic()
        found = discover(box.sys, box.dev, probe=True, probe_timeout_s=0.3)
        elapsed = time.monotonic() - started
        assert scale.left_echo_mode.wait(timeout=5), "the probe did not send F to leave echo mode"
    finally:
        scale.close()
    (found_scale,) = by_kind(found, "scale")
    assert found_scale.path.endswith("1-1.8:1.0-port0")
    assert found_scale.details["protocol"] == "toledo-8217"
    silent = next(d for d in found if d.path.endswith("1-1.9:1.0-port0"))
    assert (silent.kind, silent.details["probe"]) == ("serial", "no answer to toledo-8217 echo")
    assert elapsed < 5  # three ports at 0.3 s each: a silent port costs its timeout, not a hang


def test_the_kernel_console_port_is_never_probed(box: FakeBox) -> None:
    box.platform_tty("ttyS0", uart_type="4", console=True)
    found = discover(box.sys, box.dev, probe=True, probe_timeout_s=0.1)
    (console,) = [d for d in found if d.path.endswith("ttyS0")]
    assert (console.kind, console.details["probe"]) == ("serial", "skipped: kernel console")


def test_a_port_that_cannot_be_opened_says_so_without_stopping_discovery(box: FakeBox) -> None:
    found = discover(box.sys, box.dev, probe=True, probe_timeout_s=0.1)  # ttyUSB0 is a plain file here
    (port,) = by_kind(found, "serial")
    assert port.details["probe"].startswith("failed: ")
    assert by_kind(found, "printer") and by_kind(found, "scanner")


REPLY = b"\x02E\rhello"


@pytest.mark.parametrize(
    ("data", "answered"),
    [
        (REPLY, True),
        (b"\x00\xff" + REPLY + b"\r\n", True),
        (with_even_parity(REPLY), True),
        (REPLY[:-1], False),
        (b"\x02?A\r", False),
        (b"", False),
    ],
    ids=["exact", "with-junk", "parity-bit-set", "truncated", "a-weight-status", "silence"],
)
def test_the_echo_reply_is_recognised_whole_with_junk_and_with_parity(data: bytes, answered: bool) -> None:
    assert is_echo_reply(data) is answered


def test_the_probe_bytes_carry_even_parity_for_7e1() -> None:
    assert with_even_parity(b"Ehello") == bytes([0xC5, 0xE8, 0x65, 0x6C, 0x6C, 0x6F])
    assert with_even_parity(b"F") == b"\xc6"


def test_network_printer_probe_reads_escpos_status() -> None:
    printer = StatusPrinter(0x1A)  # 0x12 fixed bits + bit 3: off-line (cover open, paper out)
    try:
        found = probe_network_printer("127.0.0.1", printer.port)
    finally:
        printer.close()
    assert found.path == f"tcp://127.0.0.1:{printer.port}"
    assert found.details == {"reachable": "yes", "escpos": "yes", "online": "no", "status": "0x1a"}


def test_an_unreachable_network_printer_is_listed_with_the_reason(box: FakeBox) -> None:
    port = closed_port()
    found = discover(box.sys, box.dev, printer_hosts=[f"127.0.0.1:{port}"])
    (tcp,) = [d for d in found if d.path.startswith("tcp://")]
    assert tcp.details["reachable"] == "no" and "refused" in tcp.details["error"].lower()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.5", ("10.0.0.5", 9100)),
        ("printer.lan:9101", ("printer.lan", 9101)),
        ("[::1]:9100", ("::1", 9100)),
    ],
)
def test_printer_hosts_parse_with_a_default_port(value: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(value) == expected


def test_a_bad_printer_port_is_a_config_error_naming_it() -> None:
    with pytest.raises(DeviceConfigError, match="'p:0'"):
        parse_host_port("p:0")


def test_ieee1284_ids_accept_long_key_names() -> None:
    assert parse_ieee1284_id("MANUFACTURER:Star;MODEL:TSP100;COMMAND SET:STAR;") == {
        "MFG": "Star",
        "MDL": "TSP100",
        "CMD": "STAR",
    }


def test_capability_bitmaps_are_read_from_the_lowest_word_whatever_the_word_size() -> None:
    assert types_digits_and_enter("120013", "ffffffff fffffffe")  # 32-bit kernel
    assert types_digits_and_enter("120013", "fffffffffffffffe")  # 64-bit kernel
    assert not types_digits_and_enter("120013", "fffffffe 0")  # keys only above bit 32
    assert not types_digits_and_enter("4", "fffffffe")  # EV_REL only: a mouse wheel
    assert not types_digits_and_enter("", "")


def test_found_devices_are_hashable_values() -> None:
    one = FoundDevice("serial", "/dev/ttyUSB0", "x", {"a": "1"})
    assert one == dataclasses.replace(one) and hash(one) == hash(dataclasses.replace(one))
