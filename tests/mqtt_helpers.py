"""A real mosquitto per test session, a "cloud" peer that plays the other end of the wire contract, and a box
(core loop + link) in this process or in a child process that a test can kill -9.

Run as a module, this file is that child: `python -m tests.mqtt_helpers DATA_DIR PORT ENTRIES`.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_agent.config import AgentConfig, validate
from firmware_agent.link import Link
from simulators.broker import Broker
from tests.core_helpers import Running, running_core
from wire import (
    STOCK_BODIES,
    Ack,
    Command,
    CommandReply,
    EntryKind,
    Kind,
    Message,
    build_topic,
    decode,
    encode,
    publication,
)

SHOP, BOX = "shop1", "till-1"
WAIT_S = 20.0
FAST = {  # timings that keep fault tests short; every other key keeps its default
    "reconnect_min_s": 0.05,
    "reconnect_max_s": 0.5,
    "keepalive_s": 5,
    "telemetry_s": 60.0,
}


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One anonymous mosquitto for the session (never the shared one on 1883)."""
    with Broker(tmp_path_factory.mktemp("broker")) as running:
        yield running


_ids = itertools.count(1)


def new_box_id() -> str:
    """A box id of its own per test: the session's broker keeps retained states and persistent sessions."""
    return f"till-{os.getpid()}-{next(_ids)}"


def link_config(data_dir: Path, url: str, box: str = BOX, **mqtt: Any) -> AgentConfig:
    table = {"url": url, **FAST, **mqtt}
    return validate({"box": {"id": box, "shop": SHOP, "data_dir": str(data_dir)}, "mqtt": table}, "test")


# ---- the cloud side ---------------------------------------------------------------------------------------


@dataclass
class Seen:
    """Everything the cloud received, guarded by one condition so tests wait on it instead of sleeping."""

    arrivals: list[int] = field(default_factory=list)  # every journal seq in arrival order, duplicates too
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> entry as first received
    applied: int = 0  # highest seq up to which every entry arrived: what the cloud acks
    messages: list[tuple[str, Message | None, bytes]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)


