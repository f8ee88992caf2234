"""Reading a printer's real-time status, without I/O: queries out, reply bytes in, `PrinterStatus` out.

Each query (`DLE EOT n`, `GS r n`) is answered by exactly one byte, in order. A byte that does not carry
the reply's fixed bits (line noise, an unsolicited Automatic Status Back byte, XON/XOFF) is skipped. A
printer that never answers leaves fields unknown (`None`), never "fine": python-escpos 3.1 reports paper
"adequate" on an empty reply, which hides a dead back channel.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from devices.readings import DeviceState, DeviceStatus


class PaperState(enum.Enum):
    OK = "ok"
    NEAR_END = "near end"
    OUT = "out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself; `None` where it did not say."""

    online: bool | None = None
    paper: PaperState = PaperState.UNKNOWN
    cover_open: bool | None = None
    error: bool | None = None
    drawer_pin_high: bool | None = None  # drawer connector pin 3; open or closed depends on the drawer

    @property
    def answered(self) -> bool:
        return self != PrinterStatus()

    @property
    def ready(self) -> bool:
        """Known to print right now: online, paper in, cover shut, no error."""
        paper_in = self.paper in (PaperState.OK, PaperState.NEAR_END)
        return self.online is True and paper_in and self.cover_open is False and self.error is False

    def describe(self) -> str:
        """A short line for a person: "offline, paper out, cover open"."""
        if not self.answered:
            return "no status reply"
        facts = [
            {True: "online", False: "offline", None: "online state unknown"}[self.online],
            f"paper {self.paper.value}",
        ]
        facts += ["cover open"] * bool(self.cover_open) + ["error"] * bool(self.error)
        return ", ".join(facts)

    def device_status(self, device: str) -> DeviceStatus:
        if not self.answered:
            return DeviceStatus(device, DeviceState.UNKNOWN, self.describe())
        healthy = self.ready and self.paper is PaperState.OK
        return DeviceStatus(device, DeviceState.OK if healthy else DeviceState.ERROR, self.describe())


def _printer(byte: int) -> dict[str, Any]:
    return {"online": not byte & 0x08, "drawer_pin_high": bool(byte & 0x04)}


def _offline_cause(byte: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"cover_open": bool(byte & 0x04), "error": bool(byte & 0x40)}
    return fields | ({"paper": PaperState.OUT} if byte & 0x20 else {})


def _error_cause(byte: int) -> dict[str, Any]:
    return {"error": bool(byte & 0x6C)}  # recoverable, autocutter, unrecoverable, auto-recoverable


def _roll_paper(byte: int) -> dict[str, Any]:
    return {"paper": _paper(out=bool(byte & 0x60), near_end=bool(byte & 0x0C))}


def _paper_sensor(byte: int) -> dict[str, Any]:
    return {"paper": _paper(out=bool(byte & 0x0C), near_end=bool(byte & 0x03))}


def _drawer(byte: int) -> dict[str, Any]:
    return {"drawer_pin_high": bool(byte & 0x01)}


def _paper(*, out: bool, near_end: bool) -> PaperState:
    return PaperState.OUT if out else PaperState.NEAR_END if near_end else PaperState.OK


@dataclass(frozen=True)
class _Kind:
    mask: int  # the reply's fixed bits...
    value: int  # ...and what they must be
    decode: Callable[[int], dict[str, Any]]


_DLE_EOT = (0x93, 0x12)  # 0xx1xx10
_GS_R = (0x90, 0x00)  # 0xx0xxxx


class StatusQuery(enum.Enum):
    """The queries, as the bytes sent. DLE EOT is answered at once, even offline; GS r only after the
    printer has printed what is in its buffer, and not while it is offline."""

    PRINTER = b"\x10\x04\x01"
    OFFLINE_CAUSE = b"\x10\x04\x02"
    ERROR_CAUSE = b"\x10\x04\x03"
    ROLL_PAPER = b"\x10\x04\x04"
    PAPER_SENSOR = b"\x1d\x72\x01"
    DRAWER = b"\x1d\x72\x02"


_KINDS = {
    StatusQuery.PRINTER: _Kind(*_DLE_EOT, _printer),
    StatusQuery.OFFLINE_CAUSE: _Kind(*_DLE_EOT, _offline_cause),
    StatusQuery.ERROR_CAUSE: _Kind(*_DLE_EOT, _error_cause),
    StatusQuery.ROLL_PAPER: _Kind(*_DLE_EOT, _roll_paper),
    StatusQuery.PAPER_SENSOR: _Kind(*_GS_R, _paper_sensor),
    StatusQuery.DRAWER: _Kind(*_GS_R, _drawer),
}
DEFAULT_QUERIES = (StatusQuery.PRINTER, StatusQuery.OFFLINE_CAUSE, StatusQuery.ROLL_PAPER)


def status_from_reply(query: StatusQuery, byte: int) -> PrinterStatus:
    """One reply byte on its own, e.g. `status_from_reply(StatusQuery.ROLL_PAPER, 0x1E)`."""
    return replace(PrinterStatus(), **_KINDS[query].decode(byte))


class StatusReader:
    """Matches reply bytes to the queries sent, in order.

    `request()` gives the bytes to send; `feed()` takes whatever came back and returns `[status]` once
    every query is answered; `expire()` is for when the wait is over and gives what is known so far.
    """

    def __init__(self, queries: Sequence[StatusQuery] = DEFAULT_QUERIES) -> None:
        self._pending = list(queries)
        self._status = PrinterStatus()
        self.skipped = 0  # bytes that were not a reply to the query waiting for one

    def request(self) -> bytes:
        return b"".join(query.value for query in self._pending)

    @property
    def done(self) -> bool:
        return not self._pending

    def feed(self, data: bytes) -> list[PrinterStatus]:
        if self.done:
            return []
        for byte in data:
            kind = _KINDS[self._pending[0]]
            if byte & kind.mask != kind.value:
                self.skipped += 1
                continue
            self._status = replace(self._status, **kind.decode(byte))
            self._pending.pop(0)
            if not self._pending:
                return [self._status]
        return []

    def expire(self) -> PrinterStatus:
        """The status as far as the printer answered; queries left unanswered stay unknown."""
        self._pending.clear()
        return self._status
