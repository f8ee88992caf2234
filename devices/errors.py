"""The devices' exception tree, split by phase and by whether a retry makes sense."""

from __future__ import annotations


class DeviceError(Exception):
    """Root of every error a driver raises on purpose; the message names the device."""


class DeviceUnavailable(DeviceError):
    """The device, or the library it needs, is not present here (unplugged, no evdev, no GPIO)."""


class DeviceConfigError(DeviceError, ValueError):
    """A driver was given settings it cannot use (unknown protocol, bad baud rate)."""


class DeviceIOError(DeviceError, OSError):
    """Reading from or writing to the device failed; reconnecting may help."""


class DeviceTimeout(DeviceError, TimeoutError):
    """The device did not answer in time; retrying may help."""


class ProtocolError(DeviceError, ValueError):
    """The peer sent bytes that do not follow its protocol (line noise, a partial or corrupt frame)."""


class BarcodeError(DeviceError, ValueError):
    """Scan data that cannot be interpreted: the message says what is wrong with it."""
