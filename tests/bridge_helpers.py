"""What the bridge tests share: a throw-away PostgreSQL database and SQLite file, shop simulators with their
bridge config, a recording publisher, and boxes played with the `wire` package over a real broker.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg2  # type: ignore[import-untyped]
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig, ShopConfig, Timing
from cloud_bridge.connectors import ConnectorOptions, ShopConnector, make_connector
from cloud_bridge.db import Database
from cloud_bridge.orders import pickup_code
from cloud_bridge.retry import RetryPolicy
from cloud_bridge.sync import ShopDriver
from cloud_bridge.worker import MAX_PAGES, Worker
from configspec import Secret, SecretUrl
from simulators.broker import Broker
from simulators.shops import (
    Item,
    MagentoSimulator,
    PrestaShopSimulator,
    ShopifySimulator,
    WooCommerceSimulator,
)
from tests.process_helpers import ChildProcess
from wire import (
    Ack,
    JournalBatch,
    JournalEntry,
    Kind,
    Order,
    OrderAck,
    PickupKey,
    box_subscriptions,
    build_topic,
    decode,
    encode,
    now_ts,
    parse_topic,
)

WAIT = 30.0  # a deadline, not a pause: generous, so a loaded machine (CI beside other jobs) is not a failure
# Where the scratch databases are made: a server that lets this user create and drop databases.
PG_SERVER = os.environ.get("TILLBRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
FAST = Timing(
    poll_s=0.05,
    orders_s=0.05,
    products_s=0.2,
    reconcile_s=3600.0,
    parked_retry_s=3600.0,
    shop_timeout_s=2.0,
    retry_attempts=3,
    retry_base_s=0.05,
    retry_max_s=0.3,
)


def wait_for(
    check: Callable[[], bool],
    timeout: float = WAIT,
    what: str = "condition",
    detail: Callable[[], str] | None = None,
) -> None:
    """Polls `check` (a read of real state: a database row, a simulator's stock) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            more = f": {detail()}" if detail is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{more}")
        threading.Event().wait(0.02)


# --- databases -------------------------------------------------------------------------------------------


class PostgresServer:
    """One scratch database per test session on the local PostgreSQL (trust auth), dropped at the end."""

    def __init__(self) -> None:
        self.name = f"tb_test_{uuid.uuid4().hex[:12]}"
        try:
            self._admin(f'CREATE DATABASE "{self.name}"')
        except psycopg2.OperationalError as exc:
            raise RuntimeError(
                f"the bridge tests need PostgreSQL at {PG_SERVER} (TILLBRIDGE_TEST_POSTGRES), e.g. "
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            ) from exc

    @property
    def url(self) -> str:
        return f"{PG_SERVER.rstrip('/')}/{self.name}"

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def truncate(self) -> None:
        with contextlib.closing(psycopg2.connect(self.url)) as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                tables = [row[0] for row in cur.fetchall()]
                if tables:
                    cur.execute(f"TRUNCATE {', '.join(f'{t!s}' for t in tables)} RESTART IDENTITY")
            conn.commit()

    def _admin(self, sql: str) -> None:
        conn = psycopg2.connect(f"{PG_SERVER.rstrip('/')}/postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.drop()


def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty bridge database of the kind `request.param` names (a module whose tests get
    PostgreSQL imports the `postgres` fixture too)."""
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        server.truncate()
        return server.url
    return f"sqlite:///{tmp_path / 'bridge.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """For a bridge that opens its database itself (a worker)."""
    return empty_database(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An open, empty bridge database of each kind."""
    db = Database(empty_database(request, tmp_path))
    db.open()
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A mosquitto of the test's own on a free port (never the shared one on 1883): the bridge's retained
    states and persistent sessions start empty in every test, unlike `tests.mqtt_helpers.broker`'s.
    """
    with Broker(tmp_path / "broker") as running:
        yield running


# --- shops -----------------------------------------------------------------------------------------------

Simulator = WooCommerceSimulator | PrestaShopSimulator | ShopifySimulator


def seed(count: int, stock: int, prefix: str = "SKU") -> list[Item]:
    return [Item(f"{prefix}-{i:03d}", f"Item {i}", 100 + i, stock) for i in range(count)]


def start_simulator(platform: str, items: Sequence[Item], **kw: Any) -> Simulator:
    cls: dict[str, Callable[..., Simulator]] = {
        "woocommerce": WooCommerceSimulator,
        "prestashop": PrestaShopSimulator,
        "shopify": ShopifySimulator,
    }
    if platform == "shopify":
        kw.setdefault("restore_rate", 20000.0)  # a huge bucket: the tests poll far more often than a bridge
        kw.setdefault("bucket_size", 20000.0)
    sim: Simulator = cls[platform](items, **kw)
    sim.start()
    return sim


@pytest.fixture
def woo() -> Iterator[WooCommerceSimulator]:
    """A WooCommerce shop with three items, ten of each: the shop most bridge tests need and never change."""
    sim = start_simulator("woocommerce", seed(3, 10))
    assert isinstance(sim, WooCommerceSimulator)
    yield sim
    sim.stop()


def shop_config(
    shop_id: str,
    sim: Simulator | MagentoSimulator,
    boxes: Sequence[str],
    buffer: int = 0,
    catalog: dict[str, Any] | None = None,
    *,
    window: float = 0.0,
    low_stock: int = 2,
) -> ShopConfig:
    """The `[[shop]]` table a merchant would write for this simulator. `window`: the coalescing window,
    0 unless a test is about it (a pass then writes at once, so a test need not wait out a window).
    """
    if isinstance(sim, WooCommerceSimulator):
        creds: dict[str, Any] = {"consumer_key": sim.consumer_key, "consumer_secret": sim.consumer_secret}
        platform = "woocommerce"
    elif isinstance(sim, PrestaShopSimulator):
        creds, platform = {"key": sim.key}, "prestashop"
    elif isinstance(sim, MagentoSimulator):
        creds, platform = {"access_token": sim.access_token}, "magento"
    else:
        creds = {"access_token": sim.access_token, "location_id": "1", "webhook_secrets": [sim.client_secret]}
        platform = "shopify"
    return ShopConfig(
        shop_id,
        platform,
        sim.url,
        tuple(boxes),
        creds,
        buffer,
        catalog or {},
        write_window_s=window,
        low_stock=low_stock,
    )


def connector(shop: ShopConfig, *, timeout: float = 2.0) -> ShopConnector:
    """A connector with short timeouts and retry waits, on real time (Shopify's cost bucket runs on it)."""
    options = ConnectorOptions(
        timeout=timeout,
        retry=RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.3),
        rng=random.Random(5),
        max_pages=MAX_PAGES,
    )
    return make_connector(shop.id, shop.platform, shop.connector_settings(), options)


@dataclass
class Published:
    topic: str
    payload: bytes


class RecordingPublisher:
    """Stands in for the MQTT link in driver tests: keeps what was published, or refuses when `down`."""

    def __init__(self) -> None:
        self.sent: list[Published] = []
        self.down = False

    def publish(
        self, topic: str, payload: bytes, qos: int, *, wait: float | None = None, expiry_s: int | None = None
    ) -> bool:
        if self.down:
            return False
        self.sent.append(Published(topic, payload))
        return True

    def messages(self, box: str, kind: Kind) -> list[Any]:
        out = []
        for item in self.sent:
            topic = parse_topic(item.topic)
            if topic.box == box and topic.kind is kind:
                out.append(decode(kind, item.payload))
        return out

    def orders(self, box: str) -> list[Order]:
        """The orders sent to `box` (the `orders` topic also carries the shop's pickup keys)."""
        return [o for o in self.messages(box, Kind.ORDERS) if isinstance(o, Order)]


class Clock:
    """Wall time a test can move forward (the driver's due times and parking use it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def driver(
    db: Database,
    shop: ShopConfig,
    publisher: RecordingPublisher,
    clock: Clock,
    timing: Timing = FAST,
    timeout: float = 2.0,
) -> ShopDriver:
    return ShopDriver(
        db, shop, connector(shop, timeout=timeout), publisher, timing, PICKUP_SECRET.encode(), clock=clock
    )


def run(d: ShopDriver, clock: Clock, seconds: float = 1.0) -> None:
    """`seconds` pass on the driver's clock, then one pass that must reach the shop."""
    clock.advance(seconds)
    assert d.run_pass(force=True)


@contextlib.contextmanager
def driven_shop(
    platform: str, db: Database, *, count: int = 4, boxes: Sequence[str] = ("till-1", "till-2"), **kw: Any
) -> Iterator[tuple[Simulator, ShopDriver, RecordingPublisher, Clock]]:
    """A simulated shop of `count` products (20 in stock each) driven on `db` for `boxes`, its first pass
    made; `kw` overrides its `ShopConfig`. The simulator stops when the block ends."""
    sim = start_simulator(platform, seed(count, 20))
    try:
        publisher, clock = RecordingPublisher(), Clock()
        d = driver(db, replace(shop_config("shop", sim, list(boxes)), **kw), publisher, clock)
        d.run_pass(force=True)
        yield sim, d, publisher, clock
    finally:
        sim.stop()


def query(worker: Worker, fn: Callable[[], Any]) -> Any:
    """`fn`'s reads of the worker's database, from the test's thread."""
    with worker.db.db.connection_context():
        return fn()


def started_worker(config: BridgeConfig) -> Worker:
    """A bridge worker in this process, once it is ready and has initialised its shops."""
    worker = Worker(config).start()
    assert worker.ready(10)
    initialised = m.ShopState.select().where(m.ShopState.name == "initialised")
    wait_for(lambda: query(worker, initialised.exists), what="shop init")
    return worker


@contextlib.contextmanager
def running_worker(config: BridgeConfig) -> Iterator[Worker]:
    worker = started_worker(config)
    try:
        yield worker
    finally:
        worker.stop()


def bridge_config(database_url: str, broker_url: str, shops: Sequence[ShopConfig], **kw: Any) -> BridgeConfig:
    return BridgeConfig(
        worker_id=kw.pop("worker_id", "w1"),
        database_url=SecretUrl(database_url),
        pickup_secret=Secret(PICKUP_SECRET),
        broker=kw.pop("broker", None) or _broker(broker_url),
        timing=kw.pop("timing", FAST),
        shops=tuple(shops),
        **kw,
    )


def _broker(url: str) -> Any:
    from cloud_bridge.config import BrokerConfig

    return BrokerConfig(url=url, keepalive_s=5)


def config_toml(config: BridgeConfig) -> str:
    """The TOML file for `config` (for worker subprocesses started as `tillbridge bridge --config`)."""
    t = config.timing
    lines = [
        "[bridge]",
        f'worker_id = "{config.worker_id}"',
        f'group = "{config.group}"',
        f'pickup_secret = "{config.pickup_secret.reveal() if config.pickup_secret else ""}"',
        "[database]",
        f'url = "{config.database_url.reveal()}"',
        "[broker]",
        f'url = "{config.broker.url}"',
        f"keepalive_s = {config.broker.keepalive_s}",
        "[timing]",
        *(f"{name} = {getattr(t, name)!r}" for name in Timing.__dataclass_fields__),
    ]
    for shop in config.shops:
        lines += [
            "[[shop]]",
            f'id = "{shop.id}"',
            f'platform = "{shop.platform}"',
            f'base_url = "{shop.base_url}"',
            f"boxes = [{', '.join(repr(b) for b in shop.boxes)}]".replace("'", '"'),
            f"safety_buffer = {shop.safety_buffer}",
            f"write_window_s = {shop.write_window_s!r}",
            f"low_stock = {shop.low_stock}",
            "[shop.credentials]",
        ]
        for key, value in shop.credentials.items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
        if shop.catalog:
            lines.append("[shop.catalog]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in shop.catalog.items()]
    return "\n".join(lines) + "\n"


# --- journal entries ------------------------------------------------------------------------------------


PICKUP_SECRET = "test pickup secret"


def customer_code(shop: str, order_id: str) -> str:
    """The pickup code the customer of an order was given (the box only gets what verifies it)."""
    return pickup_code(PICKUP_SECRET.encode(), shop, order_id)


def sale(seq: int, sku: str, delta: int = -1, kind: str = "sale") -> JournalEntry:
    return JournalEntry(seq, kind, now_ts(), {"sku": sku, "delta": delta, "stock_after": 0})


def batch(
    *entries: JournalEntry, epoch: str | None = None, acked: int | None = None
) -> tuple[JournalBatch, bytes]:
    b = JournalBatch(tuple(entries), epoch=epoch, acked=acked)
    return b, encode(b)


# --- boxes played with the wire contract ----------------------------------------------------------------


@dataclass
class PlayedBox:
    """A box as far as the bridge can tell, draining its journal like the real one: batches in seq order, each
    naming the store's `epoch` and the last ack, at most `window` awaiting their ack, everything
    unacknowledged sent again (go-back-N) after a reconnect or when the oldest batch waits longer than
    `ack_timeout`. Orders are de-duplicated by id as the real box's store does (`printed` holds each once,
    `deliveries` counts every copy).

    `start` is where its store's seqs begin (the first is `start + 1`). `skip` plays an independent client
    whose retransmits leave entries out: each entry of a resend is left out with that chance (the next
    resend may bring it). `replace_store()` swaps the store for a new one, as a deleted or replaced store
    does.
    """

    shop: str
    box: str
    broker_url: str
    ack_timeout: float = 1.0
    window: int = 4
    max_entries: int = 50
    journal: list[JournalEntry] = field(default_factory=list)  # the current store's entries
    acked: int = 0
    printed: dict[str, Order] = field(default_factory=dict)
    deliveries: int = 0
    resends: int = 0
    catalog: list[Any] = field(default_factory=list)
    epoch: str | None = field(default_factory=lambda: secrets.token_hex(8))
    start: int = 0
    skip: float = 0.0
    stores: list[tuple[str | None, list[JournalEntry]]] = field(default_factory=list)  # earlier stores
    ignored_acks: int = 0
    holes_sent: int = 0  # resends that left entries out

    def __post_init__(self) -> None:
        self._seq = itertools.count(self.start + 1)
        self.acked = self.start
        self._rng = random.Random(self.box)
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._orders: queue.Queue[Order] = queue.Queue()
        self._inflight: list[tuple[int, float]] = []  # (last seq, sent at) per batch awaiting its ack
        self._sent_upto = self.start
        self._resending = False
        self._progress_at = time.monotonic()
        host, port = self.broker_url.rsplit(":", 1)
        client = paho.Client(  # a persistent session, as the real box keeps: the broker queues what it misses
            CallbackAPIVersion.VERSION2, client_id=f"box-{self.shop}-{self.box}", clean_session=False
        )
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.reconnect_delay_set(1, 2)
        self.client = client  # before its thread starts: what the session kept arrives at once, and is acked
        client.connect_async(host.rsplit("/", 1)[-1], int(port))
        client.loop_start()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def record(self, kind: str, **data: Any) -> JournalEntry:
        with self._lock:
            entry = JournalEntry(next(self._seq), kind, now_ts(), data)
            self.journal.append(entry)
            self._progress.notify_all()
            return entry

    def sell(self, sku: str, qty: int = 1) -> JournalEntry:
        return self.record("sale", sku=sku, delta=-qty, stock_after=0)

    def replace_store(self, start: int = 0) -> None:
        """A new store (a new epoch) whose seqs begin again after `start`; the old one's entries stay in
        `stores`. Like a real replaced store, what the old one had not had acknowledged goes with it.
        """
        with self._lock:
            self.stores.append((self.epoch, self.journal))
            self.epoch, self.journal = secrets.token_hex(8), []
            self._seq = itertools.count(start + 1)
            self.acked = self._sent_upto = start
            self._inflight.clear()

    def all_entries(self) -> list[tuple[str | None, JournalEntry]]:
        with self._lock:
            stores = [*self.stores, (self.epoch, self.journal)]
            return [(epoch, entry) for epoch, entries in stores for entry in entries]

    def next_order(self, timeout: float = WAIT) -> Order:
        return self._orders.get(timeout=timeout)

    def wait_acked(self, timeout: float = WAIT) -> None:
        with self._lock:
            last = self.journal[-1].seq if self.journal else self.start
            if not self._progress.wait_for(lambda: self.acked >= last, timeout):
                state = (
                    f"connected {self.client.is_connected()}, sent up to {self._sent_upto}, "
                    f"{len(self._inflight)} in flight, {self.resends} resends, drain alive "
                    f"{self._thread.is_alive()}"
                )
                problem = f"box {self.box}: acked {self.acked} of {last} after {timeout} s"
                raise AssertionError(f"{problem}; {state}")

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._progress.notify_all()
        self._thread.join(5)
        self.client.disconnect()
        self.client.loop_stop()

    def _go_back(self) -> None:
        if self._inflight:
            self.resends += 1
        self._inflight.clear()
        self._sent_upto = self.acked
        self._resending = True

    def _drain(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._progress.wait(0.02)
                now = time.monotonic()
                self._inflight = [b for b in self._inflight if b[0] > self.acked]
                if self._inflight and now - max(self._inflight[0][1], self._progress_at) > self.ack_timeout:
                    self._go_back()
                fresh: list[JournalEntry] = []
                if len(self._inflight) < self.window and self.client.is_connected():
                    fresh = [e for e in self.journal if e.seq > self._sent_upto][: self.max_entries]
                if fresh:
                    self._inflight.append((fresh[-1].seq, now))
                    self._sent_upto = fresh[-1].seq
                    if self._resending and self.skip:
                        kept = [e for e in fresh if self._rng.random() >= self.skip] or fresh[-1:]
                        self.holes_sent += len(kept) < len(fresh)
                        fresh = kept
                    batch = JournalBatch(tuple(fresh), self.box, self.epoch, self.acked)
                elif self._sent_upto >= (self.journal[-1].seq if self.journal else self.start):
                    self._resending = False
            if fresh:
                topic = build_topic(self.shop, self.box, Kind.JOURNAL)
                self.client.publish(topic, encode(batch), qos=1)

    def _ack_order(self, ack: OrderAck) -> None:
        """As the real box does once an order is on its disk: the bridge stops sending it."""
        self.client.publish(build_topic(self.shop, self.box, Kind.ORDERS_ACK), encode(ack), qos=1)

    def _on_connect(self, client: Any, *args: Any) -> None:
        client.subscribe(box_subscriptions(self.shop, self.box))
        with self._lock:
            self._go_back()  # what was in flight may have gone with the old connection

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        kind = parse_topic(msg.topic).kind
        payload = decode(kind, msg.payload)
        with self._lock:
            if isinstance(payload, Ack) and payload.epoch not in (None, self.epoch):
                self.ignored_acks += 1  # about a store this box no longer has
            elif isinstance(payload, Ack) and payload.upto > self.acked:
                self.acked = payload.upto
                self._sent_upto = max(self._sent_upto, payload.upto)
                self._progress_at = time.monotonic()
                self._progress.notify_all()
            elif isinstance(payload, Order):
                self.deliveries += 1
                if payload.order_id not in self.printed:
                    self.printed[payload.order_id] = payload
                    self._orders.put(payload)
                self._ack_order(OrderAck(payload.order_id, payload.rev))
            elif isinstance(payload, PickupKey):
                self._ack_order(OrderAck(key_id=payload.key_id))
            elif kind is Kind.CATALOG:
                self.catalog.append(payload)


# --- worker processes ------------------------------------------------------------------------------------


class WorkerProcess(ChildProcess):
    """`tillbridge bridge --config` in its own process, ready when it says READY=1 over NOTIFY_SOCKET."""

    def __init__(self, config: BridgeConfig, folder: Path) -> None:
        self.config = config
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{config.worker_id}.toml"
        self.path.write_text(config_toml(config))
        self.log = folder / f"{config.worker_id}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        """Starts the worker and waits for READY=1: up to `timeout` (a fresh interpreter took over 20 s to
        get there on a loaded 2-core machine), or until the worker exits, whichever comes first."""
        address = f"@tillbridge-test-{uuid.uuid4().hex}"
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind("\0" + address[1:])
            sock.settimeout(0.5)  # to look whether the worker is still running
            env = {**os.environ, "NOTIFY_SOCKET": address, "PYTHONUNBUFFERED": "1"}
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "tillbridge", "bridge", "--config", str(self.path)],
                    stdout=log,
                    stderr=log,
                    env=env,
                )
            if not self._ready(sock, deadline):
                self.kill()
                raise AssertionError(f"worker {self.config.worker_id} not ready: {self.log_tail()}")
        return self

    def _ready(self, sock: socket.socket, deadline: float) -> bool:
        while self.process is not None and self.process.poll() is None and time.monotonic() < deadline:
            try:
                if b"READY=1" in sock.recv(4096):
                    return True
            except TimeoutError:
                continue
        return False

    def log_tail(self, lines: int = 30) -> str:
        return (
            "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""
        )
