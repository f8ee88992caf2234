"""Many boxes in one process: paho clients driven by one thread over epoll, for the fleet benchmark.

A real box runs one paho client with its own network thread. A thousand of those would measure the
benchmark's threads, not the bridge, so here each client's socket is watched by one selector and its
`loop_read` / `loop_write` / `loop_misc` called when it is due (paho's documented external-loop use).
Each light box speaks the wire contract as the real one does: a persistent session, its Will (offline)
set and its birth (online, retained, naming its boot and its store's epoch) published first on every
connection, its telemetry once a minute (the box's default `telemetry_s`), journal batches in seq order,
everything unacknowledged sent again when no ack came within `ack_timeout`, that timeout doubling while the
cloud stays silent and reset by an ack that moves on (the real drain's rule, so a late bridge is not
flooded with resends it then has to skip). It records, per entry, the time from its PUBLISH to the
application ack that covers it.
"""

from __future__ import annotations

import itertools
import secrets
import selectors
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from wire import (
    Ack,
    JournalBatch,
    JournalEntry,
    Kind,
    State,
    Telemetry,
    box_subscriptions,
    build_topic,
    decode,
    encode,
    now_ts,
    parse_topic,
    publication,
)

VERSION = "fleet-bench"


@dataclass
class LightBox:
    """One box: its unacknowledged entries, when each was first sent, and the ack latencies seen."""

    shop: str
    box: str
    client: Any = None
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    unacked: list[JournalEntry] = field(default_factory=list)
    sent_at: dict[int, float] = field(default_factory=dict)
    resent_at: float = 0.0
    backoff: float = 1.0  # the ack timeout's multiplier: doubles per resend, back to 1 on progress
    resends: int = 0
    acked: int = 0
    latencies: list[float] = field(default_factory=list)
    connected: bool = False
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))  # the box store's stream
    boot: int = 1

    def journal(self, sku: str, now: float) -> None:
        entry = JournalEntry(next(self.seq), "sale", now_ts(), {"sku": sku, "delta": -1, "stock_after": 0})
        self.unacked.append(entry)
        self.sent_at[entry.seq] = now
        self._publish([entry], now)

    def resend_if_late(self, now: float, ack_timeout: float) -> None:
        late = now - max(self.resent_at, self._oldest(now)) > ack_timeout * self.backoff
        if self.unacked and self.connected and late:
            self.backoff = min(self.backoff * 2, 20.0)
            self.resends += 1
            self._publish(self.unacked, now)

    def on_ack(self, upto: int, now: float) -> None:
        if upto <= self.acked:
            return
        self.acked = upto
        self.backoff = 1.0
        for entry in [e for e in self.unacked if e.seq <= upto]:
            self.latencies.append(now - self.sent_at.pop(entry.seq))
        self.unacked = [e for e in self.unacked if e.seq > upto]

    def report(self) -> None:
        """Telemetry, as the real box's link sends it every `telemetry_s`."""
        if self.connected:
            health = Telemetry(60, len(self.unacked), {"scanner": "ok"}, 1000.0, 0.1, None, now_ts())
            message = publication(self.shop, self.box, health)
            self.client.publish(message.topic, message.payload, qos=message.qos)

    def birth(self) -> None:
        """As the real box after each connection: subscriptions, then the birth, before any batch."""
        self.client.subscribe(box_subscriptions(self.shop, self.box))
        state = State(True, VERSION, self.boot, "0" * 64, now_ts(), self.epoch)
        self.client.publish(build_topic(self.shop, self.box, Kind.STATE), encode(state), qos=1, retain=True)

    def _oldest(self, now: float) -> float:
        return min((self.sent_at[e.seq] for e in self.unacked), default=now)

    def _publish(self, entries: Sequence[JournalEntry], now: float) -> None:
        self.resent_at = now
        if self.connected:
            batch = JournalBatch(tuple(entries), self.box, self.epoch, self.acked)
            self.client.publish(build_topic(self.shop, self.box, Kind.JOURNAL), encode(batch), qos=1)


class Fleet:
    """`boxes` light boxes on one broker, all served by the calling thread through `run_for`."""

    def __init__(self, host: str, port: int, boxes: Sequence[tuple[str, str]]) -> None:
        self.selector = selectors.DefaultSelector()
        self.boxes = [LightBox(shop, box) for shop, box in boxes]
        self._host, self._port = host, port
        self._registered: dict[int, LightBox] = {}

    def connect(self, per_second: float = 200.0, timeout: float = 60.0) -> None:
        """Connects every box, `per_second` at a time, as a fleet does after a broker restart."""
        deadline = time.monotonic() + timeout
        for n, box in enumerate(self.boxes):
            client = paho.Client(
                CallbackAPIVersion.VERSION2,
                client_id=f"box-{box.shop}-{box.box}",
                clean_session=False,
                userdata=box,
            )
            client.on_connect = _on_connect
            client.on_message = _on_message
            client.max_inflight_messages_set(100)
            client.max_queued_messages_set(1000)
            will = encode(State.offline(box.boot))
            client.will_set(build_topic(box.shop, box.box, Kind.STATE), will, qos=1, retain=True)
            box.client = client
            client.connect(self._host, self._port, keepalive=60)
            self._watch(box)
            if n % int(per_second) == 0:
                self.run_for(0.0)
        while not all(b.connected for b in self.boxes):
            if time.monotonic() > deadline:
                missing = sum(not b.connected for b in self.boxes)
                raise TimeoutError(f"{missing} of {len(self.boxes)} light boxes did not connect")
            self.run_for(0.05)

    def run_for(self, seconds: float) -> None:
        """Serves every socket for `seconds`: reads, due writes, keepalives."""
        end = time.monotonic() + seconds
        while True:
            for key, events in self.selector.select(timeout=max(0.0, min(0.05, end - time.monotonic()))):
                box: LightBox = key.data
                if events & selectors.EVENT_READ:
                    box.client.loop_read()
                if events & selectors.EVENT_WRITE:
                    box.client.loop_write()
            for box in self._live():
                if box.client.want_write():
                    box.client.loop_write()
            if time.monotonic() >= end:
                break
        for box in self._live():
            box.client.loop_misc()

    def _live(self) -> Iterator[LightBox]:
        return (box for box in self.boxes if box.client is not None)

    def close(self) -> None:
        for box in self._live():
            box.client.disconnect()
        self.run_for(0.2)
        self.selector.close()

    def _watch(self, box: LightBox) -> None:
        sock = box.client.socket()
        if sock is not None and sock.fileno() not in self._registered:
            self.selector.register(sock, selectors.EVENT_READ, box)
            self._registered[sock.fileno()] = box


def _on_connect(client: Any, box: LightBox, flags: Any, reason: Any, properties: Any) -> None:
    box.connected = True
    box.birth()
    box.resent_at = 0.0  # what was in flight may have gone with the old connection: send it again soon


def _on_message(client: Any, box: LightBox, msg: Any) -> None:
    if parse_topic(msg.topic).kind is Kind.ACK:
        payload = decode(Kind.ACK, msg.payload)
        if isinstance(payload, Ack) and payload.epoch in (None, box.epoch):
            box.on_ack(payload.upto, time.monotonic())
