"""Serial line settings: every protocol has defaults, every installation may override them.

The settings live on the scale (a service menu), so the box must follow whatever the installer set there;
nothing below the driver hard-codes a baud rate or parity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from devices.errors import DeviceConfigError

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
_SHORT = re.compile(r"\s*(\d+)[\s,/-]*([5-8])([NEOMS])([12]|1\.5)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class SerialSettings:
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1

    def __post_init__(self) -> None:
        if self.baudrate not in BAUD_RATES:
            raise DeviceConfigError(f"baud rate {self.baudrate} is not one of {BAUD_RATES}")
        if self.bytesize not in (5, 6, 7, 8):
            raise DeviceConfigError(f"byte size {self.bytesize} must be 5, 6, 7 or 8")
        if self.parity not in ("N", "E", "O", "M", "S"):
            raise DeviceConfigError(f"parity {self.parity!r} must be one of N, E, O, M, S")
        if self.stopbits not in (1, 1.5, 2):
            raise DeviceConfigError(f"stop bits {self.stopbits} must be 1, 1.5 or 2")

    @classmethod
    def parse(cls, text: str) -> SerialSettings:
        """Read the form installers write and manuals print: "9600 7E1", "4800-7O1", "9600,8N1"."""
        match = _SHORT.fullmatch(text)
        if not match:
            raise DeviceConfigError(f"serial settings {text!r}: expected e.g. '9600 7E1'")
        stop = float(match[4])
        return cls(int(match[1]), int(match[2]), match[3].upper(), int(stop) if stop.is_integer() else stop)

    def override(
        self,
        baudrate: int | None = None,
        bytesize: int | None = None,
        parity: str | None = None,
        stopbits: float | None = None,
    ) -> SerialSettings:
        """These settings with whichever values were given replaced (None keeps the default)."""
        changes: dict[str, Any] = {
            k: v
            for k, v in {
                "baudrate": baudrate,
                "bytesize": bytesize,
                "parity": parity.upper() if parity else None,
                "stopbits": stopbits,
            }.items()
            if v is not None
        }
        return replace(self, **changes)

    def pyserial_kwargs(self) -> dict[str, Any]:
        return {
            "baudrate": self.baudrate,
            "bytesize": self.bytesize,
            "parity": self.parity,
            "stopbits": self.stopbits,
        }

    def __str__(self) -> str:
        stop = int(self.stopbits) if float(self.stopbits).is_integer() else self.stopbits
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop}"
