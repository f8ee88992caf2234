"""The one place that sends HTTP requests to shops and turns what comes back into typed errors.

Status classes follow what a retry can change: 408, 425, 429 and 5xx are transient (429 and 503 carry
Retry-After, in seconds or as an HTTP date), 401/403 mean the credentials are wrong, any other 4xx means
our request is wrong. Timeouts and connection failures are transient. Bodies are size-capped before use.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import requests

from cloud_bridge.errors import (
    MalformedResponse,
    RateLimited,
    RequestRejected,
    ShopAuthError,
    ShopError,
    ShopTimeout,
    ShopUnreachable,
    TransientShopError,
)
from cloud_bridge.retry import Retrier

MAX_BODY_BYTES: Final = 32 * 1024 * 1024
TRANSIENT_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
AUTH_STATUSES: Final = frozenset({401, 403})

Describe = Callable[[bytes], tuple[str, str]]  # body -> (error code, message), best effort


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: Mapping[str, str] | None = None
    json: Any = None
    data: bytes | None = None
    headers: Mapping[str, str] | None = None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, min(float(text), 86400.0))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - (now or datetime.now(UTC))).total_seconds(), 86400.0))


class ShopHttp:
    """A `requests.Session` bound to one shop: base URL, auth, timeout, call counting, error mapping."""

    def __init__(
        self,
        shop: str,
        base_url: str,
        retrier: Retrier,
        describe: Describe,
        *,
        timeout: float = 15.0,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.shop = shop
        self.base_url = base_url.rstrip("/")
        self.retrier = retrier
        self.describe = describe
        self.timeout = timeout
        self.session = session or requests.Session()
        if auth is not None:
            self.session.auth = auth
        self.session.headers.update(headers or {})
        self.calls = 0

    def send(self, call: Call, what: str) -> Reply:
        """Sends `call`, retrying transient failures; returns a 2xx reply or raises a `ShopError`."""
        return self.retrier.run(lambda: self.send_once(call, what), what)

    def send_write(self, call: Call, what: str) -> Reply:
        """Like `send`, for an absolute stock write: a write whose answer never came (a timeout, a broken
        connection) is not sent again here, since it may still land late, after a newer value; the
        `ShopTimeout` / `ShopUnreachable` goes to the caller, which treats the write as in doubt.
        """
        unanswered: list[ShopError] = []

        def once() -> Reply:
            try:
                return self.send_once(call, what)
            except (ShopTimeout, ShopUnreachable) as exc:
                unanswered.append(exc)
                raise _Unanswered from exc

        try:
            return self.retrier.run(once, what)
        except _Unanswered:
            raise unanswered[-1] from None

    def send_once(self, call: Call, what: str) -> Reply:
        self.calls += 1
        try:
            response = self.session.request(
                call.method,
                self.base_url + call.path,
                params=call.params,
                json=call.json,
                data=call.data,
                headers=call.headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
            with response:
                body = _read_capped(response, self.shop, what)
        except requests.Timeout as exc:
            raise ShopTimeout(self.shop, f"{what}: no answer within {self.timeout:g} s") from exc
        except requests.RequestException as exc:
            raise ShopUnreachable(self.shop, f"{what}: {type(exc).__name__}: {exc}") from exc
        reply = Reply(response.status_code, response.headers, body)
        if not 200 <= reply.status < 300:
            raise self.error_for(reply, what)
        return reply

    def error_for(self, reply: Reply, what: str) -> ShopError:
        code, message = self.describe(reply.body)
        detail = (
            f"{what}: HTTP {reply.status}"
            + (f" {code}" if code else "")
            + (f": {message}" if message else "")
        )
        wait = retry_after(reply.headers.get("Retry-After"))
        if reply.status == 429:
            return RateLimited(self.shop, detail, 1.0 if wait is None else wait)
        if reply.status in TRANSIENT_STATUSES or reply.status >= 500:
            return TransientShopError(self.shop, detail, wait)
        if reply.status in AUTH_STATUSES:
            return ShopAuthError(self.shop, f"credentials rejected ({detail})")
        return RequestRejected(self.shop, detail, reply.status, code)

    def close(self) -> None:
        self.session.close()


class OverHttp:
    """What every connector that reaches its shop through one `ShopHttp` (as `self.http`) answers the same
    way: the call count the bridge's metrics read, and closing the session. Mixed in, so each connector need
    not repeat them.
    """

    http: ShopHttp

    @property
    def calls(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self.http.calls

    def close(self) -> None:
        self.http.close()


class _Unanswered(Exception):
    """Not a `TransientShopError`, so the retrier lets it through instead of sending the write again."""


def _read_capped(response: requests.Response, shop: str, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise MalformedResponse(shop, f"{what}: response larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
