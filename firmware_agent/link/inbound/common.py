"""What every inbound handler shares: decoding that drops bad input with a log line, and the core call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from firmware_agent.link.events import Received
from firmware_agent.store import Store
from wire import Kind, Message, WireError, decode

log = logging.getLogger(__name__)
T = TypeVar("T")


class CoreCalls(Protocol):
    def call(self, fn: Callable[[Store], T], timeout: float = ...) -> T:
        """`fn(store)` run on the core loop and committed (link/service.py)."""
        ...


def decoded(kind: Kind, msg: Received) -> Message | None:
    """The message, or None after a log line: malformed or oversized input never goes further."""
    try:
        return decode(kind, msg.payload)
    except WireError as exc:
        log.warning("dropped a bad message on %s (%d bytes): %s", msg.topic, len(msg.payload), exc)
        return None
