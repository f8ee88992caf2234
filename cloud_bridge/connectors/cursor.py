"""Polling cursors that lose nothing and repeat little.

Shops filter "changed after T" with one-second precision, compare strictly, and commit slowly, so an
order stamped 12:00:05 can become visible after a poll at 12:00:07 that already moved the cursor past it.
So each poll asks from `since − overlap` and the cursor remembers which versions (id, update time and a
fingerprint of the content, since two changes can share a second) inside that window were already
returned: repeats are dropped, late arrivals are caught. The cursor is an opaque string for the bridge to
store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from cloud_bridge.errors import BadCursor

OVERLAP: Final = timedelta(seconds=10)
MAX_SEEN: Final = 5000


@dataclass
class PollWindow:
    since: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)  # item id -> "update time|fingerprint" returned

    @classmethod
    def decode(cls, cursor: str | None) -> PollWindow:
        if cursor is None:
            return cls()
        try:
            raw = json.loads(cursor)
            since = None if raw["since"] is None else datetime.fromisoformat(raw["since"])
            seen = {str(k): str(v) for k, v in dict(raw["seen"]).items()}
            for entry in seen.values():
                _time(entry)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise BadCursor(f"polling cursor {cursor[:60]!r} was not written by this bridge") from exc
        if since is not None and since.tzinfo is None:
            raise BadCursor(f"polling cursor {cursor[:60]!r} has a time without a zone")
        return cls(since, seen)

    def query_from(self) -> datetime | None:
        """The "changed after" bound to send: a little before the newest change seen."""
        return None if self.since is None else self.since - OVERLAP

    def is_new(self, item_id: str, updated: datetime, fingerprint: str = "") -> bool:
        return self.seen.get(item_id) != f"{updated.isoformat()}|{fingerprint}"

    def advance(self, items: Iterable[tuple[str, datetime, str]]) -> str:
        """Records what was returned and gives the next cursor."""
        for item_id, updated, fingerprint in items:
            self.seen[item_id] = f"{updated.isoformat()}|{fingerprint}"
            if self.since is None or updated > self.since:
                self.since = updated
        self._forget_old()
        return self.encode()

    def encode(self) -> str:
        since = None if self.since is None else self.since.isoformat()
        return json.dumps({"since": since, "seen": self.seen}, separators=(",", ":"), sort_keys=True)

    def _forget_old(self) -> None:
        horizon = self.query_from()
        if horizon is not None:
            self.seen = {k: v for k, v in self.seen.items() if _time(v) >= horizon}
        if len(self.seen) > MAX_SEEN:
            newest = sorted(self.seen.items(), key=lambda kv: kv[1])[-MAX_SEEN:]
            self.seen = dict(newest)


def _time(entry: str) -> datetime:
    return datetime.fromisoformat(entry.partition("|")[0])


def cursor_at(when: datetime) -> str:
    """A cursor that starts polling at `when` (e.g. the moment a shop was added to the bridge)."""
    if when.tzinfo is None:
        raise BadCursor("cursor_at needs a timezone-aware time")
    return PollWindow(when.astimezone(UTC) + OVERLAP).encode()
