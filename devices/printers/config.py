"""Which printer to talk to and how its paper and character table are set up.

`PrinterConfig` is the one way a printer is described in code. Config files and the command line write it
as a URL, which `PrinterConfig.from_url` parses and `PrinterConfig.url` writes back:

    tcp://192.168.1.50:9100            network printer (port 9100 when omitted)
    usb://04b8:0e15                    USB printer by vendor:product id (hex)
    serial:///dev/ttyUSB0?baud=19200   serial printer (baud 9600 when omitted)
    file:///dev/usb/lp0                a device node the kernel's usblp driver made

Every scheme takes `paper=58|80`, `codepage=CP858` and `profile=default` as query parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from devices.errors import DeviceConfigError
from devices.printers.codepages import codepage

Kind = Literal["network", "usb", "serial", "file"]
PAPER_COLUMNS = {58: 32, 80: 48}  # font A, 12x24 dots
PAPER_DOTS = {58: 384, 80: 576}  # printable width at 203 dpi
_SCHEMES: dict[str, Kind] = {"tcp": "network", "usb": "usb", "serial": "serial", "file": "file"}


@dataclass(frozen=True)
class PageSetup:
    """What a layout needs to know about the paper and the character table, nothing about the wire."""

    paper_mm: int = 80
    codepage: str = "CP858"
    profile: str = "default"

    def __post_init__(self) -> None:
        if self.paper_mm not in PAPER_COLUMNS:
            raise DeviceConfigError(f"paper width {self.paper_mm} mm is not supported; use 58 or 80")
        object.__setattr__(self, "codepage", codepage(self.codepage).name)

    @property
    def columns(self) -> int:
        return PAPER_COLUMNS[self.paper_mm]

    @property
    def dots(self) -> int:
        return PAPER_DOTS[self.paper_mm]


@dataclass(frozen=True)
class PrinterConfig:
    kind: Kind
    host: str = ""  # network
    port: int = 9100  # network
    device: str = ""  # serial port or device file
    baud: int = 9600  # serial
    vendor_id: int = 0  # usb
    product_id: int = 0  # usb
    paper_mm: int = 80
    codepage: str = "CP858"
    profile: str = "default"
    timeout: float = 5.0  # seconds to connect and to write one job

    def __post_init__(self) -> None:
        object.__setattr__(self, "codepage", self.page.codepage)  # validated and spelled canonically
        missing = {
            "network": not self.host,
            "usb": not (self.vendor_id and self.product_id),
            "serial": not self.device,
            "file": not self.device,
        }.get(self.kind)
        if missing is None:
            raise DeviceConfigError(f"unknown printer kind {self.kind!r}; use network, usb, serial or file")
        if missing:
            raise DeviceConfigError(f"{self.kind} printer config lacks its address: {self}")
        if self.timeout <= 0:
            raise DeviceConfigError(f"printer {self.url}: timeout must be positive, not {self.timeout}")

    @classmethod
    def from_url(cls, url: str) -> PrinterConfig:
        parts = urlsplit(url)
        kind = _SCHEMES.get(parts.scheme)
        if kind is None:
            raise DeviceConfigError(f"printer URL {url!r}: scheme must be one of tcp, usb, serial, file")
        query = dict(parse_qsl(parts.query))
        try:
            address = _address(kind, parts.netloc, parts.path, query)
            config = cls(
                kind,
                **address,  # type: ignore[arg-type]
                paper_mm=int(query.pop("paper", 80)),
                codepage=query.pop("codepage", "CP858"),
                profile=query.pop("profile", "default"),
            )
        except ValueError as exc:
            raise DeviceConfigError(f"printer URL {url!r}: {exc}") from exc
        if query:
            raise DeviceConfigError(f"printer URL {url!r}: unknown parameter(s) {', '.join(query)}")
        return config

    @property
    def url(self) -> str:
        address = {
            "network": f"tcp://{self.host}:{self.port}",
            "usb": f"usb://{self.vendor_id:04x}:{self.product_id:04x}",
            "serial": f"serial://{self.device}",
            "file": f"file://{self.device}",
        }[self.kind]
        query: dict[str, object] = {"baud": self.baud} if self.kind == "serial" else {}
        if self.page != PageSetup():
            query |= {"paper": self.paper_mm, "codepage": self.codepage, "profile": self.profile}
        return f"{address}?{urlencode(query)}" if query else address

    @property
    def page(self) -> PageSetup:
        return PageSetup(self.paper_mm, self.codepage, self.profile)


def _address(kind: Kind, netloc: str, path: str, query: dict[str, str]) -> dict[str, object]:
    """The address fields of one URL; pops the parameters it uses from `query`."""
    if kind == "network":
        host, _, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "9100")
        return {"host": host, "port": int(port)}
    if kind == "usb":
        vendor, _, product = netloc.partition(":")
        return {"vendor_id": int(vendor, 16), "product_id": int(product, 16)}
    if kind == "serial":
        return {"device": netloc + path, "baud": int(query.pop("baud", 9600))}
    return {"device": netloc + path}
