"""A box in a child process with a counter printer and a kitchen station's printer, for kill -9 tests:
`python -m tests.floor_box_process DATA_DIR COUNTER_URL KITCHEN_URL [order]` keeps an order with a ticket per
station when `order` is given, prints "ready", and prints until killed."""

from __future__ import annotations

import sys
import threading
from pathlib import Path


def main(argv: list[str]) -> int:
    from devices.barcodes import BarcodeConfig
    from devices.printers import Printer
    from firmware_agent.core import CoreLoop
    from firmware_agent.printing import PrintService
    from firmware_agent.store.orders import on_order_printed, store_order
    from firmware_agent.tickets.samples import SELFTEST
    from tests.store_helpers import open_store
    from wire import Order, OrderLine

    data_dir, counter_url, kitchen_url = Path(argv[0]), argv[1], argv[2]
    store = open_store(data_dir)
    core = CoreLoop(store, BarcodeConfig())
    stations = frozenset({"kitchen"})
    counter = PrintService(
        Printer.from_url(counter_url), selftest=lambda: SELFTEST, retry_s=0.1, stations=stations
    )
    kitchen = PrintService(
        Printer.from_url(kitchen_url),
        selftest=lambda: SELFTEST,
        retry_s=0.1,
        station="kitchen",
        stations=stations,
    )
    for service in (counter, kitchen):
        service.on_printed["order"] = on_order_printed
        service.start(core)
    threading.Thread(target=core.run, daemon=True).start()
    if argv[3:] == ["order"]:
        order = Order("1042", "2026-12-06T19:00:00.000Z", "pickup", (OrderLine("PIZ", "Pizza", 1, 950),), 950)
        tickets = {"": b"COUNTER TICKET\n\x1dV\x00", "kitchen": b"KITCHEN TICKET\n\x1dV\x00"}
        core.call(lambda s: store_order(s, order.to_json(), tickets, 3600))
    print("ready", flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