class CloudPeer:
    """Subscribes to one box's outbound topics, applies its journal in seq order and acks it."""

    def __init__(
        self,
        port: int,
        *,
        box: str | None = None,
        auto_ack: bool = True,
        start_after: int = 0,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
        tls_ca: Path | None = None,
        clean: bool = True,
    ) -> None:
        self.box = box or new_box_id()
        self.auto_ack = auto_ack
        self.seen = Seen(applied=start_after)
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"cloud-{uuid.uuid4().hex[:8]}",
            protocol=paho.MQTTv5,
            manual_ack=False,
        )
        if username:
            self.client.username_pw_set(username, password)
        if tls_ca:
            self.client.tls_set(ca_certs=str(tls_ca))
        self.client.reconnect_delay_set(0.05, 0.5)  # type: ignore[arg-type]  # paho takes float seconds
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0 if clean else 3600
        self.client.connect(host, port, 5, clean_start=clean, properties=props)
        self.client.loop_start()
        assert self._subscribed.wait(WAIT_S), "the cloud peer could not subscribe"

    def topic(self, kind: Kind) -> str:
        return build_topic(SHOP, self.box, kind)

    def _on_connect(self, client: paho.Client, *_args: Any) -> None:
        up = [Kind.JOURNAL, Kind.STATE, Kind.CATALOG_REQUEST, Kind.TELEMETRY, Kind.CMD_REPLY, Kind.ORDERS_ACK]
        client.subscribe([(self.topic(kind), 1) for kind in up])

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        try:
            message: Message | None = decode(msg.topic, bytes(msg.payload))
        except Exception:
            message = None
        with self.seen.cond:
            self.seen.messages.append((msg.topic, message, bytes(msg.payload)))
            if msg.topic == self.topic(Kind.JOURNAL) and message is not None:
                self._apply(message)
            self.seen.cond.notify_all()

    def _apply(self, batch: Any) -> None:
        seen = self.seen
        for entry in batch.entries:
            seen.arrivals.append(entry.seq)
            first = seen.entries.setdefault(entry.seq, entry.to_json())
            assert first == entry.to_json(), f"seq {entry.seq} came back with other content"
        while seen.applied + 1 in seen.entries:
            seen.applied += 1
        if (
            self.auto_ack
        ):  # in paho's callback: publish without waiting for the PUBACK paho would deliver here
            pub = publication(SHOP, self.box, Ack(seen.applied))
            self.client.publish(pub.topic, pub.payload, pub.qos)

    def ack(self, upto: int) -> None:
        self.send(Ack(upto))

    def send(self, message: Message, *, retain: bool = False) -> None:
        """Returns once the broker has the message (PUBACK), so it is routed before anything sent later."""
        pub = publication(SHOP, self.box, message)
        self.client.publish(pub.topic, pub.payload, pub.qos, retain or pub.retain).wait_for_publish(WAIT_S)

    def send_raw(self, kind: Kind, payload: bytes, **props: Any) -> None:
        properties = None
        if props:
            properties = Properties(PacketTypes.PUBLISH)
            for name, value in props.items():
                setattr(properties, name, value)
        self.client.publish(self.topic(kind), payload, 1, properties=properties).wait_for_publish(WAIT_S)

    def wait(self, predicate: Callable[[Seen], bool], timeout: float = WAIT_S, what: str = "") -> Seen:
        with self.seen.cond:
            if not self.seen.cond.wait_for(lambda: predicate(self.seen), timeout):
                raise AssertionError(
                    f"timed out waiting for {what or predicate}; applied={self.seen.applied}"
                )
        return self.seen

    def wait_applied(self, seq: int, timeout: float = WAIT_S) -> Seen:
        return self.wait(lambda s: s.applied >= seq, timeout, f"journal applied up to {seq}")

    def of_kind(self, kind: Kind) -> list[Any]:
        with self.seen.cond:
            return [m for t, m, _ in self.seen.messages if t == self.topic(kind) and m is not None]

    def wait_for(self, kind: Kind, count: int = 1, timeout: float = WAIT_S) -> list[Any]:
        def enough(seen: Seen) -> bool:
            return sum(1 for t, m, _ in seen.messages if t == self.topic(kind) and m is not None) >= count

        self.wait(enough, timeout, f"{count} message(s) on {kind}")
        return self.of_kind(kind)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass(frozen=True)
class Reply:
    """A `CommandReply` as tests read it: `error` is "" when there is none."""

    id: str
    ok: bool
    result: Any
    error: str


