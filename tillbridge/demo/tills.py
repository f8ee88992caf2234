"""The demo's second till and its stock board: two boxes and the online shop, one stock truth.

A second box (`demo-box-2`: its own process, store, core loop and MQTT link, only a scanner) sells a loaf
once the click & collect order has been handed over at the first; the board shows, whenever a number
changes, what each box shows next to what the online shop shows. The boxes read their numbers from the
cloud's levels plus their own newer sales, so all three agree within a moment of any change.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from devices.barcodes import BarcodeConfig
from devices.readings import ScanRead
from firmware_agent.agent import Agent, AgentSettings
from firmware_agent.config import validate
from firmware_agent.link import Link
from firmware_agent.store.peek import read_only
from firmware_agent.tickets.measure import stock_text
from simulators.catalog import SAMPLE_CATALOG
from simulators.scanner import SimulatedScanner
from simulators.shops import WooCommerceSimulator
from tillbridge.demo.view import UNITS, LiveView

SECOND_BOX: Final = "demo-box-2"
SECOND_TILL_SALES: Final = ("8410000000030", "8410000000023")  # a loaf, then a litre of milk
DB_NAME: Final = "tillbridge.db"
NAMES: Final = {p.sku: p.name for p in SAMPLE_CATALOG}


class SecondTill:
    """Another till of the same shop, a box process of its own (a box's store is one per process); its
    scans show in the live view as `till-2`. It sells what is written to its stdin, one barcode a line.
    """

    def __init__(self, data_dir: Path, shop_id: str, mqtt_url: str, view: LiveView) -> None:
        self.data_dir, self.view = data_dir, view
        self.done = threading.Event()  # its sales are made (or the demo is stopping)
        argv = [sys.executable, "-m", "tillbridge.demo.tills", str(data_dir), shop_id, mqtt_url]
        self._process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._relay = threading.Thread(target=self._show, name="second-till-view", daemon=True)
        self._relay.start()

    def stop(self) -> None:
        """Closing its stdin stops it cleanly, as SIGTERM would a box."""
        with contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._relay.join(timeout=2)

    def sell_after_pickup(self, shop: WooCommerceSimulator, interval_s: float, stop: threading.Event) -> None:
        """Once an online order was handed over at the first till, sells a few things here."""
        try:
            while not stop.wait(0.2):
                handed_over = any(order.status == "completed" for order in shop.orders.values())
                if handed_over and _has_catalog(self.data_dir / DB_NAME):
                    break
            for barcode in SECOND_TILL_SALES:
                if stop.is_set():
                    return
                self._scan(barcode)
                stop.wait(max(interval_s, 0.2))
        finally:
            self.done.set()

    def _scan(self, barcode: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # it has stopped: nothing more to sell there
            assert self._process.stdin is not None
            self._process.stdin.write(barcode + "\n")
            self._process.stdin.flush()

    def _show(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.view.line(line.rstrip("\n"))


class StockBoard:
    """What each box shows next to what the online shop shows, printed whenever one of them changes."""

    def __init__(self, boxes: Mapping[str, Path], shop: WooCommerceSimulator, view: LiveView) -> None:
        self.boxes, self.shop, self.view = dict(boxes), shop, view
        self._last: dict[str, tuple[int | None, ...]] = {}
        self._showing = threading.Lock()  # the watcher and the summary both show changes

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(0.3):
            self.show_changes()

    def show_changes(self) -> dict[str, tuple[int | None, ...]]:
        """Prints the rows that changed since last shown; returns every row as it was read."""
        with self._showing:
            rows = self.rows()
            for sku, row in rows.items():
                if self._last.get(sku) != row and None not in row:
                    self._last[sku] = row
                    self.view.note(f"📦  {self._line(sku, row)}")
            return rows

    def rows(self) -> dict[str, tuple[int | None, ...]]:
        """sku → (what each box shows, …, what the shop shows); None where a box has no such product yet."""
        shown = {box: _stock(path) for box, path in self.boxes.items()}
        return {sku: (*(shown[box].get(sku) for box in self.boxes), self.shop.stock(sku)) for sku in NAMES}

    def wait_until_agreed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(_agree(row) for row in self.rows().values()):
                return True
            time.sleep(0.2)  # the demo's own pacing, not a test's synchronisation
        return False

    def summary(self) -> str:
        """The closing line, after the rows it sums up: it must never say "agree" under rows that do not."""
        rows = self.show_changes()
        off = [self._line(sku, row) for sku, row in rows.items() if not _agree(row)]
        if not off:
            return f"📦  at the end: both boxes and the online shop agree on all {len(rows)} products"
        return "📦  at the end, not agreed yet: " + "; ".join(off)

    def _line(self, sku: str, row: tuple[int | None, ...]) -> str:
        unit = UNITS.get(sku, "each")
        shown = [("?" if value is None else stock_text(value, unit)) for value in row]
        boxes = " · ".join(f"{box} {value}" for box, value in zip(self.boxes, shown, strict=False))
        mark = "  ✔ agree" if _agree(row) else ""
        return f"{NAMES[sku]}: {boxes} · online shop {shown[-1]}{mark}"


def _agree(row: tuple[int | None, ...]) -> bool:
    """Every box shows what the shop shows (the shop shows no negatives: it holds 0 where a till oversold)."""
    *boxes, shop = row
    return all(value is not None and max(value, 0) == shop for value in boxes)


def _stock(path: Path) -> dict[str, int]:
    """What a box shows for each product, read as another process would (the box's store is in WAL mode)."""
    with contextlib.suppress(sqlite3.Error), read_only(path, timeout_s=1) as store:
        return store.stock()
    return {}


def _has_catalog(path: Path) -> bool:
    return bool(_stock(path))


# ---- the second till's process ----------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """`python -m tillbridge.demo.tills DATA_DIR SHOP MQTT_URL`: the second till, selling what stdin says."""
    data_dir, shop_id, mqtt_url = Path(argv[0]), argv[1], argv[2]
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = validate(
        {"box": {"id": SECOND_BOX, "shop": shop_id, "data_dir": str(data_dir)}, "mqtt": {"url": mqtt_url}},
        "demo second till",
    )
    scanner = SimulatedScanner("till-2")
    view = LiveView(sys.stdout, colour=False)
    settings = AgentSettings(
        box_id=SECOND_BOX,
        data_dir=data_dir,
        barcodes=BarcodeConfig(),
        devices=[scanner],
        services=[Link(config)],
        listeners=[lambda applied: view(applied) if isinstance(applied.event, ScanRead) else None],
        watchdog=False,
    )
    agent = Agent(settings)

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                scanner.scan(line.strip())
        agent.request_stop()

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
    return agent.run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
