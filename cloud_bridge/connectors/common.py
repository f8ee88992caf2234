"""Plumbing the three connectors share: options, batching, and turning bad input into typed errors."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import requests

from cloud_bridge.connectors._values import Invalid
from cloud_bridge.errors import MalformedResponse, ShopError
from cloud_bridge.retry import SYSTEM_CLOCK, Clock, Retrier, RetryPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class ConnectorOptions:
    """What every connector takes besides the shop's address and credentials. Tests pass a manual clock
    and a seeded `rng`; the bridge may pass a shared `session` for connection pooling.
    """

    timeout: float = 15.0
    retry: RetryPolicy = RetryPolicy()  # noqa: RUF009 - frozen, so sharing the default is safe
    clock: Clock = SYSTEM_CLOCK
    rng: random.Random | None = None
    session: requests.Session | None = None
    max_pages: int = 5  # pages of 100 fetched by one orders_since / products_since call

    def retrier(self) -> Retrier:
        return Retrier(self.retry, self.clock, self.rng)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def reading(shop: str, what: str, error: type[ShopError] = MalformedResponse) -> Iterator[None]:
    """Inside, an `Invalid` value becomes `error` (a `MalformedResponse` unless told) naming `what`."""
    try:
        yield
    except Invalid as exc:
        raise error(shop, f"{what}: {exc}") from exc


def load_json(body: bytes, shop: str, what: str, error: type[ShopError] = MalformedResponse) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise error(shop, f"{what}: not JSON ({short_text(body)!r})") from exc


def short_text(body: bytes, limit: int = 120) -> str:
    """A readable snippet of a body for an error message: tags stripped, whitespace folded."""
    text = re.sub(r"<[^>]{0,200}>", " ", body[: limit * 8].decode("utf-8", "replace"))
    return " ".join(text.split())[:limit]


def describe_json(body: bytes) -> tuple[str, str]:
    """(code, message) from a JSON error body shaped `{"code", "message"}` or `{"errors": …}`."""
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        return "", short_text(body)
    if isinstance(obj, dict):
        if isinstance(obj.get("message"), str):
            return str(obj.get("code", ""))[:80], obj["message"][:200]
        if "errors" in obj:
            return "", str(obj["errors"])[:200]
    return "", short_text(body)


def result_order(skus: Sequence[str], results: dict[str, T]) -> list[T]:
    """One result per requested sku, in the caller's order (a repeated sku gets the same result)."""
    return [results[sku] for sku in skus]


FRESH_S: Final = 1.0  # a stock read this recent stands for the read right before a write


class ReadTimes:
    """When each sku's stock was last read from the shop. Where the API has no compare-and-swap, a write
    checks the shop's number just before it is sent; when the bridge has read that sku a moment ago (it
    reads, plans and writes in one go), that read is the check, and a second read would only double the
    calls. Older reads are read again, many skus per request.
    """

    def __init__(self, clock: Clock, fresh_s: float = FRESH_S) -> None:
        self.clock, self.fresh_s = clock, fresh_s
        self._at: dict[str, float] = {}

    def mark(self, skus: Iterable[str]) -> None:
        now = self.clock.monotonic()
        self._at.update(dict.fromkeys(skus, now))

    def forget(self, sku: str) -> None:
        """The shop's number is not known any more (written, or refused)."""
        self._at.pop(sku, None)

    def fresh(self, sku: str) -> bool:
        at = self._at.get(sku)
        return at is not None and self.clock.monotonic() - at <= self.fresh_s
