"""Forwarding scans to the till PC as a USB HID boot keyboard: reports, their decoding, the gadget writer."""

from __future__ import annotations

from devices.hid.forwarder import DEFAULT_GADGET, HidForwarder
from devices.hid.reports import (
    RELEASE,
    REPORT_SIZE,
    decode_reports,
    keystrokes_for_text,
    press_report,
    reports_for_scan,
)
from devices.hid.usages import BOOT_KEYBOARD_DESCRIPTOR, HID_KEYBOARD, USAGE_FOR_CODE

__all__ = [
    "BOOT_KEYBOARD_DESCRIPTOR",
    "DEFAULT_GADGET",
    "HID_KEYBOARD",
    "RELEASE",
    "REPORT_SIZE",
    "USAGE_FOR_CODE",
    "HidForwarder",
    "decode_reports",
    "keystrokes_for_text",
    "press_report",
    "reports_for_scan",
]
