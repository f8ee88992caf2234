"""The bridge's webhook endpoint (Flask on waitress) over real HTTP (raw sockets, so a request can be as
broken as an attacker makes it): every request gets an HTTP answer naming what was wrong, reads are bounded
in size and time, slow clients do not hold up other shops' webhooks, and no header or body makes the
endpoint raise, stall or read without end.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors import WebhookEvent, make_connector
from cloud_bridge.errors import ShopConfigError, WebhookRejected
from cloud_bridge.webhooks import MAX_BODY, WebhookServer
from tests.slowloris import slow_clients

SECRET = "whsec-test"
ANSWER_S = 8.0  # every answer must come well within this (a silent connection is answered after 4 s)


@pytest.fixture(scope="module")
def server() -> Iterator[WebhookServer]:
    connector = make_connector(
        "corner",
        "woocommerce",
        {
            "base_url": "http://127.0.0.1:9",
            "consumer_key": "ck",
            "consumer_secret": "cs",
            "webhook_secrets": [SECRET],
        },
    )
    events: list[tuple[str, WebhookEvent]] = []
    hooks = WebhookServer("127.0.0.1:0", {"corner": connector}, lambda s, e: events.append((s, e))).start()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def shopify() -> Iterator[WebhookServer]:
    settings = {"base_url": "https://corner.myshopify.com", "access_token": "t", "location_id": "1"}
    connector = make_connector("corner", "shopify", {**settings, "webhook_secrets": [SECRET]})
    hooks = WebhookServer("127.0.0.1:0", {"corner": connector}, lambda s, e: None).start()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def quick(server: WebhookServer) -> Iterator[WebhookServer]:
    """The same endpoint with a short idle deadline, so the fuzzer's cut-off bodies end quickly."""
    hooks = WebhookServer("127.0.0.1:0", server.connectors, server.on_event, idle_s=1).start()
    yield hooks
    hooks.stop()


