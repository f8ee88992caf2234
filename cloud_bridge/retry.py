"""Retrying transient shop errors: exponential backoff with jitter, and the shop's Retry-After obeyed.

Time comes from an injectable `Clock`, so tests (and the Shopify cost bucket) can run on a manual clock
that advances when someone sleeps instead of really waiting. A Retry-After longer than
`RetryPolicy.max_retry_after` is not waited out in-line: the error goes back to the caller, which can
park the work and pick it up later instead of holding a worker for minutes.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from cloud_bridge.errors import TransientShopError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Clock(Protocol):
    """Monotonic time and sleeping; `simulators.shops.ManualClock` fits too."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try. The n-th retry waits between half and all of
    `min(max_delay, base_delay * 2**n)` ("equal jitter", so waits still grow while workers spread out),
    or at least the Retry-After the shop sent.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, retry: int, error: TransientShopError, rng: random.Random) -> float | None:
        """Seconds to wait before retry number `retry` (0-based), or None to give up and raise."""
        if retry + 1 >= self.attempts:
            return None
        if error.retry_after is not None and error.retry_after > self.max_retry_after:
            return None
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        backoff = ceiling / 2 + rng.uniform(0, ceiling / 2)
        return float(max(backoff, error.retry_after or 0.0))


NO_RETRY = RetryPolicy(attempts=1)


class Retrier:
    """Runs a call, retrying it on `TransientShopError` as the policy says; everything else passes through."""

    def __init__(
        self,
        policy: RetryPolicy = RetryPolicy(),
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.rng = rng or random.Random()
        self.waits: list[float] = []  # every wait, for metrics and tests

    def run(self, call: Callable[[], T], what: str) -> T:
        retry = 0
        while True:
            try:
                return call()
            except TransientShopError as exc:
                wait = self.policy.delay(retry, exc, self.rng)
                if wait is None:
                    raise
                log.warning("%s failed (%s); retry %d in %.2f s", what, exc, retry + 1, wait)
                self.waits.append(wait)
                self.clock.sleep(wait)
                retry += 1
