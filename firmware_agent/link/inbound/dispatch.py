"""Routes each inbound message to the handler of its kind, acknowledges it to the broker once handled, and
tries a failed one again (a store that was busy or full may recover) — but not for ever.

Each unacknowledged message holds one of the broker's in-flight slots (20 in mosquitto); once they are all
held the broker sends this box no QoS 1 message at all, commands included. So at most `MAX_RETRYING`
messages wait to be tried again, each at most `MAX_ATTEMPTS` times, `RETRY_EVERY_S` apart; then it is
acknowledged with its reason logged, and its sender must send it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from firmware_agent.errors import AgentError
from firmware_agent.link.events import Received
from wire import BadTopic, Kind, parse_topic

log = logging.getLogger(__name__)

RETRY_EVERY_S: Final = 5.0
MAX_ATTEMPTS: Final = 12  # a minute of retries for a store that is busy or full
MAX_RETRYING: Final = 10  # messages held unacknowledged at once: half the broker's in-flight window

Handler = Callable[[Received], None]


class LinkStopped(AgentError):
    """The link is stopping: a core call a handler waited for was abandoned; the message stays unacked."""


class Broker(Protocol):
    """Where acknowledgements go, which connection is current (older ones' messages cannot be acked), and
    whose topics this box listens to."""

    shop: str
    box: str

    @property
    def generation(self) -> int: ...

    def ack(self, msg: Received) -> None: ...


class Inbound:
    def __init__(
        self, handlers: Mapping[Kind, Handler], broker: Broker, after_ack: Callable[[], None]
    ) -> None:
        self.handlers = handlers
        self.broker = broker
        self.after_ack = after_ack  # a restart asked for by a command waits for that command's ack
        self._retry: list[Received] = []
        self._attempts: dict[tuple[int, int], int] = {}  # (generation, mid) -> times handled and failed
        self._retry_at = 0.0

    def receive(self, msg: Received) -> None:
        try:
            topic = parse_topic(msg.topic)
            mine = (topic.shop, topic.box) == (self.broker.shop, self.broker.box)
            handler = self.handlers.get(topic.kind) if mine else None
        except BadTopic:
            handler = None
        if handler is None:
            log.warning("message on %r ignored: not a topic this box listens to", msg.topic[:200])
        else:
            try:
                handler(msg)
            except LinkStopped:
                return
            except Exception as exc:
                if self._try_again(msg, exc):
                    return
        self._attempts.pop((msg.generation, msg.mid), None)
        self.broker.ack(msg)
        self.after_ack()

    def tick(self, now: float) -> None:
        """Messages waiting to be tried again, every `RETRY_EVERY_S`; those of an older connection go."""
        if not self._retry or now < self._retry_at:
            return
        self._retry_at = now + RETRY_EVERY_S
        current = self.broker.generation
        retry, self._retry = [m for m in self._retry if m.generation == current], []
        self._attempts = {k: n for k, n in self._attempts.items() if k[0] == current}
        for msg in retry:
            self.receive(msg)

    def _try_again(self, msg: Received, exc: Exception) -> bool:
        """Whether `msg` stays unacknowledged, to be handled again."""
        key = (msg.generation, msg.mid)
        attempts = self._attempts[key] = self._attempts.get(key, 0) + 1
        if attempts < MAX_ATTEMPTS and len(self._attempts) <= MAX_RETRYING:
            log.error(
                "message on %s not processed (attempt %d of %d, tried again in %g s): %s",
                msg.topic, attempts, MAX_ATTEMPTS, RETRY_EVERY_S, exc, exc_info=exc,
            )  # fmt: skip
            self._retry.append(msg)
            return True
        log.error(
            "message on %s (%d bytes) dropped after %d attempt(s), the sender must send it again: %s",
            msg.topic, len(msg.payload), attempts, exc, exc_info=exc,
        )  # fmt: skip
        return False
