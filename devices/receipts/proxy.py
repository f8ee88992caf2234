"""The box as a network printer: a raw TCP 9100 proxy in front of the real one.

Each POS connection gets its own connection to the printer and a `relay()`; the POS cannot tell the box
from the printer, except by a fraction of a millisecond (bench: `receipt_forward_added_latency`). When the
printer cannot be reached the POS's connection is closed at once, as the printer itself would refuse it,
so the POS shows its usual "printer off-line" rather than printing into the void.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from types import TracebackType

from devices.receipts.forward import REPLY_LINGER, Side, relay
from devices.receipts.tap import CaptureQueue

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0


def _side(sock: socket.socket, name: str) -> Side:
    def close() -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked on another thread; close() would not
        sock.close()

    return Side(name, lambda: sock.recv(65536), sock.sendall, lambda: sock.shutdown(socket.SHUT_WR), close)


class PrinterProxy:
    """Listens on `listen` (host, port) and relays every connection to the printer at `printer`."""

    def __init__(
        self,
        printer: tuple[str, int],
        tap: CaptureQueue | None = None,
        listen: tuple[str, int] = ("0.0.0.0", 9100),
        capture_from: frozenset[str] | None = None,
    ) -> None:
        self.printer = printer
        self.tap = tap
        self.capture_from = capture_from
        """Addresses of the POS whose print jobs are read as receipts (None: every client). Everyone's
        jobs are forwarded all the same: the box never stops a print job, it only declines to count it."""
        self._requested = listen
        self.address: tuple[str, int] = listen
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._connections: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self.relayed = 0

    @property
    def printer_name(self) -> str:
        return f"printer tcp://{self.printer[0]}:{self.printer[1]}"

    def start(self) -> PrinterProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self._requested)
        listener.listen(16)
        self.address = listener.getsockname()[:2]
        self._listener = listener
        self._running.set()
        self._thread = threading.Thread(target=self._accept_loop, name="printer-proxy", daemon=True)
        self._thread.start()
        log.info(
            "receipt capture: listening on %s:%d for the POS, forwarding to %s",
            *self.address,
            self.printer_name,
        )
        return self

    def stop(self) -> None:
        self._running.clear()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            connections = list(self._connections)
        for thread in connections:
            thread.join(timeout=REPLY_LINGER + 1)

    def __enter__(self) -> PrinterProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while self._running.is_set():
            try:
                conn, peer = self._listener.accept()
            except OSError:
                if self._running.is_set():
                    log.exception("receipt capture: accepting a POS connection failed")
                return
            thread = threading.Thread(
                target=self._serve, args=(conn, peer), name="printer-proxy-conn", daemon=True
            )
            with self._lock:
                self._connections.add(thread)
            thread.start()

    def _serve(self, pos_sock: socket.socket, peer: tuple[str, int]) -> None:
        pos_name = f"POS {peer[0]}:{peer[1]}"
        try:
            pos_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                printer_sock = socket.create_connection(self.printer, timeout=CONNECT_TIMEOUT)
            except OSError as exc:
                log.warning(
                    "receipt capture: %s cannot be reached (%s); closing %s's connection so it sees the "
                    "printer off-line",
                    self.printer_name,
                    exc,
                    pos_name,
                )
                pos_sock.close()
                return
            printer_sock.settimeout(None)
            printer_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tap = self.tap if self.capture_from is None or peer[0] in self.capture_from else None
            if tap is None and self.tap is not None:
                log.info("receipt capture: %s is not a listed POS: its job is forwarded, not read", pos_name)
            result = relay(_side(pos_sock, pos_name), _side(printer_sock, self.printer_name), tap)
            self.relayed += 1
            log.debug(
                "receipt capture: %s done: %d bytes to the printer, %d back",
                pos_name,
                result.to_printer,
                result.to_pos,
            )
        finally:
            with self._lock:
                self._connections.discard(threading.current_thread())
