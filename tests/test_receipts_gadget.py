"""The box as a USB printer: the gadget set-up script against a stand-in configfs (composite with the
keyboard gadget), and the forwarding through its seam — a pseudo-terminal stands in for /dev/g_printer0,
the virtual printer for the real one."""

from __future__ import annotations

import configparser
import logging
import os
import subprocess
import threading
from pathlib import Path

from devices.printers.transports import TcpTransport
from devices.receipts import ParsedReceipt, preset
from devices.receipts.gadget import GadgetPrinterBridge
from devices.receipts.tap import CaptureQueue, ReceiptWorker
from simulators.pos import Item, PtyEnd, Sale, receipt_bytes
from simulators.printer import VirtualPrinter
from tests.gadget_helpers import SYSTEMD, gadget, run_setup
from tests.receipts_helpers import Collector

SCRIPT = SYSTEMD / "printer-gadget-setup.sh"
HID_SCRIPT = SYSTEMD / "hid-gadget-setup.sh"


def as_configfs(folder: Path, keep: tuple[str, ...] = ()) -> None:
    """In configfs a folder's attribute files go with its rmdir; in the stand-in they are removed first."""
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.name not in keep:
            path.unlink()


def test_setup_makes_a_printer_function_and_binds_the_gadget(tmp_path: Path) -> None:
    result = run_setup(tmp_path, SCRIPT)
    assert result.returncode == 0, result.stderr
    function = gadget(tmp_path) / "functions" / "printer.usb0"
    assert (
        function / "pnp_string"
    ).read_text() == "MFG:tillbridge;MDL:receipt relay;CMD:ESC/POS;CLS:PRINTER;\n"
    assert (function / "q_len").read_text() == "10\n"
    assert (gadget(tmp_path) / "configs" / "c.1" / "printer.usb0").resolve() == function
    assert (gadget(tmp_path) / "UDC").read_text() == "fe980000.usb\n"
    assert "/dev/g_printer0" in result.stderr


def test_beside_the_keyboard_gadget_both_functions_share_the_one_device_port(tmp_path: Path) -> None:
    assert run_setup(tmp_path, HID_SCRIPT).returncode == 0
    result = run_setup(tmp_path, SCRIPT)
    assert result.returncode == 0, result.stderr
    links = sorted(p.name for p in (gadget(tmp_path) / "configs" / "c.1").iterdir() if p.is_symlink())
    assert links == ["hid.usb0", "printer.usb0"]
    assert (gadget(tmp_path) / "UDC").read_text() == "fe980000.usb\n"
    tree = {p: p.read_bytes() for p in (tmp_path / "cfg").rglob("*") if p.is_file()}
    again = run_setup(tmp_path, SCRIPT)
    assert again.returncode == 0 and "already has a printer" in again.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "cfg").rglob("*") if p.is_file()} == tree
    as_configfs(gadget(tmp_path) / "functions" / "printer.usb0")
    removed = run_setup(tmp_path, SCRIPT, "remove")
    assert removed.returncode == 0, removed.stderr
    assert not (gadget(tmp_path) / "functions" / "printer.usb0").exists()
    assert (gadget(tmp_path) / "configs" / "c.1" / "hid.usb0").is_symlink()  # the keyboard goes on
    assert (gadget(tmp_path) / "UDC").read_text() == "fe980000.usb\n"


def test_without_a_controller_it_stays_unbound_and_binds_once_one_appears(tmp_path: Path) -> None:
    result = run_setup(tmp_path, SCRIPT, udc=False)
    assert result.returncode == 0 and "no USB device controller" in result.stderr
    assert not (gadget(tmp_path) / "UDC").exists()
    assert run_setup(tmp_path, SCRIPT).returncode == 0
    assert (gadget(tmp_path) / "UDC").read_text() == "fe980000.usb\n"
    assert subprocess.run(["sh", "-n", str(SCRIPT)], check=False).returncode == 0
    assert run_setup(tmp_path, SCRIPT, "frobnicate").returncode == 1
    assert os.access(SCRIPT, os.X_OK)


def test_the_unit_runs_the_script_after_the_keyboard_and_before_the_agent() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(SYSTEMD / "tillbridge-printer-gadget.service")
    assert "tillbridge-hid-gadget.service" in unit["Unit"]["After"].split()
    assert "tillbridge-agent.service" in unit["Unit"]["Before"].split()
    service = unit["Service"]
    assert service["Type"] == "oneshot" and service["RemainAfterExit"] == "yes"
    assert service["ExecStart"].split()[0].endswith("/" + SCRIPT.name)
    assert service["ExecStop"].split()[-1] == "remove"


def test_the_pos_prints_over_usb_through_the_box_and_status_replies_come_back(caplog) -> None:
    caplog.set_level(logging.WARNING)
    host = PtyEnd()  # the POS PC's end; the box opens host.path as it would /dev/g_printer0
    collected: Collector[object] = Collector()
    template = preset("code-columns")
    tap = CaptureQueue()
    worker = ReceiptWorker(tap, lambda receipt: collected(template.parse(receipt))).start()
    sale = Sale("000900", (Item("1001", "Leche entera 1 L", 99),))
    with VirtualPrinter() as printer:
        bridge = GadgetPrinterBridge(TcpTransport(*printer.address, timeout=5), tap, node=host.path)
        thread = threading.Thread(target=bridge.run, daemon=True)
        thread.start()
        try:
            host.timeout = 5
            host.write(b"\x10\x04\x01")
            assert host.read(1) == b"\x12"  # DLE EOT 1 answered by the printer, through the box
            data = receipt_bytes(sale)
            host.write(data)
            printer.wait_for_tickets(1)
            (outcome,) = collected.wait(1)
            assert isinstance(outcome, ParsedReceipt) and outcome.total_cents == 99
            printer.unplug()  # the real printer goes away: logged, the box keeps trying
            host.write(b"\x10\x04\x01")  # lost with the printer, as it would be without the box
            printer.plug()
            host.timeout = 0.5
            for _ in range(20):  # a POS asks again when its status query goes unanswered
                host.write(b"\x10\x04\x01")
                if host.read(1) == b"\x12":
                    break
            else:
                raise AssertionError("no status reply after the printer came back")
        finally:
            bridge.stop.set()
            thread.join(5)
            worker.stop()
            host.close()
    assert not thread.is_alive()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(m.startswith("USB printer gadget: the relay to printer tcp://") for m in warnings), warnings
