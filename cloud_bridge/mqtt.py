"""The bridge's one boundary around paho: subscribe to what boxes send, hand messages over, publish.

Callbacks only hand messages to the intake (which never blocks) or set events, and never raise (an exception
would stop paho's network thread). The session is clean: a worker that dies leaves nothing queued for itself
at the broker, and whatever it had received but not applied is sent again by the box, which resends
everything after its last ack.
"""

from __future__ import annotations

import logging
import ssl
import threading
from typing import Any, Final

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud_bridge.config import BrokerConfig
from cloud_bridge.intake import Inbound, Intake
from wire import cloud_subscriptions

log = logging.getLogger(__name__)

MAX_QUEUED: Final = 10_000  # outgoing messages paho holds while the broker is slow or away


class MqttLink:
    """Connects (and reconnects) to the broker; received messages are offered to `intake`."""

    def __init__(self, broker: BrokerConfig, client_id: str, group: str, intake: Intake) -> None:
        self.broker, self.group, self.intake = broker, group, intake
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.refused: list[str] = []  # subscriptions the broker refused (its accounts do not allow them)
        self.queue_full = 0  # publishes refused because paho's outgoing queue was full (the box resends)
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        client.suppress_exceptions = True
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_queued_messages_set(MAX_QUEUED)
        if broker.username is not None:
            client.username_pw_set(
                broker.username, None if broker.password is None else broker.password.reveal()
            )
        if broker.tls:
            client.tls_set(
                ca_certs=str(broker.ca_file) if broker.ca_file else None,
                certfile=str(broker.cert_file) if broker.cert_file else None,
                keyfile=str(broker.key_file) if broker.key_file else None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(
        self, topic: str, payload: bytes, qos: int, *, wait: float | None = None, expiry_s: int | None = None
    ) -> bool:
        """Queues a message; with `wait`, True only once the broker acknowledged it within that time. With
        `expiry_s`, the broker drops it if it cannot deliver it in that time (a box offline meanwhile)."""
        if not self.connected.is_set() and wait is not None:
            return False
        properties = None
        if expiry_s is not None:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.MessageExpiryInterval = max(1, expiry_s)
        info = self.client.publish(topic, payload, qos=qos, properties=properties)
        if info.rc == paho.MQTT_ERR_QUEUE_SIZE:
            self.queue_full += 1
            if self.queue_full % 100 == 1:
                log.warning("outgoing queue of %d full: a message to %s was not sent", MAX_QUEUED, topic)
        if wait is None:
            return info.rc == paho.MQTT_ERR_SUCCESS
        try:
            info.wait_for_publish(timeout=wait)
        except (RuntimeError, ValueError):  # not connected, or the queue is full
            return False
        return info.is_published()

    # --- paho callbacks (its network thread) ----------------------------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("broker %s refused the connection: %s", self.broker.url, reason)
            return
        log.info("connected to %s", self.broker.url)
        self.connected.set()
        client.subscribe(cloud_subscriptions(self.group))

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        asked = [topic for topic, _ in cloud_subscriptions(self.group)]
        self.refused = [topic for topic, code in zip(asked, reasons, strict=False) if code.is_failure]
        if self.refused:
            log.error("broker refused subscriptions (check the broker's accounts): %s", self.refused)
        self.subscribed.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if reason.is_failure:  # not the worker's own stop
            log.warning("disconnected from %s: %s", self.broker.url, reason)
        else:
            log.info("disconnected from %s", self.broker.url)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        self.intake.offer(Inbound(msg.topic, bytes(msg.payload)))
