"""What happens to the link, as frozen dataclasses: paho's thread and the core loop's listener hand these to
the link's own thread, which alone decides what to do about them.

`generation` counts successful connections: an inbound message may be acknowledged (PUBACK) only on the
connection that delivered it, because a new connection gets the unacknowledged ones delivered again.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_agent.store.records import JournalRecord


@dataclass(frozen=True)
class Connected:
    generation: int
    session_present: bool


@dataclass(frozen=True)
class Subscribed:
    """The broker confirmed the box's subscriptions: commands and orders sent from now on reach it."""

    generation: int


@dataclass(frozen=True)
class ConnectFailed:
    """The broker could not be reached or refused us (bad credentials, not authorised, TLS)."""

    reason: str


@dataclass(frozen=True)
class Disconnected:
    generation: int
    reason: str


@dataclass(frozen=True)
class Received:
    """One inbound PUBLISH, not yet acknowledged to the broker (manual acks)."""

    generation: int
    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool = False
    response_topic: str | None = None
    correlation: bytes | None = None


@dataclass(frozen=True)
class JournalGrew:
    """The core loop committed journal entries up to `last_seq` (posted by a core listener)."""

    last_seq: int
    records: tuple[JournalRecord, ...] = ()


@dataclass(frozen=True)
class StopLink:
    """Leave the link's thread."""


LinkEvent = Connected | Subscribed | ConnectFailed | Disconnected | Received | JournalGrew | StopLink
