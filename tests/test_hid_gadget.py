"""The gadget setup script and its unit, run against a stand-in configfs and parsed as systemd would."""

from __future__ import annotations

import configparser
import os
import subprocess
from pathlib import Path

from devices.hid import BOOT_KEYBOARD_DESCRIPTOR
from tests.gadget_helpers import SYSTEMD, gadget, run_setup

SCRIPT = SYSTEMD / "hid-gadget-setup.sh"


def test_setup_creates_a_boot_keyboard_bound_to_the_controller(tmp_path: Path) -> None:
    result = run_setup(tmp_path, SCRIPT)
    assert result.returncode == 0, result.stderr
    folder = gadget(tmp_path)
    function = folder / "functions" / "hid.usb0"
    assert (function / "report_desc").read_bytes() == BOOT_KEYBOARD_DESCRIPTOR
    assert [(function / name).read_text() for name in ("protocol", "subclass", "report_length")] == [
        "1\n",
        "1\n",
        "8\n",
    ]
    assert (folder / "configs" / "c.1" / "hid.usb0").resolve() == function
    assert (folder / "strings" / "0x409" / "serialnumber").read_text() == "10000000abcdef01\n"
    assert (folder / "UDC").read_text() == "fe980000.usb\n"
    assert "bound to fe980000.usb" in result.stderr


def test_setup_twice_changes_nothing(tmp_path: Path) -> None:
    assert run_setup(tmp_path, SCRIPT).returncode == 0
    tree = {p: p.read_bytes() for p in (tmp_path / "cfg").rglob("*") if p.is_file()}
    again = run_setup(tmp_path, SCRIPT)
    assert again.returncode == 0 and "already bound" in again.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "cfg").rglob("*") if p.is_file()} == tree


def test_without_a_device_controller_it_leaves_the_gadget_unbound(tmp_path: Path) -> None:
    result = run_setup(tmp_path, SCRIPT, udc=False)
    assert result.returncode == 0
    assert "no USB device controller" in result.stderr
    assert not (gadget(tmp_path) / "UDC").exists()
    assert run_setup(tmp_path, SCRIPT).returncode == 0  # the controller appeared: a second run binds it
    assert (gadget(tmp_path) / "UDC").read_text() == "fe980000.usb\n"


def test_bad_arguments_and_syntax(tmp_path: Path) -> None:
    assert subprocess.run(["sh", "-n", str(SCRIPT)], check=False).returncode == 0
    result = run_setup(tmp_path, SCRIPT, "frobnicate")
    assert result.returncode == 1 and "usage:" in result.stderr
    assert os.access(SCRIPT, os.X_OK)


def test_unit_is_a_oneshot_that_runs_the_script_before_the_agent() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(SYSTEMD / "tillbridge-hid-gadget.service")
    assert unit["Unit"]["ConditionPathIsDirectory"] == "/sys/kernel/config"
    assert "tillbridge-agent.service" in unit["Unit"]["Before"].split()
    service = unit["Service"]
    assert service["Type"] == "oneshot" and service["RemainAfterExit"] == "yes"
    assert service["ExecStart"].split()[0].endswith("/" + SCRIPT.name)
    assert service["ExecStop"].split()[-1] == "remove"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
