"""Webhook delivery from a simulated shop: one background thread POSTs queued deliveries in order.

The body can be built at delivery time (WooCommerce sends the resource as it is then, not as it was when
the event happened). A failed delivery is retried `retries` times, `retry_delay` seconds apart: Shopify's
8 tries over 4 hours shrink to whatever a test can wait for; WooCommerce never retries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from simulators.shops.server import ShopSimulator

log = logging.getLogger(__name__)


def sign(body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(body, secret)), as both WooCommerce and Shopify sign webhooks."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


@dataclass
class Delivery:
    url: str
    build: Callable[[], tuple[dict[str, str], bytes] | None]  # -> (headers, body) when sent; None: skip
    retries: int = 0
    on_result: Callable[[bool], None] | None = None


class WebhookSender:
    def __init__(self, name: str, retry_delay: float = 0.05, timeout: float = 5.0) -> None:
        self.name = name
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, delivery: Delivery) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"{self.name}-webhooks", daemon=True)
                self._thread.start()
        self._queue.put(delivery)

    def stop(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)

    def drain(self, timeout: float = 5.0) -> bool:
        """Waits until every queued delivery has been tried (retries included); False on timeout."""
        with self._queue.all_tasks_done:
            return self._queue.all_tasks_done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            delivery = self._queue.get()
            try:
                if delivery is None:
                    return
                self._deliver(delivery)
            finally:
                self._queue.task_done()

    def _deliver(self, delivery: Delivery) -> None:
        message = delivery.build()
        if message is None:
            return
        ok = self._post(delivery.url, *message)
        if not ok and delivery.retries > 0 and not self._stopping.wait(self.retry_delay):
            delivery.retries -= 1
            self._queue.put(delivery)
            return
        if delivery.on_result is not None:
            delivery.on_result(ok)

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> bool:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                ok = 200 <= response.status < 303
        except urllib.error.HTTPError as exc:
            ok = 200 <= exc.code < 303
        except (OSError, ValueError) as exc:
            log.info("%s webhook to %s failed: %s", self.name, url, exc)
            ok = False
        with self._lock:
            self.sent += ok
            self.failed += not ok
        return bool(ok)


class WebhookShop(ShopSimulator):
    """A simulated shop that sends webhooks (its `_sender`): they stop with it, and a test can wait for
    them instead of sleeping."""

    _sender: WebhookSender

    def stop(self) -> None:
        self._sender.stop()
        super().stop()

    def deliveries_done(self, timeout: float = 5.0) -> bool:
        """Waits until every webhook fired so far has been delivered or given up on."""
        return self._sender.drain(timeout)
