"""Forwarding first: bytes from the POS go to the printer unchanged and at once, the printer's replies go
back to the POS, and a copy of what the POS sent goes to the receipt reader on the side.

`relay()` is the core every front end shares (the TCP 9100 proxy, the USB printer gadget): two pumps, one
per direction, each a blocking read-then-write loop on its own thread, so a byte is passed on as soon as it
is read and nothing the reader does can hold it up. The copy is offered to a `CaptureQueue`, which drops
(and counts) rather than waits.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from devices.receipts.tap import CaptureQueue

log = logging.getLogger(__name__)

Read = Callable[[], bytes]
"""Blocks until there are bytes; b"" means the peer is gone (closed, unplugged)."""
Write = Callable[[bytes], None]
"""Writes all of it or raises OSError."""


@dataclass(frozen=True)
class Side:
    """One end of the relay: how to read from it, write to it, and say it is done."""

    name: str  # for log lines: "POS 192.168.1.20:51234", "printer tcp://192.168.1.50:9100"
    read: Read
    write: Write
    end_writes: Callable[[], None]  # no more bytes will be written (TCP half-close)
    close: Callable[[], None]


REPLY_LINGER = 10.0
"""After the POS has sent its job and closed its side, how long the printer may take to close its own."""


@dataclass
class RelayResult:
    to_printer: int = 0
    to_pos: int = 0
    printer_left_early: bool = False  # the printer went away while the POS was still sending


def relay(
    pos: Side, printer: Side, tap: CaptureQueue | None = None, *, linger: float = REPLY_LINGER
) -> RelayResult:
    """Forward until the POS is done and the printer has answered, or either side goes away.

    Returns when both directions have ended and both sides are closed. Never raises for the peers' sake.
    """
    result = RelayResult()
    stream = tap.open_stream() if tap is not None else 0
    pos_done, pos_failed, printer_done = threading.Event(), threading.Event(), threading.Event()

    def copy(data: bytes) -> None:
        result.to_printer += len(data)
        if tap is not None:
            tap.offer(stream, data)

    def count(data: bytes) -> None:
        result.to_pos += len(data)

    def pos_to_printer() -> None:
        if _pump(pos, printer, copy):
            pos_done.set()
            _quietly(printer.end_writes)  # the job is complete: the printer finishes and answers
            if printer_done.wait(linger):
                return
            log.info(
                "receipt relay: %s kept the connection open %.0f s after the job; closing it",
                printer.name,
                linger,
            )
        _quietly(printer.close)  # wakes the other pump

    upstream = threading.Thread(target=pos_to_printer, name="relay-pos", daemon=True)
    upstream.start()
    _pump(printer, pos, count)
    printer_done.set()
    if not (pos_done.is_set() or pos_failed.is_set()):
        result.printer_left_early = True
        log.warning(
            "receipt relay: %s closed the connection while %s was still sending (%d bytes passed on); "
            "closing the POS's connection so it sees the printer off-line",
            printer.name,
            pos.name,
            result.to_printer,
        )
    _quietly(pos.close)  # wakes the POS pump if it still waits
    upstream.join()
    _quietly(printer.close)
    if tap is not None:
        tap.close_stream(stream)
    return result


def _pump(source: Side, sink: Side, seen: Callable[[bytes], None]) -> bool:
    """Copies source → sink until one of them ends; True when the source finished (end of stream)."""
    while True:
        try:
            data = source.read()
        except OSError as exc:
            if not _closed_here(exc):
                log.debug("receipt relay: reading from %s failed (%s)", source.name, exc)
            return False
        if not data:
            return True
        try:
            sink.write(data)
        except OSError as exc:
            log.warning(
                "receipt relay: %s went away; %d bytes from %s could not be passed on (%s)",
                sink.name,
                len(data),
                source.name,
                exc,
            )
            return False
        seen(data)


def _closed_here(exc: OSError) -> bool:
    """A read on a socket this process has just closed (the other direction ended the relay)."""
    return exc.errno == 9 or "closed" in str(exc).lower()


def _quietly(action: Callable[[], None]) -> None:
    with contextlib.suppress(OSError):
        action()
