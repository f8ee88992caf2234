"""The one module that imports paho: an MQTT v5 client whose callbacks only hand typed events on.

As in aiomqtt, paho's callbacks do nothing but turn paho's objects into our frozen events and pass them to
`emit` (which enqueues them for the link's thread); each callback is wrapped so that no exception can reach
paho and stop its network thread, which would then never reconnect. paho's own thread (`loop_start`) runs the
socket and the reconnects; `publish`, `ack` and `subscribe` are safe to call from any thread.

Reconnects back off exponentially with jitter, so a fleet of boxes does not reconnect in lockstep after a
broker restart: before each retry the callbacks set paho's next delay from `Backoff`.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import random
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, ParamSpec

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_agent.link.events import Connected, ConnectFailed, Disconnected, Received, Subscribed

log = logging.getLogger(__name__)

MAX_QUEUED: Final = 1000  # outgoing messages paho may hold in RAM; the journal itself waits in SQLite
RECEIVE_MAXIMUM = 8
"""Inbound QoS 1 messages the broker may have in flight to the box at once (MQTT 5's Receive Maximum; a
3.1.1 broker's own window is 20 by default): a 50-chunk catalog snapshot queues on the broker, not in the
box's memory, and each is acknowledged once the box has stored it. The link takes them one at a time, so a
wider window only holds more chunks' bytes: with 20, a 50,000-product snapshot took the box to 59.8-60.1 MB
(`rss_catalog_wire`), with 8 to 59.5-59.7 MB, and the new version went live no later."""
P = ParamSpec("P")
_GENERATIONS = itertools.count(
    1
)  # process-wide, so a message from a replaced client is never acked by a new one


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True)
class ClientOptions:
    host: str
    port: int
    client_id: str
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    clean_start: bool = False
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    will: Will | None = None
    v311: bool = False  # MQTT 3.1.1, for clients that must interoperate with older tools


class Backoff:
    """Exponential backoff with "equal jitter": half the delay fixed, half random."""

    def __init__(self, low: float, high: float, rng: random.Random | None = None) -> None:
        self.low, self.high = low, max(low, high)
        self.failures = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        delay = min(self.high, self.low * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return delay / 2 + self._rng.uniform(0, delay / 2)

    def reset(self) -> None:
        self.failures = 0


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]


def _delay(client: paho.Client, low: float, high: float) -> None:
    """paho annotates the delays as int, but waits on float seconds: sub-second jitter works."""
    client.reconnect_delay_set(low, high)  # type: ignore[arg-type]


def _no_delay(sock: Any) -> None:
    """Small MQTT packets (a batch, an ack) go out at once instead of waiting ~40 ms for Nagle's algorithm to
    see the previous segment acknowledged."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError) as exc:
        log.debug("TCP_NODELAY not set: %s", exc)


def _guarded(method: Callable[P, None]) -> Callable[P, None]:
    """A paho callback that can never raise into paho's network loop."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(*args, **kwargs)
        except Exception:
            log.exception("MQTT callback %s failed (the connection carries on)", method.__name__)

    return wrapper


class MqttClient:
    """A persistent-session MQTT v5 client with manual acknowledgement of inbound messages."""

    def __init__(self, options: ClientOptions, emit: Callable[[object], None]) -> None:
        self.options = options
        self._emit = emit
        self._backoff = Backoff(options.reconnect_min_s, options.reconnect_max_s)
        self._generation = 0
        self._connected = threading.Event()
        self._client = self._build()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def generation(self) -> int:
        return self._generation

    def _build(self) -> paho.Client:
        o = self.options
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=o.client_id,
            protocol=paho.MQTTv311 if o.v311 else paho.MQTTv5,
            clean_session=o.clean_start if o.v311 else None,
            reconnect_on_failure=True,
            manual_ack=True,
        )
        client.suppress_exceptions = True
        client.max_queued_messages_set(MAX_QUEUED)
        _delay(client, o.reconnect_min_s, o.reconnect_max_s)
        if o.username is not None:
            client.username_pw_set(o.username, o.password)
        if o.tls:
            client.tls_set(
                ca_certs=o.ca_file, certfile=o.cert_file, keyfile=o.key_file, cert_reqs=ssl.CERT_REQUIRED
            )
        if o.will is not None:
            client.will_set(o.will.topic, o.will.payload, o.will.qos, o.will.retain)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        return client

    # ---- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; failures are retried for as long as the client runs."""
        o = self.options
        if o.v311:
            self._client.connect_async(o.host, o.port, o.keepalive_s)
        else:
            props = _properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = o.session_expiry_s
            props.ReceiveMaximum = RECEIVE_MAXIMUM
            self._client.connect_async(
                o.host, o.port, o.keepalive_s, clean_start=o.clean_start, properties=props
            )
        self._client.loop_start()

    def stop(self, last_words: Sequence[tuple[str, bytes, int, bool]] = (), timeout: float = 2.0) -> None:
        """Publish `last_words` (topic, payload, qos, retain) if connected, then disconnect cleanly.

        A clean DISCONNECT suppresses the Will, which is why a clean stop says "offline" itself.
        """
        if self.connected:
            for topic, payload, qos, retain in last_words:
                info = self._client.publish(topic, payload, qos, retain)
                try:
                    info.wait_for_publish(timeout)
                except (RuntimeError, ValueError) as exc:
                    log.warning("could not publish %s before disconnecting: %s", topic, exc)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    # ---- outgoing ------------------------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int,
        retain: bool = False,
        *,
        correlation: bytes | None = None,
    ) -> bool:
        """Hand a message to paho; False when paho refused it (not connected and queue full, bad topic)."""
        props = None
        if correlation is not None and not self.options.v311:
            props = _properties(PacketTypes.PUBLISH)
            props.CorrelationData = correlation
        try:
            info = self._client.publish(topic, payload, qos, retain, properties=props)
        except ValueError as exc:  # an invalid topic (a wildcard in a response topic, say)
            log.warning("cannot publish to %r: %s", topic, exc)
            return False
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            log.warning("publish to %s refused by the client: %s", topic, paho.error_string(info.rc))
            return False
        return True

    def subscribe(self, topics: Sequence[tuple[str, int]]) -> None:
        if topics:
            self._client.subscribe(list(topics))

    def ack(self, message: Received) -> None:
        """PUBACK `message`, unless it came on an earlier connection (the broker will deliver it again)."""
        if message.qos > 0 and message.generation == self._generation and self.connected:
            self._client.ack(message.mid, message.qos)

    # ---- paho callbacks: translate and hand on, nothing else -----------------------------------------

    @_guarded
    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self._retry_later()
            self._emit(ConnectFailed(f"broker refused the connection: {reason}"))
            return
        self._backoff.reset()
        _no_delay(self._client.socket())
        self._generation = next(_GENERATIONS)
        self._connected.set()
        self._emit(Connected(self._generation, bool(flags.session_present)))

    @_guarded
    def _on_connect_fail(self, _c: Any, _u: Any) -> None:
        self._retry_later()
        where = f"{self.options.host}:{self.options.port}"
        self._emit(
            ConnectFailed(f"cannot connect to {where} (network, broker down, or TLS handshake refused)")
        )

    @_guarded
    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self._connected.clear()
        self._retry_later()
        self._emit(Disconnected(self._generation, str(reason)))

    @_guarded
    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        """Only a log line: a PUBACK says the broker has the message, never that the cloud applied it."""
        if getattr(reason, "is_failure", False):
            log.warning(
                "the broker refused message %d: %s (check the broker's ACL for this box)", mid, reason
            )

    @_guarded
    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: Any, _props: Any) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("the broker refused subscriptions: %s", ", ".join(refused))
        self._emit(Subscribed(self._generation))

    @_guarded
    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        props = getattr(message, "properties", None)
        response = getattr(props, "ResponseTopic", None)
        correlation = getattr(props, "CorrelationData", None)
        self._emit(
            Received(
                self._generation,
                message.topic,
                bytes(message.payload),
                message.mid,
                message.qos,
                bool(message.retain),
                response if isinstance(response, str) and response else None,
                bytes(correlation) if correlation is not None else None,
            )
        )

    def _retry_later(self) -> None:
        delay = self._backoff.next()
        _delay(self._client, delay, delay)