def exchange(port: int, request: bytes, *, then: bytes = b"", keep_sending: bool = False) -> bytes:
    """Sends `request` (and, with `keep_sending`, an endless body after it) and returns the whole answer:
    what the server sent until it closed the connection or ANSWER_S passed.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_S)
    answer = b""
    stop = threading.Event()

    def flood() -> None:
        chunk = b"x" * 65536
        try:
            while not stop.is_set():
                sock.sendall(chunk)
        except OSError:
            pass

    try:
        sock.sendall(request + then)
        feeder = threading.Thread(target=flood, daemon=True) if keep_sending else None
        if feeder is not None:
            feeder.start()
        deadline = time.monotonic() + ANSWER_S
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            except OSError:
                break
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer and _complete(answer):
                break
    finally:
        stop.set()
        sock.close()
    return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value.strip())
    return False


def status_of(answer: bytes) -> tuple[int, str]:
    assert answer.startswith(b"HTTP/1."), f"no HTTP answer at all: {answer[:200]!r}"
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode("utf-8", "replace")


def post(headers: dict[str, str] | list[tuple[str, str]], path: str = "/webhooks/corner") -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"POST {path} HTTP/1.1", "Host: bridge", *(f"{k}: {v}" for k, v in items)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return {
        "X-WC-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-WC-Webhook-Topic": "order.created",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }


def test_a_negative_content_length_is_answered_400_instead_of_reading_without_end(server):
    answer = exchange(server.port, post({"Content-Length": "-1"}), keep_sending=True)
    status, body = status_of(answer)
    assert status == 400 and "Content-Length" in body


def test_a_content_length_that_is_not_a_number_is_answered_400(server):
    status, body = status_of(exchange(server.port, post({"Content-Length": "abc"}), then=b"{}"))
    assert status == 400 and "Content-Length is invalid" in body


def test_a_request_without_a_length_is_answered_411(server):
    status, body = status_of(exchange(server.port, post({})))
    assert status == 411 and "Content-Length" in body


def test_a_chunked_body_is_checked_like_any_other_and_cut_off_at_the_same_limit(server):
    """waitress reads a chunked body itself (the old endpoint refused them 411), within the same size."""
    body = b'{"id": 7, "status": "processing", "line_items": []}'
    headers = {k: v for k, v in signed(body).items() if k != "Content-Length"}
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    status, _ = status_of(
        exchange(server.port, post({**headers, "Transfer-Encoding": "chunked"}), then=chunked)
    )
    assert status == 200
    forged = {**headers, "X-WC-Webhook-Signature": "AAAA", "Transfer-Encoding": "chunked"}
    status, reason = status_of(exchange(server.port, post(forged), then=chunked))
    assert status == 401 and "signature" in reason
    huge = b"%x\r\n" % (MAX_BODY + 1) + b"x" * (MAX_BODY + 1)
    status, reason = status_of(exchange(server.port, post({"Transfer-Encoding": "chunked"}), then=huge))
    assert status == 413 and "max_body" in reason


def test_conflicting_content_lengths_are_answered_400(server):
    status, body = status_of(exchange(server.port, post([("Content-Length", "2"), ("Content-Length", "20")])))
    assert status == 400 and "Content-Length" in body


def test_a_body_over_the_limit_is_answered_413_without_reading_it(server):
    status, body = status_of(
        exchange(server.port, post({"Content-Length": str(MAX_BODY + 1)}), keep_sending=True)
    )
    assert status == 413 and f"max_body of {MAX_BODY + 1}" in body
    status, _ = status_of(
        exchange(server.port, post({"Content-Length": str(MAX_BODY)}), then=b"x" * MAX_BODY)
    )
    assert status == 401, "a body of exactly the limit is read (and here refused for its missing signature)"


def test_a_content_length_longer_than_the_body_is_answered_408_naming_the_wait(server):
    started = time.monotonic()
    status, body = status_of(exchange(server.port, post({"Content-Length": "100"}), then=b"{"))
    assert status == 408 and "nothing received for 4 s" in body and "Content-Length" in body
    assert time.monotonic() - started < ANSWER_S


def test_a_content_length_shorter_than_the_body_is_refused_for_its_signature_and_the_rest_unread(server):
    body = b'{"id": 7, "status": "processing", "line_items": []}'
    lying = dict(signed(body), **{"Content-Length": str(len(body) - 5)})
    answer = exchange(server.port, post(lying), then=body)
    status, reason = status_of(answer)
    assert status == 401 and "signature" in reason
    assert answer.count(b"HTTP/1.1 ") == 1, "the rest of the body was read as a second request"


def test_a_client_that_drips_its_request_is_answered_408_at_the_connection_deadline(server):
    hooks = WebhookServer(
        "127.0.0.1:0", server.connectors, lambda s, e: None, connection_deadline_s=2
    ).start()
    sock = socket.create_connection(("127.0.0.1", hooks.port), timeout=ANSWER_S)
    try:
        sock.sendall(post({"Content-Length": "1000"}))
        started, answer = time.monotonic(), b""
        while not answer and time.monotonic() - started < ANSWER_S:
            sock.sendall(b"x")  # a byte every 0.2 s: never idle, never done
            with contextlib.suppress(TimeoutError):
                sock.settimeout(0.2)
                answer = sock.recv(4096)
        sock.settimeout(ANSWER_S)
        while chunk := sock.recv(4096):  # the head and the body may come in separate segments
            answer += chunk
        status, reason = status_of(answer)
        assert status == 408 and "not complete within 2 s" in reason
        assert hooks.refused == 1
    finally:
        sock.close()
        hooks.stop()


def test_a_signed_webhook_still_gets_200_and_a_forged_one_401(server):
    body = b'{"id": 7, "status": "processing", "line_items": []}'
    status, _ = status_of(exchange(server.port, post(signed(body)), then=body))
    assert status == 200
    forged = dict(signed(body), **{"X-WC-Webhook-Signature": "AAAA"})
    status, reason = status_of(exchange(server.port, post(forged), then=body))
    assert status == 401 and "signature" in reason
    status, reason = status_of(
        exchange(server.port, post(signed(body), path="/webhooks/elsewhere"), then=body)
    )
    assert status == 404 and "elsewhere" in reason


def test_other_methods_are_answered_405(server):
    answer = exchange(server.port, b"GET /webhooks/corner HTTP/1.1\r\nHost: bridge\r\n\r\n")
    assert status_of(answer)[0] == 405


_header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, exclude_characters=":\r\n"), max_size=40
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    length=st.one_of(st.just("exact"), st.none(), _header_text, st.integers(-(2**70), 2**70).map(str)),
    extra=st.lists(st.tuples(_header_text.filter(lambda s: s.strip() != ""), _header_text), max_size=6),
    body=st.binary(max_size=300),
    path=st.sampled_from(["/webhooks/corner", "/webhooks/", "/", "/webhooks/corner/../x", "/%00"]),
)
def test_any_headers_and_body_get_an_answer_that_says_what_was_wrong(quick, length, extra, body, path):
    length = str(len(body)) if length == "exact" else length
    headers = [*extra, *([("Content-Length", length)] if length is not None else [])]
    status, reason = status_of(exchange(quick.port, post(headers, path=path), then=body))
    assert status in {200, 400, 401, 404, 408, 411, 413, 431, 501}, (status, reason)
    if status != 200:
        assert reason.strip(), f"{status} without saying why"


def _connector_with(secrets: list[str]) -> WebhookServer:
    settings = {"base_url": "http://127.0.0.1:9", "consumer_key": "ck", "consumer_secret": "cs"}
    connector = make_connector("corner", "woocommerce", {**settings, "webhook_secrets": secrets})
    return WebhookServer("127.0.0.1:0", {"corner": connector}, lambda s, e: None)


@pytest.mark.parametrize("secret", ["", "   "])
def test_an_empty_webhook_secret_is_refused_when_the_config_is_read(secret):
    """Issue 13, low: with `webhook_secrets = [""]` anyone could sign a webhook with the empty key."""
    with pytest.raises(ShopConfigError, match=r"shops\.corner\.webhook_secrets\[0\]: .*empty"):
        _connector_with([secret])


def test_a_webhook_signed_with_the_empty_key_is_refused_even_by_a_connector_made_without_checks(server):
    from cloud_bridge.connectors.woocommerce import WooCommerceConnector

    connector = WooCommerceConnector("corner", "http://127.0.0.1:9", "ck", "cs", webhook_secrets=("",))
    body = b'{"id": 7, "status": "processing", "line_items": []}'
    forged = {
        "x-wc-webhook-signature": base64.b64encode(hmac.new(b"", body, hashlib.sha256).digest()).decode(),
        "x-wc-webhook-topic": "order.created",
    }
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(forged, body)


_shop_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
_order_keys = st.sampled_from(
    ["id", "status", "line_items", "date_modified_gmt", "date_created_gmt", "sku", "quantity", "total",
     "shipping_lines", "admin_graphql_api_id", "updated_at", "financial_status", "variants", "name", "price"]
)  # fmt: skip
_shaped = st.dictionaries(_order_keys, _shop_json, max_size=8)
_topics = st.sampled_from(
    ["order.created", "order.updated", "product.updated", "orders/create", "orders/updated",
     "products/update", "", "x"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(_shaped, _shop_json), topic=_topics, platform=st.sampled_from(["woo", "shopify"]))
def test_any_signed_body_is_answered_200_and_never_fails_the_endpoint(
    server, shopify, payload, topic, platform
):
    """A correctly signed webhook is answered 200 whatever its body (the shop would only send it again):
    a body the connector cannot read is logged and left to polling, never a 500."""
    body = json.dumps(payload, allow_nan=True).encode()
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    if platform == "woo":
        headers = {"X-WC-Webhook-Signature": digest, "X-WC-Webhook-Topic": topic}
        port = server.port
    else:
        headers = {"X-Shopify-Hmac-Sha256": digest, "X-Shopify-Topic": topic, "X-Shopify-Event-Id": "e1"}
        port = shopify.port
    headers["Content-Length"] = str(len(body))
    status, reason = status_of(exchange(port, post(headers), then=body))
    assert status == 200, reason


def test_many_slow_clients_do_not_hold_up_a_real_webhook(server):
    """A slow-loris client holds a socket, not a thread: with far more of them open than the server has
    threads (and than the old endpoint's 32 connections), a shop's webhook is still answered at once."""
    hooks = WebhookServer("127.0.0.1:0", server.connectors, lambda s, e: None).start()
    try:
        with slow_clients(hooks.port, 120):
            deadline = time.monotonic() + ANSWER_S
            while len(hooks.server.active_channels) < 120:  # every slow client is connected and read
                assert time.monotonic() < deadline, "the slow clients were not all accepted"
                time.sleep(0.01)
            body = b'{"id": 7, "status": "processing", "line_items": []}'
            started = time.monotonic()
            status, _ = status_of(exchange(hooks.port, post(signed(body)), then=body))
            assert status == 200 and time.monotonic() - started < 2.0
    finally:
        hooks.stop()


def test_connections_beyond_the_limit_wait_and_are_answered_once_slow_ones_reach_their_deadline(server):
    """The replacement of the old "503 at once": beyond `max_connections`, connections wait in the listen
    backlog, and since no connection lives past its deadline, a waiting webhook is answered within it."""
    hooks = WebhookServer(
        "127.0.0.1:0", server.connectors, lambda s, e: None, max_connections=8, connection_deadline_s=2
    ).start()
    try:
        with slow_clients(hooks.port, 8, every_s=0.3, drip=b"X"):
            deadline = time.monotonic() + ANSWER_S
            while not hooks.server.in_connection_overflow:
                assert time.monotonic() < deadline, "the slow clients did not fill the connections"
                time.sleep(0.01)
            assert len(hooks.server.active_channels) == 8
            body = b'{"id": 7, "status": "processing", "line_items": []}'
            started = time.monotonic()
            status, _ = status_of(exchange(hooks.port, post(signed(body)), then=body))
            assert status == 200 and time.monotonic() - started < 2 + 2 + 1.5  # deadline, clean-up, slack
            assert hooks.refused >= 8, "every slow client was answered 408 and counted"
    finally:
        hooks.stop()


def test_the_bridges_outgoing_queue_is_bounded_and_counted():
    from cloud_bridge.config import BrokerConfig
    from cloud_bridge.intake import Intake
    from cloud_bridge.mqtt import MAX_QUEUED, MqttLink

    link = MqttLink(BrokerConfig(url="mqtt://127.0.0.1:9"), "tillbridge-w1", "bridge", Intake())
    sent = [link.publish("tillbridge/v1/s/b/ack", b"{}", 1) for _ in range(MAX_QUEUED + 5)]
    assert link.queue_full == 5 and sent.count(False) >= 5
