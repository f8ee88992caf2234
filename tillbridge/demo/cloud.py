"""The demo's cloud side: the cloud bridge and a simulated WooCommerce shop, watched live.

A sale at the till lowers the stock in the online shop; an online click & collect order prints on the box's
virtual printer; the customer's pickup QR code, scanned at the till, completes the order in the shop.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from cloud_bridge.config import parse_config
from cloud_bridge.orders import pickup_code_of
from cloud_bridge.owner.app import connected, make_app
from cloud_bridge.owner.logins import set_login
from cloud_bridge.worker import Worker
from devices.barcodes import encode_pickup
from firmware_agent.floor import FloorDesk
from firmware_agent.tickets.measure import change_text
from firmware_agent.web.server import PageServer
from simulators.catalog import SAMPLE_CATALOG
from simulators.shops import WooCommerceSimulator
from tillbridge.demo.view import UNITS, LiveView

ORDER_QR = re.compile(r"\[QR: TBOUT([A-Z0-9-]+)\]")  # a counter ticket's QR: the hand-over code
DEMO_OWNER = "owner"  # the owner's page login the demo makes
ONLINE_ORDER = ("BREAD", 2)  # a click & collect order placed once the shop has seen the first sale


def bridge_for(
    shop: WooCommerceSimulator, broker_url: str, data_dir: Path, shop_id: str, boxes: Sequence[str]
) -> Worker:
    """The cloud bridge on an embedded SQLite store, polling the demo shop briskly."""
    config = {
        "bridge": {"group": "demo", "worker_id": "demo-worker"},
        "database": {"url": f"sqlite:///{data_dir / 'bridge.db'}"},
        "broker": {"url": broker_url},
        "timing": {"poll_s": 0.5, "orders_s": 1.0, "products_s": 5.0},
        "shop": [
            {
                "id": shop_id,
                "platform": "woocommerce",
                "base_url": shop.url,
                "boxes": list(boxes),
                "credentials": {"consumer_key": shop.consumer_key, "consumer_secret": shop.consumer_secret},
                "catalog": {"barcode_meta": ["_ean"], "unit_meta": "_unit"},
                # each sale reaches the shop at the next pass, as the demo narrates them one by one (a
                # shop's default is a 10 s window: the sales of 10 s in one write)
                "write_window_s": 0.0,
            }
        ],
    }
    return Worker(parse_config(config, "demo")).start()


def owner_page(bridge: Worker, shop_id: str) -> tuple[PageServer, str]:
    """The owner's page on a free localhost port, with a login made for this run: (server, password)."""
    password = secrets.token_urlsafe(9)
    with connected(bridge.db), bridge.db.write():
        set_login(DEMO_OWNER, shop_id, password)
    app = make_app(bridge.config, bridge.db, secure_cookies=False)  # plain HTTP on localhost only
    return PageServer(app, "127.0.0.1:0", name="owner-page").start(), password


def watch_shop(shop: WooCommerceSimulator, view: LiveView, stop: threading.Event) -> None:
    """Shows stock changes in the online shop; places one online order once the first sale has arrived."""
    names = {p.sku: p.name for p in SAMPLE_CATALOG}
    last = {sku: shop.stock(sku) for sku in names}
    statuses: dict[int, str] = {}
    mailed: dict[int, int] = {}  # customer notes shown, per order
    ordered = False
    while not stop.wait(0.3):
        for sku, name in names.items():
            now = shop.stock(sku)
            before = last[sku]
            if now != before:
                change = f"{before}→{now}"  # a stock the shop does not manage shows as None
                if before is not None and now is not None:
                    change = change_text(before, now, UNITS[sku])
                view.note(f"🛒  online shop: {name} {change}")
                last[sku] = now
        if not ordered and any(shop.stock(sku) != p.stock for p in SAMPLE_CATALOG for sku in [p.sku]):
            ordered = True
            order_id = shop.place_order(*ONLINE_ORDER, pickup=True, customer="Lucía Fernández")
            view.note(
                f"🛒  online shop: click & collect order #{order_id} placed ({ONLINE_ORDER[1]} × bread)"
            )
        for order_id, order in list(shop.orders.items()):
            if statuses.get(order_id) != order.status:
                statuses[order_id] = order.status
                view.note(f"🛒  online shop: order #{order_id} is {order.status}")
            for note in shop.order_notes(order_id)[mailed.get(order_id, 0) :]:
                view.note(f"✉  the shop mails the customer of #{order_id}: {note['note']!r}")
                mailed[order_id] = mailed.get(order_id, 0) + 1


def collect_at_the_till(
    scan: Callable[[str], None],
    view: LiveView,
    code_of: Callable[[str], str | None],
    floor: Callable[[], FloorDesk | None] = lambda: None,
) -> Callable[[str], None]:
    """Given a printed ticket's text: if it is an order ticket, the floor accepts it and makes it ready
    (the shop mails the customer each step, docs/orders.md), then its customer comes in and shows the
    pickup QR code of their confirmation (`code_of`: the code the bridge made for the order; the box never
    has it, so the shop's ticket cannot be used to collect the order).
    """

    def on_ticket(text: str) -> None:
        match = ORDER_QR.search(text) if "ONLINE ORDER" in text else None
        desk = floor()
        number = match.group(1) if match else None
        kept = desk.order(number) if desk is not None and number is not None else None
        code = code_of(kept.order_id if kept is not None else number) if number is not None else None
        if kept is not None and desk is not None:
            accepted = desk.move(kept.order_id, "accepted", eta_min=10, source="web")
            view.note(f"   the floor accepts order #{accepted.number} (ready in 10 min), then marks it ready")
            desk.move(kept.order_id, "ready", source="web")
        if number is not None and code:
            view.note("   the customer comes in and shows the pickup QR code from their confirmation")
            scan(encode_pickup(number, code))

    return on_ticket


def customer_code(bridge: Worker, shop_id: str) -> Callable[[str], str | None]:
    """What the customer's order confirmation carries: the pickup code the bridge made for the order."""

    def code_of(order_id: str) -> str | None:
        with bridge.db.db.connection_context():
            return pickup_code_of(shop_id, order_id)

    return code_of
