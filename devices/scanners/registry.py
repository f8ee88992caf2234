"""Scanners by type name, so configuration can say `type = "serial"` and the demo `type = "sim"`.

Backends are named by import path and imported only when chosen, like python-can's interface table; the
simulator is registered like any backend.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from devices.errors import DeviceConfigError
from devices.scanners.base import Scanner

SCANNER_TYPES: Mapping[str, str] = {
    "evdev": "devices.scanners.evdev_scanner:EvdevScanner",
    "serial": "devices.scanners.serial_scanner:SerialScanner",
    "sim": "simulators.scanner:SimulatedScanner",
}


def open_scanner(config: Mapping[str, Any]) -> Scanner:
    """A scanner from a config table: `type` and `name`, the rest passed as the backend's options.

    Raises `DeviceConfigError` naming the scanner and the option for an unknown type or option.
    """
    options = dict(config)
    name = options.pop("name", None)
    kind = options.pop("type", None)
    if not isinstance(name, str) or not name:
        raise DeviceConfigError(f"scanner config {dict(config)!r} needs a name")
    factory = _backend(name, kind)
    try:
        inspect.signature(factory).bind(name, **options)
    except TypeError as exc:
        raise DeviceConfigError(f"scanner {name!r} (type {kind}): {exc}") from exc
    scanner: Scanner = factory(name, **options)
    return scanner


def _backend(name: str, kind: object) -> Callable[..., Any]:
    if not isinstance(kind, str) or kind not in SCANNER_TYPES:
        known = ", ".join(SCANNER_TYPES)
        raise DeviceConfigError(f"scanner {name!r}: unknown type {kind!r}: use one of {known}")
    module, _, attr = SCANNER_TYPES[kind].partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return factory
