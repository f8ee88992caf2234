"""A scale on a pseudo-terminal that speaks a real protocol, for tests, the demo and installers.

`VirtualScale("toledo8217")` opens a pty pair (raw mode); the driver opens `port_path` like any serial
device. A thread answers polls through the protocol's responder; the test scripts the load and the faults.

Not modelled: baud rate and timing of a real line (a pty delivers at memory speed), parity errors (a pty
has no parity; 7-bit scales get their parity bit set on output, as an 8N1 reader would see it), flow
control, and the scale's own delays (a Dibal waiting 7 s for stability).
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import threading
import time
import tty
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

from devices.scales.protocols import codec_class
from simulators.running import Running
from simulators.scales.responders import Responder, make_responder
from simulators.scales.state import Fault, ScaleState, apply_fault, with_parity


class VirtualScale(Running):
    """Use as a context manager; every setter is thread-safe and takes effect on the next answer.

    `link`: a path kept pointing at the current pty, so `unplug()` / `plug()` can model an adapter being
    pulled and put back while the configured port name stays the same.
    """

    def __init__(
        self,
        protocol: str,
        *,
        link: str | os.PathLike[str] | None = None,
        line_parity: bool | None = None,
        interval: float = 0.05,
        **options: Any,
    ) -> None:
        self.protocol = protocol
        self.state = ScaleState()
        self.responder: Responder = make_responder(protocol, **options)
        defaults = codec_class(protocol).defaults
        seven_bit = defaults.bytesize == 7 if line_parity is None else line_parity
        self._parity = defaults.parity if seven_bit else None
        self._interval = interval
        self._link = Path(link) if link is not None else None
        self._lock = threading.Lock()
        self._calls: queue.SimpleQueue[tuple[Callable[[], None], threading.Event]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = -1, -1
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.received = bytearray()
        """The last 4 KiB the host sent (for assertions and debugging)."""
        self.total_received = 0
        self._input = threading.Condition()

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        self._wake_r, self._wake_w = os.pipe()
        self._plug()
        self._thread = threading.Thread(target=self._run, name=f"virtual-scale-{self.protocol}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        self._thread = None
        self._unplug()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    @property
    def port_path(self) -> str:
        """What to configure as the scale's port."""
        if self._link is not None:
            return str(self._link)
        if self._slave is None:
            raise RuntimeError("virtual scale is not running")
        return os.ttyname(self._slave)

    # -- scripting -----------------------------------------------------------------------------------

    def set_weight(self, weight_kg: Decimal, *, stable: bool = True, net: bool = False) -> None:
        with self._lock:
            self.state.weight_kg, self.state.stable, self.state.net = weight_kg, stable, net
            self.state.over = False

    def set_motion(self, moving: bool = True) -> None:
        with self._lock:
            self.state.stable = not moving

    def set_over(self, over: bool = True) -> None:
        with self._lock:
            self.state.over = over

    def switch_off(self) -> None:
        """The scale goes silent (switched off, cable cut at the scale end): the port stays."""
        with self._lock:
            self.state.powered = False

    def switch_on(self) -> None:
        with self._lock:
            self.state.powered = True

    def set_fault(self, fault: Fault | str) -> None:
        with self._lock:
            self.state.fault = Fault(fault)

    def inject(self, data: bytes) -> None:
        """Put raw bytes on the line now (noise, a hand-made frame)."""
        self._in_thread(lambda: self._write(data))

    def wait_for_input(self, total: int, timeout: float = 5.0) -> bool:
        """Block until the host has sent `total` bytes since start (e.g. a number of one-byte polls)."""
        with self._input:
            return self._input.wait_for(lambda: self.total_received >= total, timeout)

    def unplug(self) -> None:
        """The USB adapter is pulled: the pty disappears (and `link` with it)."""
        self._in_thread(self._unplug)

    def plug(self) -> None:
        self._in_thread(self._plug)

    # -- the thread ----------------------------------------------------------------------------------

    def _in_thread(self, call: Callable[[], None]) -> None:
        """Run `call` on the simulator thread, so no fd is closed under its select()."""
        if self._thread is None:
            call()
            return
        done = threading.Event()
        self._calls.put((call, done))
        os.write(self._wake_w, b"x")
        done.wait(5)

    def _run(self) -> None:
        next_tick = time.monotonic()
        while not self._stopping.is_set():
            fds = [self._wake_r] + ([self._master] if self._master is not None else [])
            wait = max(0.0, next_tick - time.monotonic()) if self.responder.continuous else None
            readable, _, _ = select.select(fds, [], [], wait)
            if self._wake_r in readable:
                self._run_calls()
            if self._master is not None and self._master in readable:
                self._answer()
            if self.responder.continuous and time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self._interval
                self._emit(self.responder.tick)

    def _run_calls(self) -> None:
        os.read(self._wake_r, 4096)
        while not self._calls.empty():
            call, done = self._calls.get()
            try:
                call()
            finally:
                done.set()

    def _answer(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 4096)
        except OSError:
            return
        self.received += data
        del self.received[:-4096]
        with self._input:
            self.total_received += len(data)
            self._input.notify_all()
        self._emit(lambda state: self.responder.receive(data, state))

    def _emit(self, produce: Callable[[ScaleState], list[bytes]]) -> None:
        with self._lock:
            if not self.state.powered:
                return
            fault = self.state.fault
            frames = produce(self.state)
        for frame in frames:
            self._write(apply_fault(fault, frame))

    def _write(self, data: bytes) -> None:
        if self._master is None:
            return
        if self._parity is not None:
            data = with_parity(data, self._parity)
        with contextlib.suppress(OSError):  # buffer full (nobody reading) or the far end gone
            os.write(self._master, data)

    def _plug(self) -> None:
        if self._master is not None:
            return
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        if self._link is not None:
            self._link.unlink(missing_ok=True)
            self._link.symlink_to(os.ttyname(self._slave))

    def _unplug(self) -> None:
        if self._link is not None:
            self._link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
