"""From a validated `AgentConfig` to the parts the daemon runs: devices, services, settings.

The one place that knows which driver serves which config section, so `agent.py` stays about the process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from devices.barcodes import BarcodeConfig
from devices.gpio import GpioConfig
from devices.hid import HidForwarder
from devices.printers import Printer, PrinterConfig
from devices.receipts import preset
from devices.scales import codec_class
from devices.scanners import open_scanner
from firmware_agent.agent import Agent, AgentSettings, DeviceRunner, Service
from firmware_agent.bump import BumpButton
from firmware_agent.config import (
    AgentConfig,
    EvdevScannerConfig,
    ScannerConfig,
    SerialScannerConfig,
    SimScannerConfig,
)
from firmware_agent.floor import FloorDesk
from firmware_agent.forwarding import forward_committed
from firmware_agent.indicators import Indicators
from firmware_agent.link import Link, build_link, on_order_printed
from firmware_agent.printing import PrintService
from firmware_agent.receipts import ReceiptService, address
from firmware_agent.scaletap import ScaleTapService
from firmware_agent.selftest import selftest
from firmware_agent.store import StoreLimits
from firmware_agent.updates.guards import ActivityMarker
from firmware_agent.weighing import ScaleService

MB = 1024 * 1024


def build_agent(config: AgentConfig, config_path: Path | None = None) -> Agent:
    """The daemon for `config`; `config_path` lets remote support change the config (`config.set`)."""
    forward = config.forward
    forwarders = [HidForwarder(str(forward.device), layout=forward.layout)] if forward.enabled else []
    services = Services.build(config, config_path)
    agent = Agent(
        AgentSettings(
            box_id=config.box.id,
            data_dir=config.box.data_dir,
            barcodes=BarcodeConfig(variable_measure_layouts=config.barcodes.layouts()),
            limits=StoreLimits(config.store.journal_max_mb * MB, config.store.journal_warn_ratio),
            devices=[*build_devices(config), *forwarders],
            # the update guard reads the busy marker: no update starts while the till is scanning
            listeners=[ActivityMarker(config.box.data_dir), *(forward_committed(f) for f in forwarders)],
            services=[*services.in_start_order(), *_page(config, services, config_path)],
            watchdog=config.box.watchdog,
        )
    )
    if services.link is not None:
        services.link.on_restart = agent.request_restart
    return agent


def _page(config: AgentConfig, services: Services, config_path: Path | None) -> list[Service]:
    """The box's web page, when `[web]` asks for it (imported only then: Flask stays out of a box without)."""
    if config.web is None:
        return []
    from firmware_agent.web.service import BoxPage

    page = BoxPage(
        config.web, config.box.id, config.box.shop, services, config_path, config.mqtt, config.orders.timezone
    )
    return [page]


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


@dataclass
class Services:
    """The services a config asks for, and how they talk to each other."""

    indicators: Indicators | None = None
    scale: ScaleService | None = None
    printing: PrintService | None = None
    link: Link | None = None
    receipts: ReceiptService | None = None
    scale_tap: ScaleTapService | None = None
    stations: tuple[PrintService, ...] = ()  # the order stations' own printers (kitchen, bar)
    bump: BumpButton | None = None  # `[gpio] button_press = "bump"`: the short press moves orders

    @classmethod
    def build(cls, config: AgentConfig, config_path: Path | None) -> Services:
        g = config.gpio
        gpio = GpioConfig(
            led_pin=g.led_pin, button_pin=g.button_pin, buzzer_pin=g.buzzer_pin, hold_time_s=g.hold_time_s
        )
        services = cls(
            indicators=Indicators(gpio) if gpio.any_pin else None,
            scale=scale_service(config) if config.scale is not None else None,
            link=build_link(config, config_path),
        )
        if services.indicators is not None and g.button_press == "bump":
            services.bump = BumpButton(services.indicators, g.bump_station)
        if config.printer is not None:
            services.printing = print_service(config, services.link_state)
            services.stations = station_services(config)
        if config.receipts is not None:
            r = config.receipts
            services.receipts = ReceiptService(
                r.printer,
                address(r.listen),
                r.rules.template() if r.rules is not None else preset(r.template),
                r.combine,
                gadget=r.gadget,
                scanners=r.scanners,
                pos=r.pos,
            )
        if config.scale_tap is not None:
            t = config.scale_tap
            settings = codec_class(t.protocol).defaults.override(t.baudrate, t.bytesize, t.parity, t.stopbits)
            services.scale_tap = ScaleTapService(t.protocol, t.pos_port, t.scale_port, settings)
            if services.receipts is not None:
                services.receipts.journal.tap = True  # the scale witnesses the receipts' weighed lines
        services.connect()
        return services

    def connect(self) -> None:
        link, printing, indicators = self.link, self.printing, self.indicators
        if link is None:
            return
        for service in (printing, *self.stations):
            if service is not None:
                service.on_printed["order"] = on_order_printed  # journals `order_printed`

        def new_order() -> None:
            for service in (printing, *self.stations):
                if service is not None:
                    service.wake()
            if indicators is not None:
                indicators.new_order()

        link.on_order = new_order
        if indicators is not None:
            indicators.link = link

    def floor(self) -> FloorDesk | None:
        """The orders-on-the-floor API (list by stage, move, reprint) for the web page (None: no link)."""
        return None if self.link is None else self.link.floor()

    def link_state(self) -> str:
        if self.link is None:
            return "no cloud link configured"
        return "online" if self.link.online.is_set() else "offline"

    def in_start_order(self) -> list[Service]:
        """Indicators first (the LED shows "starting"); printing after them, as it takes over the button;
        the bump button after printing, as it takes the short press over and leaves it the long one."""
        parts = (
            self.indicators,
            self.scale,
            self.scale_tap,
            self.printing,
            *self.stations,
            self.bump,
            self.receipts,
            self.link,
        )
        return [part for part in parts if part is not None]


def scale_service(config: AgentConfig) -> ScaleService:
    assert config.scale is not None
    s = config.scale
    settings = codec_class(s.protocol).defaults.override(s.baudrate, s.bytesize, s.parity, s.stopbits)
    return ScaleService(s.protocol, s.port, settings, s.poll_interval_s)


def print_service(config: AgentConfig, link_state: Callable[[], str]) -> PrintService:
    assert config.printer is not None
    url = config.printer
    printer = Printer(
        replace(
            PrinterConfig.from_url(url.url), paper_mm=url.paper_mm, codepage=url.codepage, profile=url.profile
        )
    )
    names = frozenset(s.name for s in config.orders.station)
    service = PrintService(
        printer, selftest=lambda: selftest(config.box.id, service.core, link=link_state()), stations=names
    )
    return service


def station_services(config: AgentConfig) -> tuple[PrintService, ...]:
    """A print worker per order station (`[[orders.station]]`), each taking only its own tickets."""
    names = frozenset(s.name for s in config.orders.station)
    services = []
    for station in config.orders.station:
        printer = Printer(
            replace(
                PrinterConfig.from_url(station.url),
                paper_mm=station.paper_mm,
                codepage=station.codepage,
                profile=station.profile,
            )
        )
        service = PrintService(
            printer,
            selftest=lambda: selftest(config.box.id, None, link=""),
            station=station.name,
            stations=names,
        )
        services.append(service)
    return tuple(services)
