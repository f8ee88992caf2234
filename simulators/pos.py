"""A POS that prints its own receipts, for the tests and the demo: the bytes a till sends its printer.

It writes raw ESC/POS as POS software does (not through the box's `TicketBuilder`, so the box's reading is
tested against another writer): `ESC @`, a code page chosen with `ESC t n`, bold and double-size headers,
a logo (`FS p`), a CODE128 barcode of the receipt number, payment and change after the total, feed and
cut. Three layouts match the shipped templates (`devices.receipts.presets`); each can be printed in any
code page the printer model knows, and with `codepage_slot=` in one it does not. Voids, returns, weighed
lines and reprints (`** COPY **`) are printed as such POS print them.

`PosClient` sends receipts to a printer over TCP the way a POS driver does: a real-time status query
(`DLE EOT 1`) first, whose reply it waits for, then the receipt. `ScalePos` is a POS polling its scale over
a serial port (a `PtyEnd` of a pseudo-terminal pair in the tests), for the serial tap.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import tty
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import TracebackType
from typing import Any, Literal

from devices.printers.codepages import BY_SLOT, codepage
from devices.scales import ScaleReading, make_codec
from devices.scales.transport import SerialPort, exchange

Kind = Literal["sale", "void", "return"]
ESC, GS = b"\x1b", b"\x1d"
CUT = GS + b"VB\x00"  # feed to the cutter and cut partially, as Epson drivers do
STATUS_QUERY = b"\x10\x04\x01"


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    unit_price_cents: int
    qty: Decimal = Decimal(1)
    unit: str = ""  # "kg" for a weighed line
    kind: Kind = "sale"

    @property
    def amount_cents(self) -> int:
        """What the line adds to the total (negative for a void or a return)."""
        amount = int((self.qty * self.unit_price_cents).quantize(Decimal(1), ROUND_HALF_UP))
        return amount if self.kind == "sale" else -amount


@dataclass(frozen=True)
class Sale:
    number: str
    items: tuple[Item, ...]
    reprint: bool = False
    when: str = "07/12/2026 10:32"
    paid_cents: int | None = None  # cash handed over; the total when None

    @property
    def total_cents(self) -> int:
        return sum(item.amount_cents for item in self.items)


@dataclass(frozen=True)
class Layout:
    name: str
    codepage: str
    decimal: str
    columns: int = 48
    lines: Sequence[str] = field(default=())


LAYOUTS: dict[str, Layout] = {
    "code-columns": Layout("code-columns", "CP858", ","),
    "two-line": Layout("two-line", "CP437", ".", 42),
    "name-amount": Layout("name-amount", "CP1252", ",", 32),
}


def money(cents: int, decimal: str) -> str:
    """`123450` → `1.234,50` (decimal comma) or `1,234.50`."""
    group = "." if decimal == "," else ","
    whole = f"{abs(cents) // 100:,}".replace(",", group)
    return f"{'-' if cents < 0 else ''}{whole}{decimal}{abs(cents) % 100:02d}"


def quantity(qty: Decimal, decimal: str) -> str:
    text = f"{qty.normalize():f}" if qty == qty.to_integral() else f"{qty:.3f}"
    return text.replace(".", decimal)


def receipt_bytes(sale: Sale, layout: str = "code-columns", *, codepage_slot: int | None = None) -> bytes:
    """The bytes the POS sends for `sale`, in `layout`; `codepage_slot` overrides the layout's code page
    (a slot the printer model does not know makes the text unreadable, as on such a printer)."""
    spec = LAYOUTS[layout]
    page = (
        BY_SLOT.get(codepage_slot, codepage(spec.codepage))
        if codepage_slot is not None
        else codepage(spec.codepage)
    )
    slot = page.slot if codepage_slot is None else codepage_slot
    body = _LAYOUTS[layout](sale, spec)
    out = bytearray(ESC + b"@" + ESC + b"t" + bytes([slot]))
    out += ESC + b"a\x01" + b"\x1c\x70\x01\x00"  # centred logo from the printer's memory
    out += ESC + b"!\x38" + _enc("TIENDA DEMO", page.codec) + b"\n" + ESC + b"!\x00"
    out += _enc("C/ Mayor 1 - Madrid", page.codec) + b"\n" + ESC + b"a\x00"
    if sale.reprint:
        out += ESC + b"E\x01" + _enc("** COPY **" if layout == "two-line" else "** COPIA **", page.codec)
        out += ESC + b"E\x00\n"
    for line in body:
        if line.startswith("\x00B"):  # bold line marker
            out += ESC + b"E\x01" + _enc(line[2:], page.codec) + ESC + b"E\x00\n"
        else:
            out += _enc(line, page.codec) + b"\n"
    code = sale.number.encode("ascii", "replace")[:30]
    out += ESC + b"a\x01" + GS + b"h\x50" + GS + b"kI" + bytes([len(code) + 2]) + b"{B" + code + b"\n"
    out += ESC + b"a\x00" + ESC + b"d\x04" + CUT
    return bytes(out)


def _enc(text: str, codec: str) -> bytes:
    return text.encode(codec, "replace")


def _pair(left: str, right: str, columns: int) -> str:
    room = max(columns - len(right) - 1, 1)
    return f"{left[:room]:<{room}} {right}"


def _code_columns(sale: Sale, spec: Layout) -> list[str]:
    d = spec.decimal
    lines = [f"Ticket nº: {sale.number}", sale.when, "-" * spec.columns]
    prefix = {"sale": "", "void": "VOID ", "return": "RETURN "}
    for item in sale.items:
        unit = f" {item.unit}" if item.unit else ""
        left = f"{prefix[item.kind]}{item.code:<6} {item.name[:18]}"
        price = f"{quantity(item.qty, d)}{unit} x {money(item.unit_price_cents, d)}"
        right = f"{price}  {money(item.amount_cents, d):>8}"
        lines.append(_pair(left, right, spec.columns))
    lines += ["-" * spec.columns, "\x00B" + _pair("TOTAL EUR", money(sale.total_cents, d), spec.columns)]
    return lines + _payment(sale, spec, "EFECTIVO", "CAMBIO")


def _two_line(sale: Sale, spec: Layout) -> list[str]:
    d = spec.decimal
    lines = [f"Trans # {sale.number}", sale.when, "=" * spec.columns]
    prefix = {"sale": "", "void": "VOID ", "return": "REFUND "}
    for item in sale.items:
        unit = f" {item.unit}" if item.unit else ""
        per = f"/{item.unit}" if item.unit else ""
        lines.append(f"{prefix[item.kind]}{item.name}")
        lines.append(
            _pair(
                f"   {quantity(item.qty, d)}{unit} @ {money(item.unit_price_cents, d)}{per}",
                money(item.amount_cents, d),
                spec.columns,
            )
        )
    lines += ["=" * spec.columns, "\x00B" + _pair("BALANCE DUE", money(sale.total_cents, d), spec.columns)]
    return lines + _payment(sale, spec, "CASH", "CHANGE")


def _name_amount(sale: Sale, spec: Layout) -> list[str]:
    d = spec.decimal
    lines = [f"Nº: {sale.number}", sale.when, "-" * spec.columns]
    for item in sale.items:
        if item.unit or item.qty != item.qty.to_integral():
            raise ValueError("the name-amount layout prints whole quantities only")
        qty = f"{item.qty:f} x " if item.qty != 1 else ""
        name = f"ANUL. {qty}{item.name}" if item.kind == "void" else f"{qty}{item.name}"
        amount = money(item.amount_cents, d)
        lines.append(f"{name[: spec.columns - len(amount) - 2]:<{spec.columns - len(amount)}}{amount}")
    total = money(sale.total_cents, d)
    lines += [_pair("SUBTOTAL", total, spec.columns), "\x00B" + _pair("TOTAL €", total, spec.columns)]
    lines.append(_pair("IVA 10%", money(round(sale.total_cents / 11), d), spec.columns))
    return lines + _payment(sale, spec, "EFECTIVO", "CAMBIO")


def _payment(sale: Sale, spec: Layout, paid: str, change: str) -> list[str]:
    given = sale.total_cents if sale.paid_cents is None else sale.paid_cents
    return [
        _pair(paid, money(given, spec.decimal), spec.columns),
        _pair(change, money(given - sale.total_cents, spec.decimal), spec.columns),
        "",
        "Gracias por su visita" if spec.decimal == "," else "Thank you",
    ]


_LAYOUTS = {"code-columns": _code_columns, "two-line": _two_line, "name-amount": _name_amount}


class PosClient:
    """A POS printing to a network printer (or to the box in front of it) over raw TCP 9100."""

    def __init__(self, address: tuple[str, int], timeout: float = 5.0) -> None:
        self._sock = socket.create_connection(address, timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def status(self, query: bytes = STATUS_QUERY) -> bytes:
        """Sends a real-time status query and waits for its one-byte reply."""
        self._sock.sendall(query)
        reply = self._sock.recv(1)
        if not reply:
            raise ConnectionError("the printer closed the connection instead of answering its status")
        return reply

    def send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def print_sale(self, sale: Sale, layout: str = "code-columns") -> None:
        """What a POS driver does: is the printer on-line? then the receipt."""
        self.status()
        self.send(receipt_bytes(sale, layout))

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> PosClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ScalePos:
    """A POS that polls its scale over a serial port, as till software does: the scale's own protocol
    (`devices.scales` codec), one request and its answer per `weigh()`, handshakes answered."""

    def __init__(self, port: SerialPort, protocol: str, **options: Any) -> None:
        self.port = port
        self.codec = make_codec(protocol, **options)

    def weigh(self, timeout: float = 1.0) -> ScaleReading | None:
        """The reading the scale answered with, or None if none came within `timeout`."""
        readings = exchange(self.port, self.codec, timeout).readings
        return readings[-1] if readings else None


class PtyEnd:
    """The POS's end of a serial cable made of a pseudo-terminal pair: the other end (`path`) is the
    port the box opens. Shaped like the part of pyserial's `Serial` the scale transport uses."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave  # held open so the pty lives as long as this end
        self.timeout = 0.05

    @property
    def in_waiting(self) -> int:
        return 0

    def read(self, size: int = 1) -> bytes:
        ready, _, _ = select.select([self.master], [], [], self.timeout)
        return os.read(self.master, max(size, 4096)) if ready else b""

    def write(self, data: bytes) -> int:
        return os.write(self.master, data)

    def reset_input_buffer(self) -> None:
        while select.select([self.master], [], [], 0)[0]:
            os.read(self.master, 4096)

    def close(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
