"""From a validated `AgentConfig` to the parts the daemon runs: devices, services, settings.

The one place that knows which driver serves which config section, so `agent.py` stays about the process.
"""

from __future__ import annotations

from devices.barcodes import BarcodeConfig
from devices.gpio import GpioConfig
from firmware_agent.agent import AgentSettings, DeviceRunner, Service
from firmware_agent.config import AgentConfig
from firmware_agent.indicators import Indicators
from firmware_agent.store import StoreLimits

MB = 1024 * 1024


def settings_from_config(config: AgentConfig) -> AgentSettings:
    return AgentSettings(
        box_id=config.box.id,
        data_dir=config.box.data_dir,
        barcodes=BarcodeConfig(variable_measure_layouts=config.barcodes.variable_measure_layouts),
        limits=StoreLimits(config.store.journal_max_mb * MB, config.store.journal_warn_ratio),
        devices=build_devices(config),
        services=build_services(config),
        watchdog=config.box.watchdog,
    )


def build_devices(config: AgentConfig) -> list[DeviceRunner]:
    return []


def build_services(config: AgentConfig) -> list[Service]:
    services: list[Service] = []
    g = config.gpio
    gpio = GpioConfig(
        led_pin=g.led_pin, button_pin=g.button_pin, buzzer_pin=g.buzzer_pin, hold_time_s=g.hold_time_s
    )
    if gpio.any_pin:
        services.append(Indicators(gpio))
    return services
