"""Finds the scanners, serial ports, scales and printers plugged into the box, for the installer.

Reads sysfs and udev's /dev links (both roots configurable, so tests use fake trees). Probing is opt-in:
it writes to serial ports (the Toledo 8217 echo request) and connects to network printers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from devices.discovery.found import KINDS, FoundDevice, Kind, sort_key
from devices.discovery.printers import find_usb_printers, parse_host_port, probe_network_printer
from devices.discovery.scanners import find_scanners
from devices.discovery.serial_ports import find_serial_ports
from devices.discovery.toledo_probe import PROTOCOL, probe_toledo_8217
from devices.errors import DeviceIOError

__all__ = [
    "KINDS",
    "FoundDevice",
    "Kind",
    "discover",
    "parse_host_port",
    "probe_network_printer",
    "probe_toledo_8217",
]


def discover(
    sysfs_root: str | Path = "/sys",
    dev_root: str | Path = "/dev",
    *,
    probe: bool = False,
    probe_timeout_s: float = 0.3,
    printer_hosts: Sequence[str] = (),
) -> list[FoundDevice]:
    """Everything found, sorted by kind and path; a bad entry appears with an `error` detail, never raises.

    `probe` asks every serial port whether it is a Toledo 8217 scale; `printer_hosts` ("host[:port]") are
    connected to and asked for ESC/POS status. Raises only `DeviceConfigError` for a malformed host.
    """
    sysfs, dev = Path(sysfs_root), Path(dev_root)
    found = [*find_scanners(sysfs, dev), *find_serial_ports(sysfs, dev), *find_usb_printers(sysfs, dev)]
    if probe:
        found = [probe_scale(d, probe_timeout_s) if d.kind == "serial" else d for d in found]
    found += [probe_network_printer(*parse_host_port(h)) for h in printer_hosts]
    return sorted(found, key=sort_key)


def probe_scale(port: FoundDevice, timeout_s: float) -> FoundDevice:
    """The serial port again: as a scale if it answered a probe, else with what the probe saw in details."""
    if port.details.get("console") == "yes":
        return dataclasses.replace(port, details=port.details | {"probe": "skipped: kernel console"})
    try:
        answered = probe_toledo_8217(port.path, timeout_s)
    except DeviceIOError as exc:
        return dataclasses.replace(port, details=port.details | {"probe": f"failed: {exc}"})
    if answered:
        return dataclasses.replace(port, kind="scale", details=port.details | {"protocol": PROTOCOL})
    return dataclasses.replace(port, details=port.details | {"probe": f"no answer to {PROTOCOL} echo"})
