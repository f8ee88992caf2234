"""Printers: usblp nodes (/dev/usb/lp*), USB printer-class interfaces no driver holds, and network printers.

python-escpos detaches usblp to talk to a printer through pyusb, so a printer can be present without an lp
node; the class-07 interface still shows it. Serial printers cannot be found without printing: not tried.
"""

from __future__ import annotations

import socket
from pathlib import Path

from devices.discovery.found import FoundDevice, each_entry
from devices.discovery.sysfs import link_name, list_dir, read_attr, usb_details, usb_device_of, usb_name
from devices.errors import DeviceConfigError

PRINTER_CLASS = "07"
RAW_PORT = 9100
DLE_EOT_PRINTER = b"\x10\x04\x01"  # ESC/POS real-time status; answered, never printed, by ESC/POS printers


def find_usb_printers(sysfs_root: Path, dev_root: Path) -> list[FoundDevice]:
    lp_names = {p.name for p in list_dir(sysfs_root / "class" / "usbmisc") if p.name.startswith("lp")}
    lp_names |= {p.name for p in list_dir(dev_root / "usb") if p.name.startswith("lp")}
    lps = [sysfs_root / "class" / "usbmisc" / name for name in sorted(lp_names)]
    found = list(each_entry("printer", lps, lambda lp: _inspect_lp(lp, sysfs_root, dev_root)))
    held = {(lp / "device").resolve() for lp in lps}
    interfaces = [p for p in list_dir(sysfs_root / "bus" / "usb" / "devices") if ":" in p.name]
    found += each_entry("printer", interfaces, lambda i: _inspect_interface(i, sysfs_root, held))
    return found


def parse_ieee1284_id(text: str) -> dict[str, str]:
    """`MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;` → {"MFG": "EPSON", …}, long key names folded to short ones."""
    fields: dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.partition(":")
        if sep:
            fields[key.strip().upper()] = value.strip()
    aliases = {"MANUFACTURER": "MFG", "MODEL": "MDL", "COMMAND SET": "CMD"}
    return {aliases.get(k, k): v for k, v in fields.items()}


def _inspect_lp(lp: Path, sysfs_root: Path, dev_root: Path) -> FoundDevice:
    node = dev_root / "usb" / lp.name
    interface = (lp / "device").resolve()
    usb = usb_device_of(interface, sysfs_root) if lp.exists() else None
    ieee = parse_ieee1284_id(read_attr(interface / "ieee1284_id")) if lp.exists() else {}
    details = usb_details(usb) | {"driver": "usblp"}
    if "CMD" in ieee:
        details["commands"] = ieee["CMD"]
    name = " ".join(v for v in (ieee.get("MFG"), ieee.get("MDL")) if v) or usb_name(usb, lp.name)
    return FoundDevice("printer", str(node), name, details)


def _inspect_interface(interface: Path, sysfs_root: Path, held: set[Path]) -> FoundDevice | None:
    resolved = interface.resolve()
    if read_attr(interface / "bInterfaceClass") != PRINTER_CLASS or resolved in held:
        return None
    usb = usb_device_of(resolved, sysfs_root)
    details = usb_details(usb) | {
        "driver": link_name(interface / "driver") or "none",
        "interface": interface.name,
    }
    path = f"usb:{details.get('usb_id', '?')}"  # what python-escpos's Usb(idVendor, idProduct) needs
    return FoundDevice("printer", path, usb_name(usb, interface.name), details)


def parse_host_port(value: str, default_port: int = RAW_PORT) -> tuple[str, int]:
    """`host`, `host:port` or `[v6addr]:port` → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or (":" in host and not host.startswith("[")):
        return value.strip("[]"), default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DeviceConfigError(f"printer host {value!r}: port must be a number from 1 to 65535")
    return host.strip("[]"), int(port)


def probe_network_printer(host: str, port: int = RAW_PORT, timeout_s: float = 1.0) -> FoundDevice:
    """Connects to a raw printing port and asks for ESC/POS status; reports what answered, or why not."""
    path = f"tcp://{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            conn.sendall(DLE_EOT_PRINTER)
            reply = _recv_one(conn)
    except OSError as exc:
        return FoundDevice("printer", path, "", {"reachable": "no", "error": str(exc) or type(exc).__name__})
    return FoundDevice("printer", path, "network printer", {"reachable": "yes"} | describe_status(reply))


def describe_status(reply: bytes) -> dict[str, str]:
    """DLE EOT 1 replies `0xx1xx10`; bit 3 set means off-line (cover open, paper out, error)."""
    if not reply:
        return {"escpos": "no status reply (not ESC/POS, or status disabled)"}
    byte = reply[0]
    if byte & 0x93 != 0x12:
        return {"escpos": f"unexpected status reply 0x{byte:02x}"}
    return {"escpos": "yes", "online": "no" if byte & 0x08 else "yes", "status": f"0x{byte:02x}"}


def _recv_one(conn: socket.socket) -> bytes:
    try:
        return conn.recv(1)
    except TimeoutError:
        return b""
