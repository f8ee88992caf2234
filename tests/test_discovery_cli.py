"""`tillbridge devices` as an installer runs it: a subprocess over a fake tree, table and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.discovery_helpers import EchoScale, FakeBox, Pty, StatusPrinter

EPSON_IEEE = "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;"
SCANNER_LINK = "platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.1:1.0-event-kbd"


def fake_box(tmp_path: Path) -> FakeBox:
    box = FakeBox(tmp_path)
    scanner = box.interface(box.usb_device("1-1.1", "05e0", "1200", "Symbol Technologies", "LS2208"))
    box.input_node(scanner, "Symbol Technologies, Inc. LS2208", "05e0", by_path=SCANNER_LINK)
    epson = box.interface(box.usb_device("2-1", "04b8", "0e15"), cls="07", driver="usblp")
    box.usblp(epson, 0, EPSON_IEEE)
    return box


def run_devices(box: FakeBox, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "tillbridge",
        "devices",
        "--sysfs-root",
        str(box.sys),
        "--dev-root",
        str(box.dev),
    ]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, check=False)


def test_json_lists_every_device_with_kind_path_name_and_details(tmp_path: Path) -> None:
    box = fake_box(tmp_path)
    printer = StatusPrinter(0x12)
    try:
        result = run_devices(box, "--json", "--printer-host", f"127.0.0.1:{printer.port}")
    finally:
        printer.close()
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert [(d["kind"], d["path"], d["name"]) for d in found] == [
        ("scanner", str(box.dev / "input/by-path" / SCANNER_LINK), "Symbol Technologies, Inc. LS2208"),
        ("printer", str(box.dev / "usb/lp0"), "EPSON TM-T20II"),
        ("printer", f"tcp://127.0.0.1:{printer.port}", "network printer"),
    ]
    assert found[0]["details"]["why"] == "USB vendor 05e0 is Symbol/Zebra"
    assert found[2]["details"]["online"] == "yes"


def test_the_table_has_a_header_and_one_aligned_row_per_device(tmp_path: Path) -> None:
    box = fake_box(tmp_path)
    result = run_devices(box)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["KIND", "PATH", "NAME", "DETAILS"]
    assert [row.split()[0] for row in rows] == ["scanner", "printer"]
    assert rows[1].split()[1] == str(box.dev / "usb/lp0")
    assert "EPSON TM-T20II" in rows[1] and "commands=ESC/POS" in rows[1]
    name_column = header.index("NAME")
    assert all(row[name_column - 2 : name_column] == "  " for row in rows)


def test_nothing_found_says_so(tmp_path: Path) -> None:
    result = run_devices(FakeBox(tmp_path), "--probe")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "(nothing found)"


def test_a_bad_printer_host_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    result = run_devices(FakeBox(tmp_path), "--printer-host", "shop-printer:http")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "tillbridge devices: printer host 'shop-printer:http': port must be a number from 1 to 65535"
    )


def test_probe_reports_the_scale_behind_a_serial_port(tmp_path: Path) -> None:
    box, pty = FakeBox(tmp_path), Pty()
    adapter = box.usb_device("1-1.2", "0403", "6001", "FTDI", "FT232R USB UART")
    node = box.usb_tty(box.interface(adapter, cls="ff"), "ttyUSB0", "ftdi_sio", by_id="usb-FTDI-if00-port0")
    node.unlink()
    node.symlink_to(pty.slave_path)
    scale = EchoScale(pty)
    try:
        result = run_devices(box, "--json", "--probe")
    finally:
        scale.close()
        pty.close()
    assert result.returncode == 0, result.stderr
    (found,) = json.loads(result.stdout)
    assert (found["kind"], found["path"]) == ("scale", str(box.dev / "serial/by-id/usb-FTDI-if00-port0"))
    assert found["details"]["protocol"] == "toledo-8217"
