"""Running a real core loop on a real store in a thread, and collecting what it acknowledges."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devices.barcodes import BarcodeConfig
from devices.readings import ScanRead
from firmware_agent.core import Applied, CoreLoop, Listener
from firmware_agent.events import Stop
from tests.store_helpers import open_store


class Running:
    def __init__(self, core: CoreLoop) -> None:
        self.core = core
        self.applied: queue.Queue[Applied] = queue.Queue()

    def scan(self, *codes: str, source: str = "front") -> list[Applied]:
        """Post scans and wait until each one has been applied (and acknowledged or refused)."""
        for code in codes:
            self.core.post(ScanRead(source, code))
        return [self.next() for _ in codes]

    def next(self) -> Applied:
        return self.applied.get(timeout=10)


@contextmanager
def running_core(tmp_path: Path, *listeners: Listener, store=None, services=()) -> Iterator[Running]:
    """A core loop in a thread, with services started before it runs as the agent does."""
    store = store or open_store(tmp_path)
    core = CoreLoop(store, BarcodeConfig())
    running = Running(core)
    core.listeners = [*listeners, running.applied.put]
    for service in services:
        service.start(core)
    thread = threading.Thread(target=core.run, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        for service in reversed(services):
            service.stop()
        core.post(Stop())
        thread.join(timeout=10)
        store.close()
