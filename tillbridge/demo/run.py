"""The demo: a whole box — store, core loop, print queue — on simulated devices, shown live.

The box starts without a catalog: the cloud bridge reads it from the simulated WooCommerce shop (barcodes in
`global_unique_id`, the sold-by-weight unit in a `_unit` meta) and sends it down. Then a simulated scanner
works through a day at a grocer's till (`simulators.catalog.DAY_AT_THE_TILL`), then keeps
selling at random; a virtual Toledo 8217 scale on a pty weighs the cheese; a virtual printer on a local TCP
port prints the control sheet and whatever else is queued. A second till (`tills.py`) sells at the same shop,
and a stock board shows both boxes' numbers next to the online shop's. A third till, a POS without the box's
scanner (`receipts.py`), prints its receipts through box 1, which learns its sales from them.
Everything is real but the hardware: the same store, journal and core loop as on a box.
"""

from __future__ import annotations

import itertools
import random
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from devices.barcodes import BarcodeConfig
from devices.printers import Printer
from devices.readings import ScanRead
from devices.scales import ScaleReading
from firmware_agent.agent import Agent, AgentSettings
from firmware_agent.config import AgentConfig, Secret, validate
from firmware_agent.config.schema import WebConfig
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.events import Call
from firmware_agent.link import build_link
from firmware_agent.printing import PrintRequest, PrintService
from firmware_agent.selftest import selftest
from firmware_agent.tickets import layouts
from firmware_agent.tickets.control import default_control_sheet
from firmware_agent.web.service import BoxPage
from firmware_agent.weighing import ScaleService
from firmware_agent.wiring import Services
from simulators.broker import Broker, free_port, port_is_free
from simulators.catalog import DAY_AT_THE_TILL, SAMPLE_CATALOG
from simulators.printer import VirtualPrinter
from simulators.scales import VirtualScale
from simulators.scanner import SimulatedScanner
from simulators.shops import WooCommerceSimulator
from tillbridge.demo.cloud import (
    DEMO_OWNER,
    bridge_for,
    collect_at_the_till,
    customer_code,
    owner_page,
    watch_shop,
)
from tillbridge.demo.receipts import ReceiptTill
from tillbridge.demo.tills import DB_NAME, SECOND_BOX, SecondTill, StockBoard
from tillbridge.demo.view import LiveView

BOX_ID = "demo-box-1"
SHOP_ID = "demo"
STATUS_REQUEST = '{"v":1,"id":"1","cmd":"status"}'
DEMO_WEIGHT_KG = Decimal("0.250")  # what lies on the virtual scale
FINISH_WAIT_S = 20.0  # at most, for the second till and the numbers to settle before the demo stops


@dataclass
class DemoOptions:
    data_dir: Path | None = None
    interval_s: float = 1.5
    scans: int | None = None  # stop after this many scans; None runs until Ctrl-C
    seed: int | None = None
    mqtt_port: int = 1883


def till_day(rng: random.Random, open_shop: Sequence[threading.Event]) -> Iterator[str]:
    """The scripted morning, then random sales of counted products for as long as the demo runs.

    The first scan waits for `open_shop` (the catalog has come from the online shop, the scale has a weight
    on it), as a cashier waits for the tills.
    """
    sellable = [p.barcodes[0] for p in SAMPLE_CATALOG if p.unit == "each"]
    for ready in open_shop:
        ready.wait(20)
    yield from DAY_AT_THE_TILL
    while True:
        yield rng.choice(sellable)


class _StopAfter:
    """A listener that ends the demo after `count` scans at the till (used by tests and `--scans`), once
    `finish` has run (in a thread of its own: the tills and the cloud go on meanwhile)."""

    def __init__(self, agent: Agent, count: int | None, finish: Callable[[], None] = lambda: None) -> None:
        self.agent, self.left, self.finish = agent, count, finish

    def __call__(self, applied: Applied) -> None:
        if self.left is None or not isinstance(applied.event, ScanRead) or applied.event.source != "till":
            return
        self.left -= 1
        if self.left == 0:
            threading.Thread(target=self._finish, name="demo-finish", daemon=True).start()

    def _finish(self) -> None:
        try:
            self.finish()
        finally:
            self.agent.request_stop()


