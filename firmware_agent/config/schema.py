"""What the box's config file may say: one frozen dataclass per TOML table, defaults included.

`AgentConfig` is what the rest of the box receives. The validator (`validator.py`) reads only the field
types and their `rule()` metadata, so adding a section (say `[mqtt]`) is adding a dataclass here and a field
to `AgentConfig`. A field without a default is a required key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devices.receipts.template import ReceiptTemplate, TemplateError
from firmware_agent.config.rules import (
    Secret,
    Section,
    absolute_path,
    baud_rate,
    bcm_pin,
    between,
    codepage,
    ident,
    ip_address,
    measure_layout,
    mqtt_url,
    nonempty,
    not_negative,
    positive,
    printer_url,
    ratio,
    receipt_printer,
    receipt_template,
    rule,
    tcp_address,
)

LogLevel = Literal["debug", "info", "warning", "error"]
Layout = Literal["us", "uk", "es", "fr", "de", "it", "pt"]
Terminator = Literal["enter", "kpenter", "tab"]
LineEnd = Literal["CR", "CRLF", "LF", "TAB"]
Parity = Literal["N", "E", "O", "M", "S"]
ByteSize = Literal[5, 6, 7, 8]
StopBits = Literal[1, 2]
ScaleProtocol = Literal["toledo8217", "toledo8213", "dialog06", "casecr12", "cas22", "mtsics", "enq"]


@dataclass(frozen=True, kw_only=True)
class BoxConfig(Section):
    id: str = field(metadata=rule(ident))
    shop: str = field(metadata=rule(ident))
    data_dir: Path = field(default=Path("/var/lib/tillbridge"), metadata=rule(absolute_path))
    log_level: LogLevel = "info"
    watchdog: bool = True


@dataclass(frozen=True, kw_only=True)
class StoreConfig(Section):
    journal_max_mb: int = field(default=256, metadata=rule(positive))
    journal_warn_ratio: float = field(default=0.8, metadata=rule(ratio))


@dataclass(frozen=True, kw_only=True)
class EvdevScannerConfig(Section):
    """A keyboard-wedge scanner, found by its device path or by a part of its name."""

    name: str = field(metadata=rule(nonempty))
    type: Literal["evdev"] = "evdev"
    device: str | None = field(default=None, metadata=rule(absolute_path))
    name_match: str | None = field(default=None, metadata=rule(nonempty))
    layout: Layout = "us"
    terminators: tuple[Terminator, ...] = field(default=("enter", "kpenter", "tab"), metadata=rule(nonempty))

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.device is None and self.name_match is None:
            yield "device", "missing: set device (a path) or name_match (part of the device name)"
        elif self.device is not None and self.name_match is not None:
            yield "name_match", "set either device or name_match, not both"


@dataclass(frozen=True, kw_only=True)
class SerialScannerConfig(Section):
    name: str = field(metadata=rule(nonempty))
    type: Literal["serial"] = "serial"
    port: str = field(metadata=rule(nonempty))
    baudrate: int = field(default=9600, metadata=rule(baud_rate))
    bytesize: ByteSize = 8
    parity: Parity = "N"
    stopbits: StopBits = 1
    terminator: LineEnd = "CR"


@dataclass(frozen=True, kw_only=True)
class SimScannerConfig(Section):
    """A simulated scanner for demos and tests: it "scans" the listed barcodes in turn."""

    name: str = field(metadata=rule(nonempty))
    type: Literal["sim"] = "sim"
    barcodes: tuple[str, ...] = field(default=(), metadata=rule(each=nonempty))
    interval_s: float = field(default=2.0, metadata=rule(positive))


ScannerConfig = EvdevScannerConfig | SerialScannerConfig | SimScannerConfig


@dataclass(frozen=True, kw_only=True)
class ScaleConfig(Section):
    """Serial settings left out (None) take the protocol's usual values."""

    protocol: ScaleProtocol
    port: str = field(metadata=rule(nonempty))
    baudrate: int | None = field(default=None, metadata=rule(baud_rate))
    bytesize: ByteSize | None = None
    parity: Parity | None = None
    stopbits: StopBits | None = None
    poll_interval_s: float = field(default=0.5, metadata=rule(positive))


