"""PIN attempts, rate-limited per client address (sans-IO: the clock is passed in).

A 6-digit PIN has a million values; five wrong tries lock that address out for a minute, and each further
wrong try doubles the wait up to a quarter of an hour, so guessing takes years while a mistyping installer
waits a minute. The table of addresses is bounded: the oldest entry is dropped first.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

FREE_TRIES: Final = 5
FIRST_LOCK_S: Final = 60.0
MAX_LOCK_S: Final = 900.0
MAX_CLIENTS: Final = 1024


@dataclass
class _Tries:
    failures: int = 0
    locked_until: float = 0.0


class PinGuard:
    def __init__(self, pin: str) -> None:
        self._pin = pin.encode()
        self._clients: OrderedDict[str, _Tries] = OrderedDict()

    def wait_s(self, client: str, now: float) -> float:
        """Seconds this client must still wait before its next try (0: it may try now)."""
        tries = self._clients.get(client)
        return 0.0 if tries is None else max(0.0, tries.locked_until - now)

    def attempt(self, client: str, pin: str, now: float) -> bool:
        """True for the right PIN from a client that is not locked out; a wrong one counts against it."""
        if self.wait_s(client, now) > 0:
            return False
        if hmac.compare_digest(pin.encode(), self._pin):
            self._clients.pop(client, None)
            return True
        tries = self._clients.pop(client, None) or _Tries()
        tries.failures += 1
        if tries.failures >= FREE_TRIES:
            tries.locked_until = now + min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (tries.failures - FREE_TRIES))
        self._clients[client] = tries
        while len(self._clients) > MAX_CLIENTS:
            self._clients.popitem(last=False)
        return False
