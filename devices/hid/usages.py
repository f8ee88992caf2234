"""HID keyboard usages and the boot keyboard's report descriptor.

`HID_KEYBOARD` is the start of the kernel's `hid_keyboard[256]` table (`drivers/hid/hid-input.c`): index =
HID usage, value = evdev key code. The boot descriptor allows usages 0x00-0x65 only, so the table stops
there. Forwarding needs the inverse, which is ambiguous in one place that matters: usages 0x31 (US `\\`)
and 0x32 (ISO `#`, next to Enter) are both KEY_BACKSLASH; choose per host keyboard (`iso`).
"""

from __future__ import annotations

from collections.abc import Mapping

from devices.scanners.keycodes import KEY_BACKSLASH

# fmt: off
HID_KEYBOARD: tuple[int, ...] = (
      0,   0,   0,   0,  30,  48,  46,  32,  18,  33,  34,  35,  23,  36,  37,  38,  # 0x00
     50,  49,  24,  25,  16,  19,  31,  20,  22,  47,  17,  45,  21,  44,   2,   3,  # 0x10
      4,   5,   6,   7,   8,   9,  10,  11,  28,   1,  14,  15,  57,  12,  13,  26,  # 0x20
     27,  43,  43,  39,  40,  41,  51,  52,  53,  58,  59,  60,  61,  62,  63,  64,  # 0x30
     65,  66,  67,  68,  87,  88,  99,  70, 119, 110, 102, 104, 111, 107, 109, 106,  # 0x40
    105, 108, 103,  69,  98,  55,  74,  78,  96,  79,  80,  81,  75,  76,  77,  71,  # 0x50
     72,  73,  82,  83,  86, 127,                                                    # 0x60
)
# fmt: on

ANSI_BACKSLASH = 0x31
ISO_HASH = 0x32


def _inverse(table: tuple[int, ...]) -> dict[int, int]:
    """The lowest usage for each key code: the one a real keyboard sends for that key."""
    inverse: dict[int, int] = {}
    for usage, code in enumerate(table):
        if code:
            inverse.setdefault(code, usage)
    return inverse


USAGE_FOR_CODE: Mapping[int, int] = _inverse(HID_KEYBOARD)
ISO_USAGE_FOR_CODE: Mapping[int, int] = {**USAGE_FOR_CODE, KEY_BACKSLASH: ISO_HASH}

# Modifier bits of byte 0 of a boot keyboard report.
MOD_LCTRL, MOD_LSHIFT, MOD_LALT, MOD_LGUI = 0x01, 0x02, 0x04, 0x08
MOD_RCTRL, MOD_RSHIFT, MOD_RALT, MOD_RGUI = 0x10, 0x20, 0x40, 0x80
MOD_CTRL = MOD_LCTRL | MOD_RCTRL
MOD_SHIFT = MOD_LSHIFT | MOD_RSHIFT

# HID 1.11 Appendix B.1 boot keyboard: 8 modifier bits, a reserved byte, 5 LED bits + padding, 6 key slots.
BOOT_KEYBOARD_DESCRIPTOR = bytes.fromhex(
    "05 01 09 06 a1 01 05 07 19 e0 29 e7 15 00 25 01 75 01 95 08 81 02 95 01 75 08 81 03 95 05 75 01"
    " 05 08 19 01 29 05 91 02 95 01 75 03 91 03 95 06 75 08 15 00 25 65 05 07 19 00 29 65 81 00 c0"
)
