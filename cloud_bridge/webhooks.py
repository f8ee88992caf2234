"""Shop webhooks: `POST /webhooks/<shop>`, verified by that shop's connector, deduplicated, then treated as a
hint. A webhook only makes the shop's orders (or products) feed due at once; the feed is what changes the
ledger. Webhook payloads can be stale, repeated and out of order, and some are never sent at all, so acting
on the feed keeps one path for every order, and polling still covers the webhooks that never arrive.

Answers follow what the shops expect: 200 for anything signed (even a body we cannot read: the shop would
only send it again), 401 for a bad signature, 404 for a shop this bridge does not serve.

The endpoint faces the internet, so everything about a request is bounded before it is read: the body needs
a plain decimal `Content-Length` (400 otherwise, 411 without one, 413 above `MAX_BODY`), must arrive within
`BODY_DEADLINE_S` (408), each connection lives at most `CONNECTION_DEADLINE_S` and serves one request, and
at most `MAX_CONNECTIONS` are served at once (503 beyond). Every refusal's body says what was wrong.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from cloud_bridge.connectors import ShopConnector, WebhookEvent
from cloud_bridge.errors import BridgeError, MalformedWebhook, UnsupportedOperation, WebhookRejected

log = logging.getLogger(__name__)

MAX_BODY: Final = 2 * 1024 * 1024
PREFIX: Final = "/webhooks/"
BODY_DEADLINE_S: Final = 4.0  # shops give up on a delivery after ~5 s themselves
CONNECTION_DEADLINE_S: Final = 15.0  # headers included: a client that drips bytes is cut off
MAX_CONNECTIONS: Final = 32
READ_CHUNK: Final = 65536
LINGER_S: Final = 0.5
LINGER_CHUNKS: Final = 16


class BadRequest(BridgeError):
    """A request this endpoint refuses before reading its body; `status` is the HTTP answer."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def body_length(headers: Message) -> int:
    """The number of body bytes to read, from the request's headers; `BadRequest` says why not."""
    if headers.get_all("Transfer-Encoding"):
        raise BadRequest(411, "Transfer-Encoding is not accepted: send the body with a Content-Length")
    values = {v.strip() for v in headers.get_all("Content-Length") or []}
    if not values:
        raise BadRequest(411, "Content-Length is required")
    if len(values) > 1:
        raise BadRequest(400, f"conflicting Content-Length headers: {', '.join(sorted(map(repr, values)))}")
    text = values.pop()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise BadRequest(400, f"Content-Length must be a decimal number of bytes, not {text[:40]!r}")
    length = int(text)
    if length > MAX_BODY:
        raise BadRequest(413, f"body of {length} bytes is over the limit of {MAX_BODY} bytes")
    return length


class WebhookServer:
    def __init__(
        self,
        listen: str,
        connectors: Mapping[str, ShopConnector],
        on_event: Callable[[str, WebhookEvent], None],
        *,
        body_deadline_s: float = BODY_DEADLINE_S,
    ) -> None:
        host, _, port = listen.rpartition(":")
        self.connectors, self.on_event = connectors, on_event
        self.body_deadline_s = body_deadline_s
        self.server = _Server((host, int(port)), _Handler)
        self.server.hooks = self
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.2,), name="webhooks", daemon=True
        )
        self.refused = 0  # requests answered 4xx/5xx before their shop saw them, for `bridge status`

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> WebhookServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def receive(self, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """The HTTP answer for one delivery."""
        shop = path.removeprefix(PREFIX).strip("/") if path.startswith(PREFIX) else ""
        connector = self.connectors.get(shop)
        if connector is None:
            return Answer(404, f"no shop {shop[:64]!r} here: POST to {PREFIX}<shop id>")
        try:
            event = connector.verify_webhook(headers, body)
        except WebhookRejected as exc:
            log.warning("webhook for shop %s refused: %s", shop, exc)
            return Answer(401, exc.problem)
        except MalformedWebhook as exc:
            log.warning("webhook for shop %s unreadable (polling will catch up): %s", shop, exc)
            return Answer(200, "")
        except UnsupportedOperation as exc:
            return Answer(404, exc.problem)
        if event is not None:
            self.on_event(shop, event)
        return Answer(200, "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # listen backlog: socketserver's 5 makes a burst of shops wait on SYN retries
    hooks: WebhookServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """At most MAX_CONNECTIONS threads: a connection beyond them is answered 503 at once and closed."""
        if not self.slots.acquire(blocking=False):
            self.hooks.refused += 1
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(_raw_answer(503, "too many connections; retry later"))
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = BODY_DEADLINE_S  # any single read; the connection's whole life is bounded in setup()

    def setup(self) -> None:
        super().setup()
        self._expiry = threading.Timer(CONNECTION_DEADLINE_S, self._expire)
        self._expiry.daemon = True
        self._expiry.start()

    def finish(self) -> None:
        self._expiry.cancel()
        with contextlib.suppress(OSError):
            super().finish()
            self._linger()

    def _linger(self) -> None:
        """Closes gently: stop sending, then read and drop what the client still sends for a moment, so
        a refused sender reads our answer instead of a reset (closing with unread data sends RST).
        """
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(LINGER_S)
        for _ in range(LINGER_CHUNKS):
            if not self.connection.recv(READ_CHUNK):
                return

    def _expire(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_POST(self) -> None:
        try:
            body = self._read_body(body_length(self.headers))
        except BadRequest as exc:
            self._answer(Answer(exc.status, exc.why))
            return
        try:
            answer = self.server.hooks.receive(self.path, dict(self.headers.items()), body)
        except Exception:  # never let one delivery take the endpoint down; the shop will retry or we poll
            log.exception("webhook %s failed", self.path[:100])
            answer = Answer(500, "the bridge failed on this delivery; it will be polled")
        self._answer(answer)

    def do_GET(self) -> None:
        self._answer(Answer(405, "only POST is served here"), allow="POST")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self, length: int) -> bytes:
        """Exactly `length` bytes, read within the body deadline in bounded chunks."""
        allowed = self.server.hooks.body_deadline_s
        late = BadRequest(408, f"body not complete within {allowed:g} s")
        deadline = time.monotonic() + allowed
        chunks: list[bytes] = []
        left = length
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise late
            self.connection.settimeout(remaining)
            try:
                chunk = self.rfile.read1(min(left, READ_CHUNK))
            except TimeoutError as exc:
                raise late from exc
            if not chunk:
                raise BadRequest(400, f"body ended after {length - left} of {length} bytes")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _answer(self, answer: Answer, allow: str | None = None) -> None:
        if answer.status >= 400:
            self.server.hooks.refused += 1
        text = (answer.text + "\n").encode() if answer.text else b""
        self.close_connection = True  # one request per connection: nothing lingers
        with contextlib.suppress(OSError):
            self.send_response(answer.status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(text)))
            self.send_header("Connection", "close")
            if allow:
                self.send_header("Allow", allow)
            self.end_headers()
            self.wfile.write(text)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own refusals (a bad request line, headers too long or too many) in our plain form."""
        self._answer(Answer(code, message or explain or self.responses.get(code, ("error",))[0]))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webhooks: %s", format % args)


def _raw_answer(status: int, text: str) -> bytes:
    body = (text + "\n").encode()
    head = f"HTTP/1.1 {status} {BaseHTTPRequestHandler.responses[status][0]}\r\n"
    head += (
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body
