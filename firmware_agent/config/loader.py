"""Loading and validating the box's config file, and checking that the devices it names are there."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from configspec import build
from firmware_agent.config.problems import InvalidConfig, KeyPath, Problem
from firmware_agent.config.rules import printer_device
from firmware_agent.config.schema import AgentConfig, EvdevScannerConfig, SerialScannerConfig
from firmware_agent.config.tomlfile import read_toml

DEFAULT_CONFIG_PATH = Path("/etc/tillbridge/agent.toml")


def validate(data: Mapping[str, Any], file: str) -> AgentConfig:
    """The config described by `data`, or an `InvalidConfig` listing every problem, each naming `file`."""
    config, problems = build(AgentConfig, data)
    if config is None:
        raise InvalidConfig([replace(p, file=file) for p in problems])
    return config


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> AgentConfig:
    """Read and validate one file; devices are not looked for (see `check_devices`)."""
    return validate(read_toml(path), str(path))


def check_devices(config: AgentConfig, file: str = "") -> list[Problem]:
    """Device nodes the config names that do not exist right now.

    Kept apart from validation because a box starts before its USB devices settle: at start these are
    warnings and the drivers keep looking; `--check-config` reports them as errors.
    """
    return [
        Problem(key, f"{device} does not exist", file)
        for key, device in _device_paths(config)
        if device.startswith("/") and not Path(device).exists()
    ]


def _device_paths(config: AgentConfig) -> Iterator[tuple[KeyPath, str]]:
    """Paths only: pyserial URLs such as socket:// or loop:// name no node to look for."""
    if config.scale is not None:
        yield ("scale", "port"), config.scale.port
    for index, scanner in enumerate(config.scanner):
        if isinstance(scanner, SerialScannerConfig):
            yield ("scanner", index, "port"), scanner.port
        elif isinstance(scanner, EvdevScannerConfig) and scanner.device is not None:
            yield ("scanner", index, "device"), scanner.device
    if config.printer is not None and (device := printer_device(config.printer.url)):
        yield ("printer", "url"), device
    if config.forward.enabled:
        yield ("forward", "device"), str(config.forward.device)


def sample_text() -> str:
    """The commented sample config shipped with the package: every key, its default and what it does."""
    return resources.files("firmware_agent").joinpath("agent.sample.toml").read_text(encoding="utf-8")
