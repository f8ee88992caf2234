"""The box process of `rss_catalog_wire` (bench/bench_box.py): store, core loop, MQTT link and a cashier
scanning every 20 ms, with nothing else imported, so its memory is a box's.

Usage: python -m bench.catalog_box DATA_DIR PORT SHOP BOX — prints "online" once the link is.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from pathlib import Path

from devices.barcodes import BarcodeConfig
from devices.readings import ScanRead
from firmware_agent.config import validate
from firmware_agent.core import CoreLoop
from firmware_agent.link import Link
from firmware_agent.store import Store
from simulators.catalog import generated_catalog

PRODUCTS = 50_000


def main(data: Path, port: int, shop: str, box: str) -> int:
    store = Store.open(data / "tillbridge.db")
    core = CoreLoop(store, BarcodeConfig())
    config = {
        "box": {"id": box, "shop": shop, "data_dir": str(data)},
        "mqtt": {"url": f"mqtt://127.0.0.1:{port}"},
    }
    link = Link(validate(config, "bench"))
    link.start(core)
    codes = [p.barcodes[0] for p in itertools.islice(generated_catalog(PRODUCTS), 0, PRODUCTS, 997)]

    def cashier() -> None:
        link.online.wait()
        print("online", flush=True)
        for code in itertools.cycle(codes):
            time.sleep(0.02)
            core.post(ScanRead("till", code))

    threading.Thread(target=cashier, daemon=True).start()
    core.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]))
