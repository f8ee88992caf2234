"""The part every shop simulator shares: a threaded HTTP server on 127.0.0.1, fault injection, a response
delay, API call counting and a hook to race a write with an online order.

Each platform's simulator implements `route(request) -> Response` as a plain function of its in-memory
state, called under one lock, so one request is one atomic step; two requests from a connector (read, then
write) are not, exactly as in the real shops, which is what lets a test provoke lost updates.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Self
from urllib.parse import parse_qs, urlsplit

from simulators.running import Running
from simulators.shops.clock import ManualClock, SystemClock

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES: Final = 16 * 1024 * 1024
Clock = SystemClock | ManualClock


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(value, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})})


@dataclass
class Fault:
    """What to do instead of (or before) answering a request whose path or label contains `match`.

    `status` set: answer it (with `retry_after` and `body` if given) without touching the shop.
    `status` None and `delay` > 0: answer normally, but late (a client that timed out never learns that
    its write was applied). `drop`: close the connection without answering.
    """

    status: int | None = 503
    retry_after: str | None = None
    delay: float = 0.0
    drop: bool = False
    match: str = ""
    body: bytes | None = None


@dataclass
class _Hook:
    action: Callable[[], object]
    match: str


class ShopSimulator(Running):
    """Base of the three simulators. Use as a context manager, or `start()` / `stop()`."""

    platform = "shop"

    def __init__(self, *, delay: float = 0.0, clock: Clock | None = None) -> None:
        self.delay = delay
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self._faults: list[Fault] = []
        self._hooks: list[_Hook] = []
        self._stopping = threading.Event()
        self._active = 0
        self._idle = threading.Condition(self.lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.sim = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"{self.platform}-sim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.platform} simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- test and demo controls ------------------------------------------------------------------------

    @property
    def total_calls(self) -> int:
        with self.lock:
            return sum(self.calls.values())

    def inject(self, *faults: Fault) -> None:
        """Queues faults; each is used once, by the first request it matches."""
        with self.lock:
            self._faults.extend(faults)

    @property
    def faults_pending(self) -> int:
        """Faults queued and not yet used by a request (a test injecting faults over time reads it so
        that they do not pile up while the client is slow to call)."""
        with self.lock:
            return len(self._faults)

    def fail_next(
        self, status: int = 503, *, times: int = 1, retry_after: str | None = None, match: str = ""
    ) -> None:
        self.inject(*(Fault(status, retry_after, match=match) for _ in range(times)))

    def slow_next(self, seconds: float, *, times: int = 1, match: str = "") -> None:
        self.inject(*(Fault(None, delay=seconds, match=match) for _ in range(times)))

    def drop_next(self, *, times: int = 1, match: str = "") -> None:
        self.inject(*(Fault(None, drop=True, match=match) for _ in range(times)))

    def before_next(self, action: Callable[[], object], match: str = "") -> None:
        """Runs `action` (e.g. `place_order`) once, just before the next matching request is handled."""
        with self.lock:
            self._hooks.append(_Hook(action, match))

    # --- request handling ------------------------------------------------------------------------------

    def label(self, request: Request) -> str:
        """The name under which a request is counted ("POST /products/batch", a GraphQL field)."""
        return f"{request.method} {request.path}"

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Waits until no request is being handled (a slow one included); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def handle(self, request: Request) -> Response | None:
        """One request: counted, maybe faulted, delayed, then routed under the state lock. None = drop."""
        with self._idle:
            self._active += 1
        try:
            return self._handle(request)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _handle(self, request: Request) -> Response | None:
        label = self.label(request)
        with self.lock:
            self.calls[label] += 1
            fault = self._take(self._faults, label, request.path)
        if self.delay:
            self._stopping.wait(self.delay)
        if fault is not None:
            if fault.drop:
                return None
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.status is not None:
                return self._fault_response(fault)
        with self.lock:
            hook = self._take(self._hooks, label, request.path)
        if hook is not None:
            hook.action()
        with self.lock:
            return self.route(request)

    def _fault_response(self, fault: Fault) -> Response:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        body = fault.body if fault.body is not None else b"<html><body>Service unavailable</body></html>"
        return Response(fault.status or 503, body, {"Content-Type": "text/html", **headers})

    @staticmethod
    def _take(items: list[Any], label: str, path: str) -> Any:
        for i, item in enumerate(items):
            if item.match in label or item.match in path:
                return items.pop(i)
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sim: ShopSimulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Real shops' servers send small answers at once; headers and body are written separately here, so
    # without TCP_NODELAY every keep-alive request would wait ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    server: _Server
    timeout = 10

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._write(Response(413, b"request too large"))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Request(
            self.command,
            split.path,
            parse_qs(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        try:
            response = self.server.sim.handle(request)
        except Exception:
            log.exception("%s simulator failed on %s %s", self.server.sim.platform, self.command, self.path)
            response = Response(500, b"simulator error")
        if response is None:
            self.close_connection = True
            return
        self._write(response)

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timed out); the shop still did the work

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s simulator: %s", self.server.sim.platform, format % args)