def request_reply(
    options: ClientOptions, topic: str, payload: bytes, response_topic: str, timeout: float
) -> bytes:
    """Publish one MQTT v5 request with a Response Topic and Correlation Data and return the reply's payload.

    For the support client. Raises `TimeoutError` when no reply comes, `ConnectionError` when the broker
    cannot be reached or refuses the credentials.
    """
    correlation = uuid.uuid4().bytes
    done: dict[str, Any] = {}
    arrived = threading.Event()

    def emit(event: object) -> None:
        if isinstance(event, Connected):
            client.subscribe([(response_topic, 1)])
            client.publish_request(topic, payload, response_topic, correlation)
        elif isinstance(event, ConnectFailed):
            done["error"] = event.reason
            arrived.set()
        elif isinstance(event, Received) and event.correlation == correlation:
            done["reply"] = event.payload
            client.ack(event)
            arrived.set()

    client = _Requester(dataclasses.replace(options, clean_start=True, session_expiry_s=0), emit)
    client.start()
    try:
        if not arrived.wait(timeout):
            raise TimeoutError(f"no reply on {response_topic} within {timeout:g} s")
    finally:
        client.stop()
    if "error" in done:
        raise ConnectionError(str(done["error"]))
    return bytes(done["reply"])


class _Requester(MqttClient):
    def publish_request(self, topic: str, payload: bytes, response_topic: str, correlation: bytes) -> None:
        props = _properties(PacketTypes.PUBLISH)
        props.ResponseTopic = response_topic
        props.CorrelationData = correlation
        self._client.publish(topic, payload, 1, False, properties=props)