class _PrintControlSheet:
    """Queues the control sheet at start, as an installer would print it from the button."""

    def __init__(self, service: PrintService) -> None:
        self.service = service

    def start(self, core: CoreLoop) -> None:
        core.post(PrintRequest("control", layouts.control_sheet(default_control_sheet(), self.service.style)))

    def stop(self) -> None:
        pass


class _ShowBoxPage:
    """Prints where the box's page is once it listens (it starts with the box), so a newcomer who opens the
    URL at once gets the page, not a refused connection."""

    def __init__(self, page: BoxPage, pin: str, view: LiveView) -> None:
        self.page, self.pin, self.view = page, pin, view

    def start(self, core: CoreLoop) -> None:
        url = self.page.url
        self.view.note(f"🌐  the box's page on {url} (PIN {self.pin})")
        self.view.note(f"🧾  its order board (accept, ready, collected, phone orders) on {url}#orders")

    def stop(self) -> None:
        pass


def _agree_at_the_end(second: SecondTill, board: StockBoard, view: LiveView, receipts: ReceiptTill) -> None:
    """Before the demo stops: the second till's sales made, the receipt till's receipts read, and every
    number settled everywhere."""
    second.done.wait(FINISH_WAIT_S)
    receipts.done.wait(FINISH_WAIT_S)
    board.wait_until_agreed(FINISH_WAIT_S)
    view.note(board.summary())


def _when_catalog_arrives(ready: threading.Event, agent: Agent, view: LiveView) -> Callable[[Applied], None]:
    """Sets `ready` once the box has products: the catalog the bridge read from the online shop."""

    def listener(applied: Applied) -> None:
        core = agent.core
        if ready.is_set() or not isinstance(applied.event, Call) or core is None:
            return
        count = core.store.product_count()
        if count:
            view.note(f"📦  catalog from the online shop: {count} products, barcodes and units on the box")
            ready.set()

    return listener


def _when_weighed(ready: threading.Event) -> Callable[[Applied], None]:
    def listener(applied: Applied) -> None:
        if isinstance(applied.event, ScaleReading) and applied.event.sellable:
            ready.set()

    return listener


def _watch_printer(
    printer: VirtualPrinter, view: LiveView, stop: threading.Event, on_ticket: Callable[[str], None]
) -> None:
    for seen in itertools.count(1):
        while not stop.is_set():
            try:
                ticket = printer.wait_for_tickets(seen, timeout=0.2)[seen - 1]
                break
            except TimeoutError:
                continue
        else:
            return
        title = next((line.text.strip() for line in ticket.lines if line.text.strip()), "ticket")
        view.note(f"🖨  virtual printer: {title!r}, {len(ticket.lines)} lines ({printer.url})")
        on_ticket(ticket.text)


def _box_page(services: Services, config: AgentConfig) -> tuple[BoxPage, str]:
    """The box's local page on a localhost port it picks when it starts, with a PIN made for this run."""
    pin = f"{random.SystemRandom().randrange(10**6):06d}"
    web = WebConfig(listen="127.0.0.1:0", pin=Secret(pin))
    return BoxPage(web, BOX_ID, SHOP_ID, services, mqtt=config.mqtt), pin


def demo_config(data_dir: Path, mqtt_url: str) -> AgentConfig:
    """The demo box's config, as an installer would write it (the devices are the simulated ones)."""
    return validate(
        {
            "box": {"id": BOX_ID, "shop": SHOP_ID, "data_dir": str(data_dir)},
            "mqtt": {"url": mqtt_url},
            "orders": {"language": "en"},
        },
        "demo",
    )


def demo_broker(folder: Path, port: int, view: LiveView) -> Broker:
    """mosquitto on 127.0.0.1 (anonymous: the demo's broker listens on loopback only)."""
    if not port_is_free(port):
        taken, port = port, free_port()
        view.note(f"port {taken} is taken (another broker?): the demo broker listens on {port} instead")
    return Broker(folder, port=port, persistence=False)


def run_demo(options: DemoOptions, out: TextIO) -> int:
    """The demo on `options.data_dir`, or on a throw-away folder that is removed when the demo ends."""
    view = LiveView(out)
    if options.data_dir is not None:
        code = _run(options, options.data_dir, view)
        view.note(f"demo stopped; the journal and store stay in {options.data_dir}")
        return code
    with tempfile.TemporaryDirectory(prefix="tillbridge-demo-") as folder:
        code = _run(options, Path(folder), view)
    view.note("demo stopped; its throw-away folder is removed (--data-dir DIR keeps the journal and store)")
    return code


