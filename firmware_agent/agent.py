"""The box daemon's process: open the store, start the device threads, run the core loop.

The main thread runs the core loop; SIGTERM and SIGINT post a `Stop`, so the batch in hand commits (or rolls
back) whole before the process leaves. systemd hears READY=1 once the store is open and the devices are
started, and WATCHDOG=1 from the loop itself, so a wedged loop gets the box restarted.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

from devices.barcodes import BarcodeConfig
from devices.readings import Post
from firmware_agent.core import CoreLoop, Listener
from firmware_agent.events import Stop
from firmware_agent.report import log_event
from firmware_agent.sdnotify import Notifier
from firmware_agent.store import Store, StoreLimits

log = logging.getLogger(__name__)

DB_NAME = "tillbridge.db"
RESTART_EXIT = 75  # EX_TEMPFAIL: "try again", so systemd starts the agent again


class DeviceRunner(Protocol):
    """Anything that runs in its own thread and posts readings: scanners, the scale, the button."""

    name: str

    def run(self, post: Post, stop: threading.Event) -> None: ...


class Service(Protocol):
    """Something that lives beside the core loop for the whole run (the MQTT link, the print worker).

    `start` is called once the store is open and the loop exists, before READY; `stop` after the loop ended.
    Services talk to the box only through `core.post()` / `core.call()` and listeners.
    """

    def start(self, core: CoreLoop) -> None: ...

    def stop(self) -> None: ...


@dataclass
class AgentSettings:
    """What the daemon needs to start, derived from the config (or built directly by the demo and tests)."""

    box_id: str
    data_dir: Path
    barcodes: BarcodeConfig
    limits: StoreLimits = field(default_factory=StoreLimits)
    devices: Sequence[DeviceRunner] = ()
    listeners: Sequence[Listener] = ()
    services: Sequence[Service] = ()
    watchdog: bool = True


class Agent:
    def __init__(self, settings: AgentSettings, notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.notifier = notifier or Notifier()
        self.stop_devices = threading.Event()
        self.core: CoreLoop | None = None
        self.started = threading.Event()
        self.restart_requested = False

    def run(self) -> int:
        started = time.monotonic()
        s = self.settings
        store = Store.open(s.data_dir / DB_NAME, s.limits)
        interval = self.notifier.watchdog_interval() if s.watchdog else None
        self.core = core = CoreLoop(
            store,
            s.barcodes,
            listeners=[log_event, *s.listeners],
            tick_s=min(1.0, interval or 1.0),
            on_tick=self.notifier.watchdog if interval else lambda: None,
        )
        self._handle_signals(core)
        for service in s.services:
            service.start(core)
        threads = list(self._start_devices(core, s.devices))
        status = f"box {s.box_id}: journal at seq {store.last_seq}, {store.product_count()} products"
        self.notifier.ready(status)
        log.info("ready in %.0f ms: %s", (time.monotonic() - started) * 1000, status)
        self.started.set()
        try:
            core.run()
        finally:
            self.notifier.stopping()
            self.stop_devices.set()
            self._stop_services(core)
            for thread in threads:
                thread.join(timeout=5)
            store.close()
            log.info("stopped cleanly at seq %d", store.last_seq)
        return RESTART_EXIT if self.restart_requested else 0

    def _stop_services(self, core: CoreLoop) -> None:
        """Stop services in reverse order while the loop keeps serving them, so their last work commits."""

        def stop_all() -> None:
            for service in reversed(self.settings.services):
                service.stop()

        stopper = threading.Thread(target=stop_all, name="stopping")
        stopper.start()
        core.run(until=lambda: not stopper.is_alive())
        core.close()

    def request_restart(self) -> None:
        """Stop cleanly and exit with `RESTART_EXIT`, which systemd's Restart=on-failure restarts."""
        self.restart_requested = True
        self.request_stop()

    def request_stop(self) -> None:
        if self.core is not None:
            self.core.post(Stop())

    def _handle_signals(self, core: CoreLoop) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("%s received: finishing the batch in hand", signal.Signals(signum).name)
            core.post(Stop())

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _start_devices(self, core: CoreLoop, devices: Iterable[DeviceRunner]) -> Iterable[threading.Thread]:
        for device in devices:
            thread = threading.Thread(
                target=device.run,
                args=(core.post, self.stop_devices),
                name=f"device-{device.name}",
                daemon=True,
            )
            thread.start()
            yield thread
