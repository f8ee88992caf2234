"""A pizzeria end to end, for the flow tests of each shop: a real mosquitto, the bridge on SQLite, the shop's
simulator, and a box wired from its config as the agent wires it (store, core loop, link, the counter's
printer and the kitchen's, both virtual printers that decode what they print)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cloud_bridge import models as m
from cloud_bridge.worker import Worker
from devices.barcodes import BarcodeConfig
from firmware_agent.config.loader import validate
from firmware_agent.core import CoreLoop
from firmware_agent.events import Stop
from firmware_agent.floor import FloorDesk
from firmware_agent.wiring import Services
from simulators.broker import Broker
from simulators.printer import VirtualPrinter
from tests.bridge_helpers import query as query  # the flows import them from here too
from tests.bridge_helpers import running_worker as running_worker
from tests.bridge_helpers import wait_for
from tests.mqtt_helpers import FAST, SHOP
from tests.store_helpers import open_store


@dataclass
class FloorBox:
    core: CoreLoop
    floor: FloorDesk
    counter: VirtualPrinter
    kitchen: VirtualPrinter


@contextlib.contextmanager
def pizzeria_box(tmp_path: Path, broker: Broker, box: str = "till-1") -> Iterator[FloorBox]:
    """A box with its counter printer and a kitchen station for the "Pizzas" category, tickets in English."""
    data_dir = tmp_path / box
    data_dir.mkdir(exist_ok=True)
    with VirtualPrinter() as counter, VirtualPrinter() as kitchen:
        config = validate(
            {
                "box": {"id": box, "shop": SHOP, "data_dir": str(data_dir)},
                "mqtt": {"url": broker.url, **FAST},
                "printer": {"url": counter.url, "paper_mm": 80},
                "orders": {
                    "language": "en",
                    "station": [
                        {
                            "name": "kitchen",
                            "url": kitchen.url,
                            "tags": ["Pizzas"],
                            "skus": ["PIZ-*"],
                            "paper_mm": 58,
                        }
                    ],
                },
            },
            "test",
        )
        services = Services.build(config, None)
        for printer in (services.printing, *services.stations):
            assert printer is not None
            printer.retry_s = 0.1
        store = open_store(data_dir)
        core = CoreLoop(store, BarcodeConfig())
        parts = services.in_start_order()
        for part in parts:
            part.start(core)
        thread = threading.Thread(target=core.run, daemon=True)
        thread.start()
        floor = services.floor()
        assert floor is not None and services.link is not None
        services.link.ready.wait(20)
        try:
            yield FloorBox(core, floor, counter, kitchen)
        finally:
            for part in reversed(parts):
                part.stop()
            core.post(Stop())
            thread.join(timeout=10)
            store.close()


def wait_for_catalog(box: FloorBox, sku: str = "PIZ-MARG") -> None:
    """A phone order names products of the box's catalog, which comes from the shop after the box starts."""
    wait_for(lambda: box.core.call(lambda store: store.product(sku)) is not None, 30, f"{sku} in the catalog")


def notices(worker: Worker, order_id: str) -> list[tuple[str, str]]:
    """(stage, state) of every notice the bridge queued for the shop about this order, in order."""

    def read() -> list[tuple[str, str]]:
        rows = m.OrderNotice.select().where(m.OrderNotice.order_id == order_id).order_by(m.OrderNotice.id)
        return [(row.stage, row.state) for row in rows]

    found: list[tuple[str, str]] = query(worker, read)
    return found


def phone_order_argv(url: str) -> list[str]:
    """`tillbridge order add` for the flow tests: two pizzas with an extra and a note, and a beer."""
    argv = ["order", "add", "till-1", "--shop", SHOP, "--url", url, "--customer", "Luis Peña", "--phone"]
    return [*argv, "600111222", "--line", "PIZ-MARG x2 Extra=Aceitunas; sin cebolla", "--line", "CANA"]
