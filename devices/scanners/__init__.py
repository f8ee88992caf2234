"""Barcode scanners: keyboard-wedge (evdev) and serial backends, their decoders, and a factory by type.

Every scanner has `name` and `run(post, stop)`: it posts `ScanRead` and `DeviceStatus` until `stop` is set.
"""

from __future__ import annotations

from devices.scanners.base import Backoff, ReconnectingScanner, Scanner
from devices.scanners.evdev_input import EvdevInputSource, InputDeviceInfo, InputHandle, InputSource
from devices.scanners.evdev_scanner import EvdevScanner
from devices.scanners.framing import TERMINATORS, LineFramer
from devices.scanners.layouts import GS, LAYOUTS, Layout, get_layout
from devices.scanners.registry import SCANNER_TYPES, open_scanner
from devices.scanners.serial_scanner import SerialScanner
from devices.scanners.wedge import DEFAULT_TERMINATORS, WedgeDecoder

__all__ = [
    "DEFAULT_TERMINATORS",
    "GS",
    "LAYOUTS",
    "SCANNER_TYPES",
    "TERMINATORS",
    "Backoff",
    "EvdevInputSource",
    "EvdevScanner",
    "InputDeviceInfo",
    "InputHandle",
    "InputSource",
    "Layout",
    "LineFramer",
    "ReconnectingScanner",
    "Scanner",
    "SerialScanner",
    "WedgeDecoder",
    "get_layout",
    "open_scanner",
]
