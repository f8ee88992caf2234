"""The shops' webhook endpoint (Flask on waitress) under a slow-loris crowd: how long a real, signed
webhook takes to be answered while `SLOW` clients each hold a connection open, dripping a header line every
half second, against the same endpoint with nobody else connected (alternated rounds, medians). waitress
reads every connection on its asynchronous loop, so the crowd holds sockets, not threads, and the figure
should stay close to the baseline.

`BENCH_WEBHOOK_ROUNDS` / `BENCH_WEBHOOK_SLOW` shorten it while iterating.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import statistics
import time

from bench.common import Result, alternate
from cloud_bridge.connectors import make_connector
from cloud_bridge.webhooks import WebhookServer
from tests.slowloris import slow_clients

SECRET = "whsec-bench"
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "5"))
SLOW = int(os.environ.get("BENCH_WEBHOOK_SLOW", "200"))
PER_ROUND = 20  # webhooks sent one after the other in a round; the round's figure is their median
BODY = (
    b'{"id": 7, "status": "processing", "line_items": [], "date_created_gmt": "2026-12-06T10:00:00", '
    b'"date_modified_gmt": "2026-12-06T10:00:00", "total": "1.00"}'
)


def _request() -> bytes:
    digest = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    head = (
        "POST /webhooks/corner HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
        f"X-WC-Webhook-Signature: {digest}\r\nX-WC-Webhook-Topic: order.created\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    )
    return head.encode() + BODY


def _answer_ms(port: int, request: bytes) -> float:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the webhook was not accepted: {answer[:80]!r}")
    return (time.perf_counter() - started) * 1000


def run() -> list[Result]:
    settings = {"base_url": "http://127.0.0.1:9", "consumer_key": "ck", "consumer_secret": "cs"}
    connector = make_connector("corner", "woocommerce", {**settings, "webhook_secrets": [SECRET]})
    hooks = WebhookServer("127.0.0.1:0", {"corner": connector}, lambda shop, event: None).start()
    request = _request()

    def round_ms(slow: int) -> float:
        with slow_clients(hooks.port, slow):
            deadline = time.monotonic() + 10
            while len(hooks.server.active_channels) < slow:  # the crowd is in before the measured webhooks
                if time.monotonic() > deadline:
                    raise RuntimeError("the slow clients were not all accepted")
                time.sleep(0.01)
            return statistics.median(_answer_ms(hooks.port, request) for _ in range(PER_ROUND))

    try:
        rounds = alternate(ROUNDS, lambda: round_ms(SLOW), lambda: round_ms(0))
    finally:
        hooks.stop()
    return [rounds.duration(f"webhook answered while {SLOW} slow clients hold connections (vs none)", "ms")]
