"""A virtual ESC/POS network printer: a TCP server on 127.0.0.1 that decodes what it is sent into tickets.

Tests and the demo print into it through the real `devices.printers.Printer` and read back text. It
answers `DLE EOT n` and `GS r n` from its simulated state, and can be made to run out of paper, open its
cover, go off-line, stop answering status queries, or be unplugged (connections refused).

What it does not model: print speed and buffer back-pressure (it reads as fast as it is sent to), the
buffer limit of a real printer, images beyond a `[IMAGE: …]` line, and `GS r` queries sent while it
cannot print, which a real printer answers after recovery and this one never answers. Clients are served
from one thread; two clients sending at once interleave, as they would garble a real printer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from devices.printers.decode import Cut, DrawerKick, EscPosDecoder, Event, Printed, StatusRequest, Ticket
from devices.printers.status import PaperState
from simulators.running import Running

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulatedState:
    paper: PaperState = PaperState.OK
    cover_open: bool = False
    offline: bool = False  # off-line because of an error, say a cutter jam
    drawer_open: bool = False  # drawer connector pin 3 high
    answers_status: bool = True  # False: a printer without a working back channel

    @property
    def printing(self) -> bool:
        return not (self.offline or self.cover_open or self.paper is PaperState.OUT)

    def reply(self, command: bytes) -> bytes:
        """The byte a printer in this state answers to `DLE EOT n` / `GS r n` (empty if it does not)."""
        if not self.answers_status or len(command) < 3:
            return b""
        byte = self._dle_eot(command[2]) if command[:2] == b"\x10\x04" else self._gs_r(command[2])
        return b"" if byte is None else bytes([byte])

    def _dle_eot(self, n: int) -> int | None:
        near_end = self.paper in (PaperState.NEAR_END, PaperState.OUT)
        bits = {
            1: [(not self.printing, 0x08), (self.drawer_open, 0x04)],
            2: [(self.cover_open, 0x04), (self.paper is PaperState.OUT, 0x20), (self.offline, 0x40)],
            3: [(self.offline, 0x08)],
            4: [(near_end, 0x0C), (self.paper is PaperState.OUT, 0x60)],
        }.get(n)
        return None if bits is None else 0x12 | sum(bit for on, bit in bits if on)

    def _gs_r(self, n: int) -> int | None:
        if n in (1, 49):
            near_end = self.paper in (PaperState.NEAR_END, PaperState.OUT)
            return (0x03 if near_end else 0) | (0x0C if self.paper is PaperState.OUT else 0)
        if n in (2, 50):
            return int(self.drawer_open)
        return None


class VirtualPrinter(Running):
    """Start it, print to `url`, read `tickets` or `wait_for_tickets()`; stop it (or use `with`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._requested = (host, port)
        self.address: tuple[str, int] = (host, port)
        self._cond = threading.Condition()
        self._decoder = EscPosDecoder()
        self._state = SimulatedState()
        self._tickets: list[Ticket] = []
        self._lines: list[Printed] = []
        self._held: list[Event] = []
        self._received = bytearray()
        self.drawer_kicks = 0
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._calls: queue.SimpleQueue[tuple[Callable[[], None], threading.Event]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._running = False

    # -- life cycle -------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._listen()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._running = True
        self._thread = threading.Thread(target=self._serve, name="virtual-printer", daemon=True)
        self._thread.start()
        log.info("virtual printer listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._in_loop(self._halt)
            self._thread.join(timeout=5)
            self._thread = None
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def url(self) -> str:
        return f"tcp://{self.address[0]}:{self.address[1]}"

    # -- simulated faults -------------------------------------------------------------------------------

    @property
    def state(self) -> SimulatedState:
        with self._cond:
            return self._state

    def set_state(
        self,
        *,
        paper: PaperState | None = None,
        cover_open: bool | None = None,
        offline: bool | None = None,
        drawer_open: bool | None = None,
        answers_status: bool | None = None,
    ) -> None:
        """Change the simulated state; once it can print again, what it held back is printed."""
        changes: dict[str, Any] = {
            "paper": paper,
            "cover_open": cover_open,
            "offline": offline,
            "drawer_open": drawer_open,
            "answers_status": answers_status,
        }
        with self._cond:
            self._state = dataclasses.replace(
                self._state, **{k: v for k, v in changes.items() if v is not None}
            )
            if self._state.printing:
                held, self._held = self._held, []
                for event in held:
                    self._apply(event)

    def unplug(self) -> None:
        """Drop every connection and stop listening: new connections are refused."""
        self._in_loop(self._unplug)

    def plug(self) -> None:
        """Listen again on the same port."""
        self._in_loop(self._listen)

    # -- what came out ----------------------------------------------------------------------------------

    @property
    def tickets(self) -> list[Ticket]:
        with self._cond:
            return list(self._tickets)

    @property
    def pending(self) -> list[Printed]:
        """Lines printed since the last cut."""
        with self._cond:
            return list(self._lines)

    @property
    def received(self) -> bytes:
        with self._cond:
            return bytes(self._received)

    def wait_for_tickets(self, count: int, timeout: float = 5.0) -> list[Ticket]:
        """All tickets once there are at least `count`; TimeoutError if they do not come in time."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._tickets) >= count, timeout):
                raise TimeoutError(
                    f"virtual printer {self.url}: {len(self._tickets)} ticket(s) after {timeout} s, "
                    f"expected {count}"
                )
            return list(self._tickets)

    def clear(self) -> None:
        with self._cond:
            self._tickets.clear()
            self._lines.clear()
            self._received.clear()
            self.drawer_kicks = 0

    def feed(self, data: bytes) -> bytes:
        """The printer without the network: bytes in, status replies out (for pty or file front ends)."""
        with self._cond:
            self._received += data
            replies = bytearray()
            for event in self._decoder.feed(data):
                if isinstance(event, StatusRequest) and event.realtime:
                    replies += self._state.reply(event.command)
                elif self._state.printing and not self._held:
                    replies += self._apply(event)
                else:
                    self._held.append(event)
            return bytes(replies)

    def _apply(self, event: Event) -> bytes:
        if isinstance(event, Cut):
            self._tickets.append(Ticket(tuple(self._lines), event.partial))
            self._lines = []
            self._cond.notify_all()
        elif isinstance(event, DrawerKick):
            self.drawer_kicks += 1
        elif isinstance(event, StatusRequest):
            return self._state.reply(event.command)
        else:
            self._lines.append(event)
        return b""

    # -- the server thread ------------------------------------------------------------------------------

    def _serve(self) -> None:
        while self._running:
            for key, _ in self._selector.select():
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                if sock.fileno() == -1:
                    continue  # closed by a call earlier in this round (unplug, stop)
                if sock is self._wake_r:
                    self._run_calls()
                elif sock is self._listener:
                    self._accept()
                else:
                    self._receive(sock)

    def _accept(self) -> None:
        assert self._listener is not None
        with contextlib.suppress(BlockingIOError):
            conn, peer = self._listener.accept()
            conn.setblocking(False)
            self._selector.register(conn, selectors.EVENT_READ, "client")
            log.debug("virtual printer: client %s connected", peer)

    def _receive(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        reply = self.feed(data)
        if reply:
            with contextlib.suppress(OSError):
                conn.send(reply)

    def _listen(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.address if self.address[1] else self._requested)
        listener.listen(8)
        listener.setblocking(False)
        self.address = listener.getsockname()[:2]
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "listener")

    def _unplug(self) -> None:
        for key in list(self._selector.get_map().values()):
            if key.data is not None:
                self._drop(key.fileobj)  # type: ignore[arg-type]
        self._listener = None

    def _drop(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        sock.close()

    def _halt(self) -> None:
        self._unplug()
        self._running = False

    def _in_loop(self, call: Callable[[], None]) -> None:
        """Run `call` on the server thread (which owns the sockets) and wait for it."""
        if self._thread is None:
            call()
            return
        done = threading.Event()
        self._calls.put((call, done))
        self._wake_w.send(b"\0")
        if not done.wait(timeout=5):
            raise TimeoutError("virtual printer: the server thread did not respond")

    def _run_calls(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake_r.recv(64)
        while not self._calls.empty():
            call, done = self._calls.get()
            try:
                call()
            finally:
                done.set()
