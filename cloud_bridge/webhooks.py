"""Shop webhooks: `POST /webhooks/<shop>`, verified by that shop's connector, deduplicated, then treated as a
hint. A webhook only makes the shop's orders (or products) feed due at once; the feed is what changes the
ledger. Webhook payloads can be stale, repeated and out of order, and some are never sent at all, so acting
on the feed keeps one path for every order, and polling still covers the webhooks that never arrive.

Answers follow what the shops expect: 200 for anything signed (even a body we cannot read: the shop would
only send it again), 401 for a bad signature, 404 for a shop this bridge does not serve.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from cloud_bridge.connectors import ShopConnector, WebhookEvent
from cloud_bridge.errors import MalformedWebhook, UnsupportedOperation, WebhookRejected

log = logging.getLogger(__name__)

MAX_BODY: Final = 2 * 1024 * 1024
PREFIX: Final = "/webhooks/"


class WebhookServer:
    def __init__(
        self,
        listen: str,
        connectors: Mapping[str, ShopConnector],
        on_event: Callable[[str, WebhookEvent], None],
    ) -> None:
        host, _, port = listen.rpartition(":")
        self.connectors, self.on_event = connectors, on_event
        self.server = _Server((host, int(port)), _Handler)
        self.server.hooks = self
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.2,), name="webhooks", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> WebhookServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def receive(self, path: str, headers: Mapping[str, str], body: bytes) -> int:
        """The HTTP status to answer for one delivery."""
        shop = path.removeprefix(PREFIX).strip("/") if path.startswith(PREFIX) else ""
        connector = self.connectors.get(shop)
        if connector is None:
            return 404
        try:
            event = connector.verify_webhook(headers, body)
        except WebhookRejected as exc:
            log.warning("webhook for shop %s refused: %s", shop, exc)
            return 401
        except MalformedWebhook as exc:
            log.warning("webhook for shop %s unreadable (polling will catch up): %s", shop, exc)
            return 200
        except UnsupportedOperation:
            return 404
        if event is not None:
            self.on_event(shop, event)
        return 200


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hooks: WebhookServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 10

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(413)
            return
        body = self.rfile.read(length)
        try:
            status = self.server.hooks.receive(self.path, dict(self.headers.items()), body)
        except Exception:  # never let one delivery take the endpoint down; the shop will retry or we poll
            log.exception("webhook %s failed", self.path[:100])
            status = 500
        self._answer(status)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webhooks: %s", format % args)
