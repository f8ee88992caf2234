"""Forwarding first: bytes from the POS go to the printer unchanged and at once, the printer's replies go
back to the POS, and a copy of what the POS sent goes to the receipt reader on the side.

`relay()` is the core every front end shares (the TCP 9100 proxy, the USB printer gadget): two pumps, one
per direction, each a blocking read-then-write loop on its own thread, so a byte is passed on as soon as it
is read and nothing the reader does can hold it up. The copy is offered to a `CaptureQueue`, which drops
(and counts) rather than waits.
"""

from __future__ import annotations

import contextlib
import errno
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
    pos: Side,
    printer: Side,
    tap: CaptureQueue | None = None,
    *,
    linger: float = REPLY_LINGER,
    replies: Callable[[bytes], None] | None = None,
) -> RelayResult:
    """Forward until the POS is done and the printer has answered, or either side goes away.

    `tap` gets a copy of what the POS sends; `replies`, called after each chunk the other way has been
    passed on, sees what the device answers (the serial tap decodes a scale's weights from it).
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
        if replies is not None:
            replies(data)

    def pos_to_printer() -> None:
        if _pump(pos, printer, copy) == "eof":
            pos_done.set()
            _quietly(printer.end_writes)  # the job is complete: the printer finishes and answers
            if printer_done.wait(linger):
                return
            log.info(
                "relay: %s kept the connection open %.0f s after the job; closing it",
                printer.name,
                linger,
            )
        _quietly(printer.close)  # wakes the other pump

    upstream = threading.Thread(target=pos_to_printer, name="relay-pos", daemon=True)
    upstream.start()
    printer_ended = _pump(printer, pos, count)
    printer_done.set()
    if printer_ended != "closed" and not (pos_done.is_set() or pos_failed.is_set()):
        result.printer_left_early = True
        log.warning(
            "relay: %s closed the connection while %s was still sending (%d bytes passed on); "
            "closing the POS's side too, so the POS sees its device gone",
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


def _pump(source: Side, sink: Side, seen: Callable[[bytes], None]) -> str:
    """Copies source → sink until one of them ends: "eof" when the source finished, "closed" when this
    process closed it (the relay is ending), "gone" when a peer failed."""
    while True:
        try:
            data = source.read()
        except OSError as exc:
            if _closed_here(exc):
                return "closed"
            log.debug("relay: reading from %s failed (%s)", source.name, exc)
            return "gone"
        if not data:
            return "eof"
        try:
            sink.write(data)
        except OSError as exc:
            log.warning(
                "relay: %s went away; %d bytes from %s could not be passed on (%s)",
                sink.name,
                len(data),
                source.name,
                exc,
            )
            return "gone"
        seen(data)


def _closed_here(exc: OSError) -> bool:
    """A read on a side this process has just closed or stopped (the relay is ending)."""
    return exc.errno == errno.EBADF or "closed" in str(exc).lower()


def _quietly(action: Callable[[], None]) -> None:
    with contextlib.suppress(OSError):
        action()