def _run(options: DemoOptions, data_dir: Path, view: LiveView) -> int:
    view.header(f"tillbridge demo — box {BOX_ID} in shop {SHOP_ID}, data in {data_dir}")
    stop_watching = threading.Event()
    with (
        demo_broker(data_dir / "broker", options.mqtt_port, view) as broker,
        VirtualPrinter() as printer,
        VirtualPrinter() as pos_printer,
        VirtualScale("toledo8217") as scale,
        WooCommerceSimulator() as shop,
    ):
        topic = f"tillbridge/v1/{SHOP_ID}/{BOX_ID}/cmd"
        view.note(f"MQTT broker on {broker.url}; remote support answers, try:")
        view.note(f"  mosquitto_rr -V 5 -p {broker.port} -t {topic} -e support/reply -m '{STATUS_REQUEST}'")
        scale.set_weight(DEMO_WEIGHT_KG, stable=True)
        bridge = bridge_for(shop, broker.url, data_dir, SHOP_ID, [BOX_ID, SECOND_BOX])
        view.note(f"cloud bridge running; demo WooCommerce shop on {shop.url}")
        owner, password = owner_page(bridge, SHOP_ID)
        view.note(f"🌐  owner's page on {owner.url} (user {DEMO_OWNER}, password {password})")
        second = SecondTill(data_dir / "till-2", SHOP_ID, broker.url, view)
        view.note(f"a second till, {SECOND_BOX}, sells at the same shop (scanner column: till-2)")
        board = StockBoard({"box 1": data_dir / DB_NAME, "box 2": data_dir / "till-2" / DB_NAME}, shop, view)
        config = demo_config(data_dir, broker.url)
        services = Services(
            scale=ScaleService("toledo8217", scale.port_path, None, 0.2), link=build_link(config)
        )
        services.printing = PrintService(
            Printer.from_url(printer.url + "?paper=58"),
            selftest=lambda: selftest(BOX_ID, agent.core, services.link_state()),
        )
        receipt_till = ReceiptTill(pos_printer, view)
        services.receipts = receipt_till.service
        services.connect()
        scale_ready, catalog_ready = threading.Event(), threading.Event()
        script = itertools.islice(
            till_day(random.Random(options.seed), [catalog_ready, scale_ready]), options.scans
        )
        scanner = SimulatedScanner("till", barcodes=script, interval=options.interval_s)
        counter = SimulatedScanner("counter")  # the click & collect counter's scanner
        watchers = [
            threading.Thread(
                target=_watch_printer,
                args=(
                    printer,
                    view,
                    stop_watching,
                    collect_at_the_till(counter.scan, view, customer_code(bridge, SHOP_ID), services.floor),
                ),
                daemon=True,
            ),
            threading.Thread(target=watch_shop, args=(shop, view, stop_watching), daemon=True),
            threading.Thread(target=board.watch, args=(stop_watching,), daemon=True),
            threading.Thread(
                target=second.sell_after_pickup,
                args=(shop, options.interval_s, stop_watching),
                daemon=True,
            ),
            threading.Thread(
                target=receipt_till.sell, args=(second.done, options.interval_s, stop_watching), daemon=True
            ),
        ]
        for watcher in watchers:
            watcher.start()
        box_page, pin = _box_page(services, config)
        settings = AgentSettings(
            box_id=BOX_ID,
            data_dir=data_dir,
            barcodes=BarcodeConfig(),
            devices=[scanner, counter],
            services=[
                *services.in_start_order(),
                _PrintControlSheet(services.printing),
                box_page,
                _ShowBoxPage(box_page, pin, view),
            ],
            listeners=[view],
        )
        agent = Agent(settings)
        settings.listeners = [
            view,
            _StopAfter(agent, options.scans, lambda: _agree_at_the_end(second, board, view, receipt_till)),
            receipt_till.listener,
            _when_weighed(scale_ready),
            _when_catalog_arrives(catalog_ready, agent, view),
        ]
        code = agent.run()
        if options.scans is None:
            view.note(board.summary())
        stop_watching.set()
        for watcher in watchers:
            watcher.join(timeout=2)
        second.stop()
        owner.stop()
        bridge.stop()
    return code