def command_request(
    port: int, command: Command | bytes, *, box: str, timeout: float = WAIT_S, v311: bool = False
) -> Reply:
    """Sends a command as support would (v5: Response Topic + Correlation Data; 3.1.1: `cmd/reply`)."""
    payload = command if isinstance(command, bytes) else encode(command)
    reply_topic = build_topic(SHOP, box, Kind.CMD_REPLY) if v311 else f"support/reply/test/{uuid.uuid4().hex}"
    correlation = uuid.uuid4().bytes
    got: list[CommandReply] = []
    arrived, subscribed = threading.Event(), threading.Event()
    client = paho.Client(
        CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311 if v311 else paho.MQTTv5, manual_ack=False
    )

    def on_message(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        corr = getattr(msg.properties, "CorrelationData", None) if not v311 else None
        if v311 or corr == correlation:
            got.append(decode(Kind.CMD_REPLY, msg.payload))  # type: ignore[arg-type]
            arrived.set()

    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.set()
    client.connect("127.0.0.1", port, 10)
    client.loop_start()
    try:
        client.subscribe(reply_topic, 1)
        assert subscribed.wait(WAIT_S)
        props = None
        if not v311:
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = reply_topic
            props.CorrelationData = correlation
        client.publish(build_topic(SHOP, box, Kind.CMD), payload, 1, properties=props)
        if not arrived.wait(timeout):
            raise AssertionError(f"no reply on {reply_topic}")
    finally:
        client.disconnect()
        client.loop_stop()
    reply = got[0]
    return Reply(reply.id, reply.ok, reply.result, reply.error or "")


# ---- the box -----------------------------------------------------------------------------------------------


@dataclass
class RunningBox:
    running: Running
    link: Link
    id: str
    path: Path | None = None

    @property
    def core(self) -> Any:
        return self.running.core


@contextmanager
def running_box(
    tmp_path: Path, url: str, box: str, config_path: Path | None = None, *, online: bool = True, **mqtt: Any
) -> Iterator[RunningBox]:  # mqtt: any [mqtt] key of the config
    """A core loop on a store with the sample catalog, and a link to the broker at `url` (waited for, unless
    `online` is False)."""
    config = link_config(tmp_path, url, box, **mqtt)
    with running_core(tmp_path) as running:
        link = Link(config, config_path)
        link.start(running.core)
        try:
            assert link.ready.wait(WAIT_S), "the link did not load its state"
            assert not online or link.online.wait(WAIT_S), "the link did not connect and subscribe"
            yield RunningBox(running, link, box, config_path)
        finally:
            link.stop()


def settle(box: RunningBox, predicate: Callable[[], bool], timeout: float = WAIT_S, what: str = "") -> None:
    """Waits for a condition on the box's store, re-checked after each commit of its core loop (every change
    to the store is one), so no sleeping."""
    deadline = time.monotonic() + timeout
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        with suppress(queue.Empty):
            box.running.applied.get(timeout=remaining)


def rows(data_dir: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Reads the box's store through a connection of its own, as another process would."""
    with sqlite3.connect(data_dir / "tillbridge.db") as conn:
        return conn.execute(sql, params).fetchall()


def journal_seqs(data_dir: Path) -> list[int]:
    return [seq for (seq,) in rows(data_dir, "SELECT seq FROM journal ORDER BY seq")]


class LogWatch(logging.Handler):
    """Sets `seen` when a record containing `text` is logged: a wait on a log line without polling;
    `count` says how many were."""

    def __init__(self, text: str, logger: str = "firmware_agent") -> None:
        super().__init__(logging.DEBUG)
        self.text, self.logger, self.seen = text, logging.getLogger(logger), threading.Event()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.count += 1
            self.seen.set()

    def __enter__(self) -> LogWatch:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.logger.removeHandler(self)

    def wait(self, timeout: float = WAIT_S) -> None:
        assert self.seen.wait(timeout), f"no log line containing {self.text!r}"


def seed_journal(store: Any, count: int, kind: EntryKind = EntryKind.ADJUST) -> None:
    """`count` journal entries in one transaction: a backlog built while the box was offline."""
    with store.transaction():
        for index in range(count):
            body = STOCK_BODIES[kind](sku="OIL-1L", delta=1, stock_after=index, extra={"note": "x" * 40})
            store.append(body)


# ---- the box in a child process, for kill -9 ---------------------------------------------------------------


def spawn_box(data_dir: Path, port: int, box: str, seed: int = 0, **mqtt: Any) -> subprocess.Popen[str]:
    """A box process (store + core loop + link), returned once its link has loaded its state (it may still be
    connecting)."""
    args = [sys.executable, "-m", "tests.mqtt_helpers", str(data_dir), str(port), box, str(seed)]
    args += [f"{k}={v}" for k, v in mqtt.items()]
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ}
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", f"the box process did not start: {line!r}"
    return process


def _child(argv: list[str]) -> int:
    """The box process: seeds its journal once, then runs until SIGTERM or SIGKILL."""
    import signal

    from devices.barcodes import BarcodeConfig
    from firmware_agent.core import CoreLoop
    from firmware_agent.events import Stop
    from tests.store_helpers import open_store

    data_dir, port, box, seed = Path(argv[0]), int(argv[1]), argv[2], int(argv[3])
    mqtt: dict[str, Any] = {}
    for item in argv[4:]:
        key, value = item.split("=", 1)
        mqtt[key] = float(value) if "." in value else int(value)
    fresh = not (data_dir / "tillbridge.db").exists()
    store = open_store(data_dir, catalog=fresh)
    if fresh and seed:
        seed_journal(store, seed)
    core = CoreLoop(store, BarcodeConfig())
    link = Link(link_config(data_dir, f"mqtt://127.0.0.1:{port}", box, **mqtt))
    link.start(core)
    signal.signal(signal.SIGTERM, lambda *_a: core.post(Stop()))
    threading.Thread(target=lambda: (link.ready.wait(), print("ready", flush=True)), daemon=True).start()
    core.run()
    link.stop()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