@dataclass(frozen=True, kw_only=True)
class PrinterConfig(Section):
    url: str = field(metadata=rule(printer_url))
    paper_mm: Literal[58, 80] = 80
    codepage: str = field(default="CP858", metadata=rule(codepage))
    profile: str = field(default="default", metadata=rule(nonempty))


@dataclass(frozen=True, kw_only=True)
class ScaleTapConfig(Section):
    """The box on the cable between the POS and its scale (docs/receipts.md, "Serial tap"); both ports
    use the same line settings, left out (None) for the protocol's usual ones."""

    protocol: ScaleProtocol
    pos_port: str = field(metadata=rule(nonempty))
    scale_port: str = field(metadata=rule(nonempty))
    baudrate: int | None = field(default=None, metadata=rule(baud_rate))
    bytesize: ByteSize | None = None
    parity: Parity | None = None
    stopbits: StopBits | None = None

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.pos_port == self.scale_port:
            yield "scale_port", "must differ from pos_port"


@dataclass(frozen=True, kw_only=True)
class ReceiptRulesConfig(Section):
    """A POS's own receipt template: regular expressions with named groups (docs/receipts.md)."""

    sale: tuple[str, ...]
    total: tuple[str, ...]
    void: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()
    number: tuple[str, ...] = ()
    reprint: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    decimal: Literal[",", "."] = ","

    def template(self) -> ReceiptTemplate:
        return ReceiptTemplate.from_mapping("rules", {k: v for k, v in vars(self).items()})

    def problems(self) -> Iterator[tuple[str, str]]:
        try:
            self.template()
        except TemplateError as exc:
            yield exc.field or "sale", str(exc).split(": ", 1)[-1]


ReceiptCombine = Literal["scans", "receipts", "confirm"]
ButtonPress = Literal["reprint", "bump"]


@dataclass(frozen=True, kw_only=True)
class ReceiptsConfig(Section):
    """Receipt capture: the POS prints to the box, the box forwards to the printer (docs/receipts.md)."""

    printer: str = field(metadata=rule(receipt_printer))
    listen: str = field(default="0.0.0.0:9100", metadata=rule(tcp_address))
    gadget: str | None = field(default=None, metadata=rule(absolute_path))
    template: str = field(default="code-columns", metadata=rule(receipt_template))
    combine: ReceiptCombine = "receipts"
    scanners: tuple[str, ...] | None = field(default=None, metadata=rule(each=nonempty))
    pos: tuple[str, ...] | None = field(default=None, metadata=rule(each=ip_address))
    """The POS's IP addresses: only their print jobs are read as receipts (everyone's are forwarded)."""
    rules: ReceiptRulesConfig | None = None
    """This POS's own line rules; when set they are used instead of `template`."""

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.gadget is None and tcp_address(self.printer) is not None:
            yield "printer", "must be a network printer (host:port) unless the POS prints over USB (gadget)"


@dataclass(frozen=True, kw_only=True)
class GpioConfig(Section):
    """Pins use BCM numbering; a pin left out means the box has no such part."""

    led_pin: int | None = field(default=None, metadata=rule(bcm_pin))
    button_pin: int | None = field(default=None, metadata=rule(bcm_pin))
    buzzer_pin: int | None = field(default=None, metadata=rule(bcm_pin))
    hold_time_s: float = field(default=2.0, metadata=rule(not_negative))
    button_press: ButtonPress = "reprint"
    """The short press: reprint the last ticket, or bump the oldest kitchen order to ready."""
    bump_station: str | None = field(default=None, metadata=rule(ident))
    """Whose orders the bump moves: only those with a ticket printed at this `[[orders.station]]` (a
    kitchen's button never bumps the drinks order it never saw); None: an order printed at any station."""

    def problems(self) -> Iterator[tuple[str, str]]:
        seen: dict[int, str] = {}
        for name in ("led_pin", "button_pin", "buzzer_pin"):
            pin = getattr(self, name)
            if pin is not None and pin in seen:
                yield name, f"pin {pin} is already used by {seen[pin]}"
            elif pin is not None:
                seen[pin] = name


