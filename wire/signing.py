"""HMAC-SHA256 signatures on commands, so a box runs only what its support key signed, once, recently.

The MAC covers the canonical JSON of every command field but `sig`: keys sorted, no spaces, non-ASCII as
UTF-8. Use one key per box, so a command signed for one box is refused by every other.
The MAC is checked first, then the time window, then the nonce, so a forged command never reaches (and
never fills) the nonce store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Final

from wire._text import show
from wire.commands import Command
from wire.errors import BadSignature, CommandExpired, CommandReplayed, MalformedMessage, SignatureError
from wire.timestamps import format_ts, parse_ts

MIN_KEY_BYTES: Final = 16


def canonical(cmd: Command) -> bytes:
    fields = {"v": 1, "id": cmd.id, "cmd": cmd.cmd, "args": cmd.args, "ts": cmd.ts, "nonce": cmd.nonce}
    try:
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MalformedMessage("cmd.args", f"cannot be signed as JSON: {exc}") from exc
    return text.encode()


def new_nonce() -> str:
    return secrets.token_hex(16)


def sign_command(cmd: Command, key: bytes, ts: datetime, nonce: str | None = None) -> Command:
    """`cmd` stamped with `ts` and a nonce (a fresh random one unless given) and signed with `key`."""
    stamped = replace(cmd, ts=format_ts(ts), nonce=new_nonce() if nonce is None else nonce, sig=None)
    return replace(stamped, sig=_mac(stamped, key))


def verify_command(
    cmd: Command, key: bytes, now: datetime, window_s: float, seen_nonce: Callable[[str], bool]
) -> None:
    """Returns if `cmd` may run; raises `BadSignature`, `CommandExpired` or `CommandReplayed` otherwise.

    `seen_nonce(nonce)` answers whether the nonce was used before and remembers it; it is called only for
    authentic commands inside the window, so it needs to remember nonces for about 2 × `window_s`.
    """
    if cmd.sig is None or cmd.ts is None or cmd.nonce is None:
        raise BadSignature(cmd.id, "not signed (a signed command carries ts, nonce and sig)")
    if not hmac.compare_digest(_mac(cmd, key), cmd.sig):
        raise BadSignature(cmd.id, "the signature does not match the command")
    signed_at = parse_ts(cmd.ts)
    if signed_at is None:
        raise BadSignature(cmd.id, f"ts {show(cmd.ts)} is not a wire timestamp")
    skew = (now - signed_at).total_seconds()
    if abs(skew) > window_s:
        when = "in the future" if skew < 0 else "ago"
        raise CommandExpired(cmd.id, f"signed {abs(skew):.0f} s {when}, outside the {window_s:g} s window")
    if seen_nonce(cmd.nonce):
        raise CommandReplayed(cmd.id, f"nonce {show(cmd.nonce)} was already used")


class RecentNonces:
    """An in-memory `seen_nonce` that remembers the last `limit` nonces.

    It forgets on restart, so a box that must refuse replays across a reboot keeps its nonces in its store.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._order: deque[str] = deque()
        self._seen: set[str] = set()
        self._limit = limit

    def __call__(self, nonce: str) -> bool:
        if nonce in self._seen:
            return True
        self._seen.add(nonce)
        self._order.append(nonce)
        if len(self._order) > self._limit:
            self._seen.discard(self._order.popleft())
        return False


def _mac(cmd: Command, key: bytes) -> str:
    if len(key) < MIN_KEY_BYTES:
        raise SignatureError(cmd.id, f"the signing key is shorter than {MIN_KEY_BYTES} bytes")
    return hmac.new(key, canonical(cmd), hashlib.sha256).hexdigest()
