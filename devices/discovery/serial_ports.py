"""Serial ports with real hardware behind them: USB-serial adapters, CDC-ACM devices, the Pi's PL011 UART.

A tty without a `device` link is virtual (a console); a serial-core tty whose `type` is 0 (PORT_UNKNOWN) is
one of the kernel's placeholder 8250 ports with no UART behind it. (pyserial's list_ports hides `platform`
ports instead, which since Linux 6.5's serial-base bus no longer catches the placeholders, and hid real
platform UARTs such as the Pi's mini UART.) A port whose USB vendor makes scanners is reported as a
scanner in serial (USB-COM) mode.
"""

from __future__ import annotations

from pathlib import Path

from devices.discovery.found import FoundDevice, Kind, each_entry
from devices.discovery.scanners import SCANNER_VENDORS
from devices.discovery.sysfs import (
    NodeLinks,
    link_name,
    list_dir,
    read_attr,
    usb_details,
    usb_device_of,
    usb_name,
)

_PORT_UNKNOWN = "0"
_SERIAL_BASE_PORT = "port"  # the serial-base bus's generic driver: says nothing about the hardware


def find_serial_ports(sysfs_root: Path, dev_root: Path) -> list[FoundDevice]:
    links = NodeLinks(dev_root / "serial")
    ttys = list_dir(sysfs_root / "class" / "tty")
    return list(each_entry("serial", ttys, lambda t: _inspect(t, sysfs_root, dev_root, links)))


def _inspect(tty: Path, sysfs_root: Path, dev_root: Path, links: NodeLinks) -> FoundDevice | None:
    device = tty / "device"
    if not device.exists():
        return None
    if read_attr(tty / "type") == _PORT_UNKNOWN:
        return None
    usb = usb_device_of(device.resolve(), sysfs_root)
    path, details = links.path_for(dev_root / tty.name)
    if read_attr(tty / "console") == "Y":
        details["console"] = "yes"  # the kernel logs here (and a getty may log in): never probed
    details |= usb_details(usb)
    driver = link_name(device / "driver")
    if driver and driver != _SERIAL_BASE_PORT:
        details["driver"] = driver
    vendor = details.get("usb_id", "")[:4]
    kind: Kind = "scanner" if vendor in SCANNER_VENDORS else "serial"
    if kind == "scanner":
        details["why"] = f"USB vendor {vendor} is {SCANNER_VENDORS[vendor]} (serial mode)"
    return FoundDevice(kind, path, usb_name(usb, tty.name), details)
