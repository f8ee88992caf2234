"""From a validated `AgentConfig` to the parts the daemon runs: devices, services, settings.

The one place that knows which driver serves which config section, so `agent.py` stays about the process.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from devices.barcodes import BarcodeConfig
from devices.gpio import GpioConfig
from devices.hid import HidForwarder
from devices.printers import Printer, PrinterConfig
from devices.scales import codec_class
from devices.scanners import open_scanner
from firmware_agent.agent import AgentSettings, DeviceRunner, Service
from firmware_agent.config import (
    AgentConfig,
    EvdevScannerConfig,
    ScannerConfig,
    SerialScannerConfig,
    SimScannerConfig,
)
from firmware_agent.forwarding import forward_committed
from firmware_agent.indicators import Indicators
from firmware_agent.printing import PrintService
from firmware_agent.selftest import selftest
from firmware_agent.store import StoreLimits
from firmware_agent.updates.guards import ActivityMarker
from firmware_agent.weighing import ScaleService

MB = 1024 * 1024


def settings_from_config(config: AgentConfig) -> AgentSettings:
    forward = config.forward
    forwarders = [HidForwarder(str(forward.device), layout=forward.layout)] if forward.enabled else []
    return AgentSettings(
        box_id=config.box.id,
        data_dir=config.box.data_dir,
        barcodes=BarcodeConfig(variable_measure_layouts=config.barcodes.variable_measure_layouts),
        limits=StoreLimits(config.store.journal_max_mb * MB, config.store.journal_warn_ratio),
        devices=[*build_devices(config), *forwarders],
        # the update guard reads the busy marker: no update starts while the till is scanning
        listeners=[ActivityMarker(config.box.data_dir), *(forward_committed(f) for f in forwarders)],
        services=build_services(config),
        watchdog=config.box.watchdog,
    )


def build_devices(config: AgentConfig) -> list[DeviceRunner]:
    return [open_scanner(_scanner_options(s)) for s in config.scanner]


def _scanner_options(scanner: ScannerConfig) -> dict[str, Any]:
    """A validated scanner section in the driver's vocabulary."""
    match scanner:
        case EvdevScannerConfig():
            where = {"path": scanner.device} if scanner.device else {"match": scanner.name_match}
            return {
                "type": "evdev",
                "name": scanner.name,
                "layout": scanner.layout,
                "terminators": scanner.terminators,
                **where,
            }
        case SerialScannerConfig():
            return {
                "type": "serial",
                "name": scanner.name,
                "url": scanner.port,
                "terminator": scanner.terminator,
                "baudrate": scanner.baudrate,
                "bytesize": scanner.bytesize,
                "parity": scanner.parity,
                "stopbits": scanner.stopbits,
            }
        case SimScannerConfig():
            return {
                "type": "sim",
                "name": scanner.name,
                "barcodes": scanner.barcodes,
                "interval": scanner.interval_s,
            }


def build_services(config: AgentConfig) -> list[Service]:
    services: list[Service] = []
    g = config.gpio
    gpio = GpioConfig(
        led_pin=g.led_pin, button_pin=g.button_pin, buzzer_pin=g.buzzer_pin, hold_time_s=g.hold_time_s
    )
    if gpio.any_pin:
        services.append(Indicators(gpio))
    if config.scale is not None:
        s = config.scale
        defaults = codec_class(s.protocol).defaults
        settings = defaults.override(s.baudrate, s.bytesize, s.parity, s.stopbits)
        services.append(ScaleService(s.protocol, s.port, settings, s.poll_interval_s))
    if config.printer is not None:
        services.append(print_service(config))  # after the indicators: it takes over the button
    return services


def print_service(config: AgentConfig) -> PrintService:
    assert config.printer is not None
    url = config.printer
    printer = Printer(
        replace(
            PrinterConfig.from_url(url.url), paper_mm=url.paper_mm, codepage=url.codepage, profile=url.profile
        )
    )
    service = PrintService(
        printer, selftest=lambda: selftest(config.box.id, service.core, link="not configured")
    )
    return service
