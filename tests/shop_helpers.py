"""Connectors wired to running simulators, a webhook inbox, and small products catalogs for the shop tests."""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hypothesis import strategies as st

from cloud_bridge.connectors import ConnectorOptions
from cloud_bridge.connectors.base import LineOption, OrderDraft
from cloud_bridge.connectors.prestashop import PrestaShopConnector
from cloud_bridge.connectors.shopify import ShopifyConnector
from cloud_bridge.connectors.woocommerce import WooCommerceConnector
from cloud_bridge.retry import RetryPolicy
from simulators.shops import (
    Item,
    ManualClock,
    PrestaShopSimulator,
    ShopifySimulator,
    WooCommerceSimulator,
)
from wire import PhoneLine, format_ts

WAIT = 5.0
SMALL = [
    Item("OIL-1L", "Aceite 1 L", 1095, 24),
    Item("MILK-1L", "Leche 1 L", 99, 48),
    Item("BREAD", "Pan", 180, 15),
]


def many(count: int, stock: int = 10) -> list[Item]:
    return [Item(f"SKU-{i:04d}", f"Item {i}", 100 + i, stock) for i in range(count)]


def options(clock: ManualClock, **kw: Any) -> ConnectorOptions:
    """Fast, deterministic options: the manual clock for waits, a seeded rng, short timeouts."""
    retry = kw.pop("retry", RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0))
    return ConnectorOptions(
        timeout=kw.pop("timeout", 3.0), retry=retry, clock=clock, rng=random.Random(7), **kw
    )


def woo(sim: WooCommerceSimulator, clock: ManualClock, **kw: Any) -> WooCommerceConnector:
    secrets = kw.pop("webhook_secrets", ("whsec",))
    return WooCommerceConnector(
        "demo-woo",
        sim.url,
        kw.pop("consumer_key", sim.consumer_key),
        kw.pop("consumer_secret", sim.consumer_secret),
        webhook_secrets=secrets,
        timezone=kw.pop("timezone", ""),
        options=options(clock, **kw),
    )


def presta(sim: PrestaShopSimulator, clock: ManualClock, **kw: Any) -> PrestaShopConnector:
    key = kw.pop("key", sim.key)
    extra = {
        k: kw.pop(k)
        for k in ("use_patch", "pickup_carriers", "phone_state", "phone_delivery_carrier")
        if k in kw
    }
    return PrestaShopConnector("demo-presta", sim.url, key, options=options(clock, **kw), **extra)


def shopify(sim: ShopifySimulator, clock: ManualClock, **kw: Any) -> ShopifyConnector:
    token = kw.pop("access_token", sim.access_token)
    secrets = kw.pop("webhook_secrets", (sim.client_secret,))
    return ShopifyConnector(
        "demo-shopify",
        sim.url,
        token,
        "gid://shopify/Location/1",
        webhook_secrets=secrets,
        options=options(clock, **kw),
    )


@dataclass(frozen=True)
class Delivered:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookInbox:
    """An HTTP endpoint on 127.0.0.1 that records every POST and answers `status` (200 unless told)."""

    def __init__(self) -> None:
        self.received: queue.Queue[Delivered] = queue.Queue()
        self.status = 200
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                inbox.received.put(Delivered(self.path, dict(self.headers.items()), body))
                self.send_response(inbox.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def next(self) -> Delivered:
        return self.received.get(timeout=WAIT)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def webhook_inbox() -> Iterator[WebhookInbox]:
    inbox = WebhookInbox()
    try:
        yield inbox
    finally:
        inbox.close()


PLATFORMS = ("woocommerce", "prestashop", "shopify")
WRONG_CREDENTIALS: dict[str, dict[str, str]] = {
    "woocommerce": {"consumer_secret": "cs_wrong"},
    "prestashop": {"key": "WRONGKEY0000000000000000000000PS"},
    "shopify": {"access_token": "shpat_wrong"},
}


@contextmanager
def running(platform: str, clock: ManualClock, **kw: Any) -> Iterator[tuple[Any, Any]]:
    """(simulator, connector) for `platform` with the SMALL catalog, the simulator on `clock`."""
    items = SMALL
    if platform == "woocommerce":
        with WooCommerceSimulator(items, clock=clock) as wsim:
            yield wsim, woo(wsim, clock, **kw)
    elif platform == "prestashop":
        with PrestaShopSimulator(items, clock=clock) as psim:
            yield psim, presta(psim, clock, **kw)
    else:
        with ShopifySimulator(items, clock=clock) as ssim:
            yield ssim, shopify(ssim, clock, **kw)


class CannedShop:
    """An HTTP server that answers every request with the same canned reply: a shop gone strange."""

    def __init__(self) -> None:
        self.status = 200
        self.content_type = "application/json"
        self.body = b"{}"
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(canned.status)
                self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = do_PUT = do_PATCH = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def phone_draft(sku: str, qty: int) -> OrderDraft:
    """The phone order the connector tests create: a pizza with an extra and a note, for pickup at 20:00."""
    return OrderDraft(
        ref="till-1-p7",
        lines=(PhoneLine(sku, qty, (LineOption("Extra", "Aceitunas"),), "sin cebolla"),),
        customer="Luis Peña",
        phone="600111222",
        pickup=True,
        due_at=format_ts(datetime(2026, 12, 6, 20, 0, tzinfo=UTC)),
        note="Paga en tienda",
    )


@st.composite
def mutated(
    draw: st.DrawFn,
    template: Any,
    junk: st.SearchStrategy[Any],
    *,
    junk_one_in: int = 9,
    drop_one_in: int = 11,
) -> Any:
    """A shop's realistic answer (`template`, decoded JSON) with about one value in `junk_one_in` replaced
    by `junk` and one key in `drop_one_in` dropped: what a parser of the shop's answers must survive."""

    def walk(value: Any) -> Any:
        if draw(st.integers(0, junk_one_in - 1)) == 0:
            return draw(junk)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items() if draw(st.integers(0, drop_one_in - 1)) != 0}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(template)
