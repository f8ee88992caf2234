"""Shop webhooks: `POST /webhooks/<shop>`, verified by that shop's connector, deduplicated, then treated as a
hint. A webhook only makes the shop's orders (or products) feed due at once; the feed is what changes the
ledger. Webhook payloads can be stale, repeated and out of order, and some are never sent at all, so acting
on the feed keeps one path for every order, and polling still covers the webhooks that never arrive.

Answers follow what the shops expect: 200 for anything signed (even a body we cannot read: the shop would
only send it again), 401 for a bad signature, 404 for a shop this bridge does not serve.

The endpoint faces the internet. It is a Flask app (routing, the answers) served by waitress, the same
production server as the owner's page, which parses HTTP and refuses what is malformed before the app sees
it: a `Content-Length` that is not a plain decimal number (400, so also conflicting ones), a body of
`MAX_BODY` or more (413, from the header, before reading it; a chunked body is cut off at the same size),
headers over 64 KiB (431). The app refuses a request without a length (411). waitress reads every
connection on one asynchronous loop and hands a worker thread only a complete request, so a client that
drips its bytes holds no thread and cannot hold up other shops' webhooks; up to `MAX_CONNECTIONS` are open
at once, more wait in the listen backlog. What waitress lacks, this module adds to its clean-up pass (run
every second): a connection silent for `IDLE_S`, or open longer than `CONNECTION_DEADLINE_S` however busy,
is answered 408 (naming the wait) if it began a request, and closed. One request per connection.
Every refusal's body says what was wrong, and every one is counted for `bridge status`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from flask import Flask, Response, request
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error
from werkzeug.exceptions import HTTPException

from cloud_bridge.connectors import ShopConnector, WebhookEvent
from cloud_bridge.errors import MalformedWebhook, UnsupportedOperation, WebhookRejected

log = logging.getLogger(__name__)

MAX_BODY: Final = 2 * 1024 * 1024  # the largest body accepted (waitress refuses from MAX_BODY + 1)
PREFIX: Final = "/webhooks/"
IDLE_S: Final = 4  # shops give up on a delivery after ~5 s themselves
CONNECTION_DEADLINE_S: Final = 15  # headers included: a client that drips bytes is cut off
MAX_CONNECTIONS: Final = 256  # open at once; a slow one costs a socket and a buffer, not a thread
THREADS: Final = 4  # requests being answered at once (complete ones only)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


class WebhookServer:
    def __init__(
        self,
        listen: str,
        connectors: Mapping[str, ShopConnector],
        on_event: Callable[[str, WebhookEvent], None],
        *,
        idle_s: int = IDLE_S,
        connection_deadline_s: int = CONNECTION_DEADLINE_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        host, _, port = listen.rpartition(":")
        self.connectors, self.on_event = connectors, on_event
        self._lock = threading.Lock()
        self.refused = 0  # requests answered 4xx/5xx before their shop saw them, for `bridge status`
        adj = Adjustments(
            host=host.strip("[]") or "127.0.0.1",
            port=int(port),
            threads=THREADS,
            connection_limit=max_connections + 2,  # waitress counts its listening socket and wake-up pipe
            channel_timeout=idle_s,
            cleanup_interval=1,
            max_request_body_size=MAX_BODY + 1,
            ident=None,
            clear_untrusted_proxy_headers=True,
            backlog=1024,
        )
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        self.server = _Server(_app(self), dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
        self.server.hooks = self
        self.server.lifetime_s = connection_deadline_s
        self.thread = threading.Thread(target=self.server.run, name="webhooks", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def start(self) -> WebhookServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Closes every connection and the listening socket from inside waitress's loop, then its threads."""
        self.server.trigger.pull_trigger(self._close_all)
        self.thread.join(5)
        self.server.task_dispatcher.shutdown(timeout=5)

    def _close_all(self) -> None:
        for channel in list(self.server._map.values()):
            channel.close()

    def count_refusal(self) -> None:
        with self._lock:
            self.refused += 1

    def receive(self, shop: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """The HTTP answer for one delivery to `shop`."""
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


def _app(hooks: WebhookServer) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY  # waitress refuses first; this guards the app on its own

    @app.post(f"{PREFIX}<shop>")
    def webhook(shop: str) -> Response:
        if request.content_length is None:
            return _text(Answer(411, "Content-Length is required"))
        body = request.get_data(cache=False)
        try:
            return _text(hooks.receive(shop, dict(request.headers.items()), body))
        except Exception:  # never let one delivery take the endpoint down; the shop will retry or we poll
            log.exception("webhook for shop %s failed", shop[:64])
            return _text(Answer(500, "the bridge failed on this delivery; it will be polled"))

    @app.errorhandler(HTTPException)
    def refused(exc: HTTPException) -> Response:
        """Flask's own refusals (no such path, a method other than POST) in the endpoint's plain form."""
        answer = _text(Answer(exc.code or 400, exc.description or exc.name))
        if exc.code == 405:
            answer.headers["Allow"] = "POST"
        return answer

    @app.after_request
    def count(response: Response) -> Response:
        if response.status_code >= 400:
            hooks.count_refusal()
        return response

    return app


def _text(answer: Answer) -> Response:
    return Response(
        (answer.text + "\n") if answer.text else "", answer.status, content_type="text/plain; charset=utf-8"
    )


class _TooSlow(Error):  # type: ignore[misc]
    code = 408
    reason = "Request Timeout"


class _Refusal(ErrorTask):  # type: ignore[misc]
    """waitress's own refusals (malformed HTTP, too large, too slow), counted like the app's."""

    def execute(self) -> None:
        self.channel.server.hooks.count_refusal()
        super().execute()


class _OneRequest(WSGITask):  # type: ignore[misc]
    """Every answer closes its connection (a WSGI app may not say so itself): nothing lingers, and bytes
    past a lying Content-Length are never read as a second request."""

    def build_response_header(self) -> Any:
        self.set_close_on_finish()
        return super().build_response_header()


class _Channel(HTTPChannel):  # type: ignore[misc]
    error_task_class = _Refusal
    task_class = _OneRequest


class _Server(TcpWSGIServer):  # type: ignore[misc]
    channel_class = _Channel
    hooks: WebhookServer
    lifetime_s: int

    def maintenance(self, now: float) -> None:
        """waitress's clean-up pass (it only closes idle connections), with a deadline for the whole
        connection and an answer: a request begun and not finished in time is answered 408 and closed."""
        for channel in list(self.active_channels.values()):
            if channel.requests or channel.will_close or channel.close_when_flushed:
                continue  # a worker is answering it, or it is closing anyway
            if now - channel.last_activity > self.adj.channel_timeout:
                why = f"nothing received for {self.adj.channel_timeout} s"
            elif now - channel.creation_time > self.lifetime_s:
                why = f"request not complete within {self.lifetime_s} s"
            else:
                continue
            _answer_late(channel, why)


def _answer_late(channel: Any, why: str) -> None:
    """Hands the unfinished request to a worker as a 408 (waitress's own error path), or closes an idle
    connection that began none."""
    with channel.requests_lock:
        late = channel.request
        if late is None:
            channel.will_close = True
            return
        missing = "body shorter than its Content-Length" if late.headers_finished else "headers not complete"
        late.error, late.completed = _TooSlow(f"{why}: {missing}"), True
        channel.request = None
        channel.requests.append(late)
    channel.server.add_task(channel)