@dataclass(frozen=True, kw_only=True)
class ForwardConfig(Section):
    """Forward each committed scan to the till PC through the USB HID keyboard gadget."""

    enabled: bool = False
    device: Path = field(default=Path("/dev/hidg0"), metadata=rule(absolute_path))
    layout: Layout = "us"  # the till PC's layout, for scans that arrive as text (serial scanners)


@dataclass(frozen=True, kw_only=True)
class BarcodesConfig(Section):
    variable_measure_layouts: tuple[str, ...] = field(
        default=("20IIIIIWWWWWC", "21IIIII$$$$$C"), metadata=rule(each=measure_layout)
    )
    preset: str | None = None  # a country's scale-label layouts (ES, DE, FR, IT, NL, SE, GB, US)

    def layouts(self) -> tuple[str, ...]:
        """The layouts the box reads: the preset's (or the defaults) and the shop's own."""
        from devices.barcodes import preset_layouts

        return preset_layouts(self.preset or "", self.variable_measure_layouts)

    def problems(self) -> Iterator[tuple[str, str]]:
        """The barcode module owns what a layout means; its verdict is reported here so it names the key.

        Imported on use: it brings in biip, which the rest of the config does not need.
        """
        from devices.barcodes import BarcodeConfig, BarcodeError

        try:
            layouts = self.layouts()
        except BarcodeError as exc:
            yield "preset", str(exc)
            return
        try:
            BarcodeConfig(variable_measure_layouts=layouts)
        except BarcodeError as exc:
            yield "variable_measure_layouts", str(exc)


@dataclass(frozen=True, kw_only=True)
class ProvisioningConfig(Section):
    path: Path = field(default=Path("/boot/firmware/tillbridge.toml"), metadata=rule(absolute_path))


@dataclass(frozen=True, kw_only=True)
class MqttConfig(Section):
    """The link to the cloud (`firmware_agent.link`). Without this table the box works offline only.

    There are no default credentials: `username` defaults to the box id (the broker's ACL confines each box
    to the topics named after its username) and `password` has no default at all.
    """

    url: str = field(metadata=rule(mqtt_url))
    username: str | None = field(default=None, metadata=rule(nonempty))
    password: Secret | None = None
    ca_file: Path | None = field(default=None, metadata=rule(absolute_path))
    cert_file: Path | None = field(default=None, metadata=rule(absolute_path))
    key_file: Path | None = field(default=None, metadata=rule(absolute_path))
    client_id: str | None = field(default=None, metadata=rule(nonempty))
    keepalive_s: int = field(default=30, metadata=rule(between(5, 30)))
    session_expiry_h: float = field(default=168.0, metadata=rule(between(0, 8760)))
    reconnect_min_s: float = field(default=1.0, metadata=rule(positive))
    reconnect_max_s: float = field(default=60.0, metadata=rule(positive))
    batch_entries: int = field(default=200, metadata=rule(between(1, 500)))
    batch_kb: int = field(default=64, metadata=rule(between(1, 256)))
    inflight_batches: int = field(default=4, metadata=rule(between(1, 16)))
    ack_timeout_s: float = field(default=30.0, metadata=rule(positive))
    telemetry_s: float = field(default=60.0, metadata=rule(positive))
    order_ttl_h: float = field(default=24.0, metadata=rule(positive))
    command_key: Secret | None = None
    require_signed_commands: bool = False
    command_window_s: float = field(default=300.0, metadata=rule(positive))
    config_revert_s: float = field(default=60.0, metadata=rule(positive))

    def problems(self) -> Iterator[tuple[str, str]]:
        tls = urlsplit(self.url).scheme == "mqtts"
        for name in ("ca_file", "cert_file", "key_file"):
            if getattr(self, name) is not None and not tls:
                yield name, "is only used with an mqtts:// url"
        if (self.cert_file is None) != (self.key_file is None):
            yield "key_file" if self.key_file is None else "cert_file", "set cert_file and key_file together"
        if self.reconnect_min_s > self.reconnect_max_s:
            yield "reconnect_min_s", "must not be more than reconnect_max_s"
        if self.command_key is not None and len(self.command_key.reveal().encode()) < 16:
            yield "command_key", "*** must be at least 16 bytes long"
        if self.require_signed_commands and self.command_key is None:
            yield "require_signed_commands", "needs command_key (the key commands are signed with)"


