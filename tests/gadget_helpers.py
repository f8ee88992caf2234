"""The USB gadget set-up scripts (systemd/*-gadget-setup.sh) run against a stand-in configfs: a folder tree
where the kernel's would be, and a stand-in device controller that can be there or not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SYSTEMD = Path(__file__).resolve().parent.parent / "systemd"


def run_setup(tmp_path: Path, script: Path, *args: str, udc: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs `script` as its unit would; `udc` False: no device controller (yet)."""
    (tmp_path / "cfg" / "usb_gadget").mkdir(parents=True, exist_ok=True)
    (tmp_path / "udc").mkdir(exist_ok=True)
    if udc:
        (tmp_path / "udc" / "fe980000.usb").mkdir(exist_ok=True)
    env = {**os.environ, "CONFIGFS": str(tmp_path / "cfg"), "UDC_CLASS": str(tmp_path / "udc")}
    env |= {"HID_SERIAL": "10000000abcdef01", "UDC_WAIT": "0"}
    return subprocess.run(["sh", str(script), *args], env=env, capture_output=True, text=True, timeout=30)


def gadget(tmp_path: Path) -> Path:
    """The composite gadget's folder in the stand-in configfs."""
    return tmp_path / "cfg" / "usb_gadget" / "tillbridge"
