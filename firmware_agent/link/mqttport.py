"""The link's one port to MQTT: the box's topics, its birth and will, and what waits for the next connection.

paho itself stays behind `MqttClient` (client.py, the only module that imports it); this port is what the rest
of the link talks to. A QoS 1 message sent while offline (an order's ack, a command's reply, a catalog
request) waits, at most `MAX_WAITING` of them, and goes out right after the next connection's birth; QoS 0
(telemetry) is dropped while offline, since a newer one follows. Journal batches never wait here: the drain
(drain.py) decides what to send again after a reconnect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

from firmware_agent.errors import AgentError
from firmware_agent.link.client import MqttClient, Will
from firmware_agent.link.events import Received
from firmware_agent.link.settings import LinkSettings
from wire import Kind, State, box_subscriptions, build_topic, encode

MAX_WAITING: Final = 100

Waiting = tuple[str, bytes, int, bool, bytes | None]
"""(topic, payload, qos, retain, correlation) of a message held for the next connection."""


class MqttPort:
    """Owned by the link's thread; paho's thread only reaches it through `emit` (the link's event queue)."""

    def __init__(self, emit: Callable[[object], None]) -> None:
        self.emit = emit
        self.client: MqttClient | None = None
        self.shop = self.box = ""
        self.boot = 0
        self._waiting: list[Waiting] = []

    def start(self, settings: LinkSettings, boot: int) -> None:
        """Connects (in the background) as the box of `settings`, with a will that says it went offline."""
        self.shop, self.box, self.boot = settings.shop, settings.box, boot
        will = Will(self.topic(Kind.STATE), encode(State.offline(boot)))
        self.client = MqttClient(dataclasses.replace(settings.client, will=will), self.emit)
        self.client.start()

    def stop(self) -> None:
        """Disconnects, saying first (retained) that the box is offline."""
        if self.client is not None:
            self.client.stop([(self.topic(Kind.STATE), encode(State.offline(self.boot)), 1, True)])

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    @property
    def generation(self) -> int:
        """Which connection this is (-1 before the first): messages of an older one cannot be acked."""
        return self.client.generation if self.client is not None else -1

    def topic(self, kind: Kind) -> str:
        return build_topic(self.shop, self.box, kind)

    def came_up(self, birth: State) -> None:
        """A new connection: the box's subscriptions, then its birth, which names the store the journal
        batches after it belong to."""
        client = self._client()
        client.subscribe(box_subscriptions(self.shop, self.box))
        self.publish(self.topic(Kind.STATE), encode(birth), 1, True)

    def send_waiting(self) -> None:
        """What was sent while offline goes now, in order."""
        client = self._client()
        waiting, self._waiting = self._waiting, []
        for topic, payload, qos, retain, correlation in waiting:
            client.publish(topic, payload, qos, retain, correlation=correlation)

    def publish(
        self, topic: str, payload: bytes, qos: int, retain: bool = False, correlation: bytes | None = None
    ) -> None:
        """Now if connected; a QoS 1 message otherwise waits (bounded) for the next connection."""
        if self.connected:
            self._client().publish(topic, payload, qos, retain, correlation=correlation)
        elif qos > 0 and len(self._waiting) < MAX_WAITING:
            self._waiting.append((topic, payload, qos, retain, correlation))

    def send(self, kind: Kind, payload: bytes, qos: int, retain: bool = False) -> None:
        """`publish` on this box's own topic of `kind`."""
        self.publish(self.topic(kind), payload, qos, retain)

    def publish_batch(self, payload: bytes) -> None:
        """A journal batch, now: the drain counts it in flight and sends it again itself if need be."""
        self._client().publish(self.topic(Kind.JOURNAL), payload, 1)

    def ack(self, msg: Received) -> None:
        self._client().ack(msg)

    def _client(self) -> MqttClient:
        if self.client is None:
            raise AgentError("the MQTT link has no client yet")
        return self.client
