"""Input devices that look like keyboard-wedge barcode scanners.

A scanner in keyboard mode is, to the kernel, a keyboard: it has the digit keys and Enter. So is the shop's
real keyboard, so a keyboard only counts as a scanner when its name or its USB vendor says so. Some scanners
expose a second event node without keys; the capability check drops it. The reported path is
/dev/input/by-path, which tells two identical scanners apart (their by-id links collide).
"""

from __future__ import annotations

from pathlib import Path

from devices.discovery.found import FoundDevice, each_entry
from devices.discovery.sysfs import NodeLinks, list_dir, read_attr, usb_details, usb_device_of

SCANNER_VENDORS = {
    "05e0": "Symbol/Zebra",
    "0c2e": "Honeywell (Metrologic)",
    "0536": "Hand Held Products (Honeywell)",
    "067e": "Intermec",
    "05f9": "Datalogic (PSC)",
    "080c": "Datalogic",
    "065a": "Opticon",
    "1eab": "Newland",
}
SCANNER_WORDS = ("scanner", "barcode", "bar code", "kbw")  # "HID KBW" = keyboard wedge, on many OEM scanners

_EV_KEY = 0x01
_DIGIT_KEYS = range(2, 12)  # KEY_1 … KEY_0
_KEY_ENTER = 28


def find_scanners(sysfs_root: Path, dev_root: Path) -> list[FoundDevice]:
    links = NodeLinks(dev_root / "input")
    events = [p for p in list_dir(sysfs_root / "class" / "input") if p.name.startswith("event")]
    return list(each_entry("scanner", events, lambda e: _inspect(e, sysfs_root, dev_root, links)))


def types_digits_and_enter(ev_bits: str, key_bits: str) -> bool:
    """From sysfs `capabilities/ev` and `capabilities/key` (hex words, most significant first).

    Only the lowest 32 bits are read: the keys needed all sit there, and a 32-bit userland on a 64-bit
    kernel (Raspberry Pi OS) cannot know the word size the kernel printed with.
    """
    ev = _lowest_word(ev_bits)
    keys = _lowest_word(key_bits)
    wanted = [*_DIGIT_KEYS, _KEY_ENTER]
    return bool(ev & (1 << _EV_KEY)) and all(keys & (1 << k) for k in wanted)


def scanner_reason(name: str, vendor: str) -> str | None:
    """Why a keyboard is taken for a scanner, or None if nothing says it is one."""
    lowered = name.lower()
    for word in SCANNER_WORDS:
        if word in lowered:
            return f"name contains {word!r}"
    if vendor.lower() in SCANNER_VENDORS:
        return f"USB vendor {vendor} is {SCANNER_VENDORS[vendor.lower()]}"
    return None


def _lowest_word(bits: str) -> int:
    words = bits.split()
    return int(words[-1], 16) & 0xFFFFFFFF if words else 0


def _inspect(event: Path, sysfs_root: Path, dev_root: Path, links: NodeLinks) -> FoundDevice | None:
    device = event / "device"
    capabilities = device / "capabilities"
    if not types_digits_and_enter(read_attr(capabilities / "ev"), read_attr(capabilities / "key")):
        return None
    name = read_attr(device / "name")
    reason = scanner_reason(name, read_attr(device / "id" / "vendor"))
    if reason is None:
        return None
    path, details = links.path_for(dev_root / "input" / event.name)
    details |= usb_details(usb_device_of(event.resolve(), sysfs_root))
    details["why"] = reason
    return FoundDevice("scanner", path, name, details)
