"""The one timestamp format on the wire: ISO-8601, UTC, milliseconds, `Z` (`2024-05-01T12:34:56.789Z`).

A single fixed width keeps timestamps comparable as strings and cheap to check on the journal's hot path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

TS_EXAMPLE: Final = "2024-05-01T12:34:56.789Z"
_SHAPE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def format_ts(moment: datetime) -> str:
    """Formats an aware datetime; a naive one is refused because its zone would be a guess."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: a wire timestamp needs a time zone")
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


def now_ts() -> str:
    return format_ts(datetime.now(UTC))


def parse_ts(text: str) -> datetime | None:
    """The aware datetime `text` stands for, or None when it is not exactly the wire format."""
    if not _SHAPE.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the right shape but not a date: month 13, 25 o'clock
        return None