def lan_address(value: str) -> str | None:
    """`address:port` on the shop's LAN: a private, link-local or loopback address, never all interfaces
    (the box's page must not face the internet, docs/web.md)."""
    import ipaddress

    host, _, port = value.rpartition(":")
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return "needs the box's LAN address and a port (192.168.1.20:8080)"
    if not port.isdigit() or not 0 < int(port) < 65536:
        return "needs a port after the address (192.168.1.20:8080)"
    if ip.is_unspecified or not (ip.is_private or ip.is_loopback or ip.is_link_local):
        return f"{host} is not a LAN address: give the box's address on the shop's network"
    return None


def pin_code(value: Secret) -> str | None:
    pin = value.reveal()
    return None if pin.isascii() and pin.isdigit() and 6 <= len(pin) <= 12 else "must be 6 to 12 digits"


@dataclass(frozen=True, kw_only=True)
class WebConfig(Section):
    """The box's local page (docs/web.md): on the LAN only, behind a PIN set at provisioning."""

    listen: str = field(metadata=rule(lan_address))
    pin: Secret = field(metadata=rule(pin_code))


def time_zone(value: str) -> str | None:
    if not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not a time zone name (Europe/Madrid, …)"
    return None


@dataclass(frozen=True, kw_only=True)
class StationConfig(Section):
    """A station's own printer (kitchen, bar): it gets the order lines whose product category or tag is
    one of `tags`, on a ticket of its own (docs/printers.md, "Stations"). The box's `[printer]` is the
    counter: it prints the whole order with its pickup code. `skus` (shell patterns, "PIZ-*") route lines
    of a shop whose orders do not say the product's category."""

    name: str = field(metadata=rule(ident))
    url: str = field(metadata=rule(printer_url))
    tags: tuple[str, ...] = field(default=(), metadata=rule(each=nonempty))
    skus: tuple[str, ...] = field(default=(), metadata=rule(each=nonempty))  # patterns: "PIZ-*"
    paper_mm: Literal[58, 80] = 80
    codepage: str = field(default="CP858", metadata=rule(codepage))
    profile: str = field(default="default", metadata=rule(nonempty))

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.tags and not self.skus:
            yield "tags", "give the categories / tags (or skus) whose lines print at this station"


@dataclass(frozen=True, kw_only=True)
class OrdersConfig(Section):
    """Online and phone orders on the shop floor (docs/orders.md): the tickets' language, how long before
    a timed order's slot its tickets print, the shop's time zone for slots (empty: the box's own), and the
    stations' printers."""

    language: Literal["es", "en"] = "es"
    lead_time_min: int = field(default=20, metadata=rule(not_negative))
    timezone: str = field(default="", metadata=rule(time_zone))
    keep_days: int = field(default=14, metadata=rule(positive))
    """How long the box keeps an order once handed over or cancelled (reprints, the board); then it goes."""
    station: tuple[StationConfig, ...] = field(default=(), metadata=rule(unique="name"))


@dataclass(frozen=True, kw_only=True)
class AgentConfig(Section):
    """The whole validated config of one box."""

    box: BoxConfig
    store: StoreConfig = StoreConfig()
    scanner: tuple[ScannerConfig, ...] = field(default=(), metadata=rule(unique="name"))
    scale: ScaleConfig | None = None
    printer: PrinterConfig | None = None
    receipts: ReceiptsConfig | None = None
    scale_tap: ScaleTapConfig | None = None
    gpio: GpioConfig = GpioConfig()
    forward: ForwardConfig = ForwardConfig()
    barcodes: BarcodesConfig = BarcodesConfig()
    provisioning: ProvisioningConfig = ProvisioningConfig()
    mqtt: MqttConfig | None = None
    web: WebConfig | None = None
    orders: OrdersConfig = OrdersConfig()

    def problems(self) -> Iterator[tuple[str | tuple[str, ...], str]]:
        station = self.gpio.bump_station
        if station is not None and station not in {s.name for s in self.orders.station}:
            known = ", ".join(s.name for s in self.orders.station) or "none"
            yield ("gpio", "bump_station"), f"no [[orders.station]] named {station!r} (stations: {known})"
