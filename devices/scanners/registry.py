"""Scanners by type name, so configuration can say `type = "serial"` and the demo `type = "sim"`.

The box's own backends are named by import path and imported only when chosen, like python-can's interface
table. Any other type is a plug-in: an entry point in the `tillbridge.scanners` group. The simulated scanner
is one (declared in pyproject.toml), so `devices` never names the simulators, and on the box, whose wheel has
no simulators, `type = "sim"` is refused naming the missing module.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from devices.errors import DeviceConfigError
from devices.scanners.base import Scanner

SCANNER_TYPES: Mapping[str, str] = {
    "evdev": "devices.scanners.evdev_scanner:EvdevScanner",
    "serial": "devices.scanners.serial_scanner:SerialScanner",
}
PLUGIN_GROUP = "tillbridge.scanners"


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


def scanner_types() -> dict[str, str]:
    """Every scanner type this installation knows, by import path: the built-in ones, then the plug-ins
    (a plug-in cannot take a built-in type's name)."""
    plugins = {ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP)}
    return {
        **SCANNER_TYPES,
        **{name: path for name, path in sorted(plugins.items()) if name not in SCANNER_TYPES},
    }


def _backend(name: str, kind: object) -> Callable[..., Any]:
    types = scanner_types()
    if not isinstance(kind, str) or kind not in types:
        known = ", ".join(types)
        raise DeviceConfigError(f"scanner {name!r}: unknown type {kind!r}: use one of {known}")
    module, _, attr = types[kind].partition(":")
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise DeviceConfigError(
            f"scanner {name!r}: type {kind!r} needs {module}, which is not installed here ({exc.name})"
        ) from exc
    factory: Callable[..., Any] = getattr(loaded, attr)
    return factory
