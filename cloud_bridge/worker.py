"""One bridge worker: the MQTT link, the thread that applies what boxes send, and the thread that drives
the shops. Workers keep no state of their own (it is all in the database), so any number can run side by
side on one shared subscription; each box's journal is serialised by its lock, each shop by its own.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final

import peewee as pw

from cloud_bridge import catalog, delivery, fleet, levels
from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig, ShopConfig
from cloud_bridge.connectors import ConnectorOptions, ShopConnector, WebhookEvent, make_connector
from cloud_bridge.db import Database
from cloud_bridge.journal import apply_batch
from cloud_bridge.mqtt import Inbound, MqttLink
from cloud_bridge.notify import Notifier
from cloud_bridge.parking import park
from cloud_bridge.retry import RetryPolicy
from cloud_bridge.state import set_value
from cloud_bridge.sync import ShopDriver
from cloud_bridge.webhooks import WebhookServer
from wire import (
    Ack,
    CatalogRequest,
    JournalBatch,
    OrderAck,
    State,
    Telemetry,
    WireError,
    decode,
    parse_topic,
    publication,
)

log = logging.getLogger(__name__)

RETRY_LOCK_S: Final = 0.05  # a woken shop whose lock another worker holds is tried again this soon
DB_RETRY_S: Final = 1.0
MAX_PAGES: Final = 20  # per orders_since call: the polling overlap window must fit in one call, or it stalls


class Worker:
    def __init__(
        self,
        config: BridgeConfig,
        *,
        connectors: Mapping[str, ShopConnector] | None = None,
        database: Database | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.db = database or Database(config.database_url)
        self.inbox: queue.Queue[Inbound | None] = queue.Queue()
        self.link = MqttLink(config.broker, f"tillbridge-{config.worker_id}", config.group, self.inbox)
        self.stopping = threading.Event()
        self.connectors = dict(connectors) if connectors is not None else _connectors(config, self.stopping)
        self.drivers: dict[str, ShopDriver] = {}
        self.applied = 0  # journal entries applied by this worker, for logs and benchmarks
        self._wake = threading.Condition()
        self._woken: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._unknown_boxes: set[tuple[str, str]] = set()
        self.webhooks: WebhookServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> Worker:
        self.db.open()
        secret = self._pickup_secret()
        for shop in self.config.shops:
            self.drivers[shop.id] = ShopDriver(
                self.db,
                shop,
                self.connectors[shop.id],
                self.link,
                self.config.timing,
                secret,
                clock=self.clock,
            )
        self.link.start()
        if self.config.webhook_listen:
            hooks = _connectors(self.config, self.stopping)  # their own: a connector serves one thread
            self.webhooks = WebhookServer(self.config.webhook_listen, hooks, self._on_webhook).start()
        for name, target in (("apply", self._apply_loop), ("shops", self._shop_loop)):
            thread = threading.Thread(target=target, name=f"bridge-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def ready(self, timeout: float) -> bool:
        """True once the worker is subscribed (so a box's message reaches some worker)."""
        return self.link.subscribed.wait(timeout)

    def stop(self) -> None:
        self.stopping.set()
        self.inbox.put(None)
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)
        self.link.stop()
        if self.webhooks is not None:
            self.webhooks.stop()
        for connector in self.connectors.values():
            connector.close()
        self.db.close()

    def run(self, stop: threading.Event) -> int:
        """Runs until `stop` is set (the CLI sets it on SIGTERM); tells systemd when it is ready."""
        notifier = Notifier()
        self.start()
        try:
            while not stop.is_set() and not self.ready(0.5):
                pass
            notifier.ready(f"worker {self.config.worker_id}: {len(self.config.shops)} shops")
            log.info("bridge worker %s ready", self.config.worker_id)
            stop.wait()
            notifier.stopping()
        finally:
            self.stop()
        return 0

    def wake(self, shop: str) -> None:
        """Asks the shop thread to drive `shop` now (new movements, a webhook, a catalog request)."""
        with self._wake:
            self._woken.add(shop)
            self._wake.notify_all()

    # --- box → cloud -------------------------------------------------------------------------------------

    def _apply_loop(self) -> None:
        while True:
            item = self.inbox.get()
            if item is None:
                return
            try:
                self.handle(item)
            except (pw.OperationalError, pw.InterfaceError) as exc:
                log.error("database error while handling %s (the box will resend): %s", item.topic, exc)
                self._reset_db()
            except Exception:  # never let one message stop the worker
                log.exception("failed to handle a message on %s", item.topic)

    def handle(self, item: Inbound) -> None:
        try:
            topic = parse_topic(item.topic)
            msg = decode(topic.kind, item.payload)
        except WireError as exc:
            log.warning("dropped a message on %s: %s", item.topic[:200], exc)
            return
        now = self.clock()
        if isinstance(msg, JournalBatch):
            self._journal(topic.shop, topic.box, msg, item.payload, now)
        elif isinstance(msg, State):
            with self.db.write():
                back = fleet.on_state(topic.shop, topic.box, msg, now)
                returned = delivery.sync_presence(topic.shop, topic.box, now)
            if back:
                self._send_all_levels(topic.shop, topic.box, now)
            if returned:
                self.wake(topic.shop)  # the orders waiting for it go out now
        elif isinstance(msg, Telemetry):
            with self.db.write():
                fleet.on_telemetry(topic.shop, topic.box, msg, now)
        elif isinstance(msg, CatalogRequest):
            self._catalog_request(topic.shop, topic.box, msg, now)
        elif isinstance(msg, OrderAck):
            self._order_ack(topic.shop, topic.box, msg, now)

    def _journal(self, shop: str, box: str, batch: JournalBatch, payload: bytes, now: float) -> None:
        config = self.config.shop(shop)
        if config is None or box not in config.boxes:
            self._refuse_box(shop, box, now)
            return
        applied = apply_batch(self.db, shop, box, batch, payload, now)
        self.applied += applied.applied
        if applied.upto is not None:
            ack = publication(shop, box, Ack(applied.upto))
            self.link.publish(ack.topic, ack.payload, ack.qos)
        if applied.skus:
            self.wake(shop)

    def _order_ack(self, shop: str, box: str, ack: OrderAck, now: float) -> None:
        config = self.config.shop(shop)
        if config is None or box not in config.boxes:
            log.warning(
                "order ack from box %r of shop %r, which the config does not list: ignored", box, shop
            )
            return
        with self.db.write():
            delivery.on_ack(config, box, ack, now)

    def _refuse_box(self, shop: str, box: str, now: float) -> None:
        """A box that is not listed for the shop in its topic gets no ack: its journal waits, untouched."""
        if (shop, box) in self._unknown_boxes:
            return
        self._unknown_boxes.add((shop, box))
        log.error("journal from box %r of shop %r, which the config does not list: not applied", box, shop)
        with self.db.write():
            park(shop, f"box/{box}", "box", "sends a journal but is not listed for this shop", now, box=box)

    def _catalog_request(self, shop: str, box: str, request: CatalogRequest, now: float) -> None:
        config = self.config.shop(shop)
        if config is None or box not in config.boxes:
            return
        log.info(
            "box %s/%s asks for the catalog (%s, has %s)", shop, box, request.reason, request.have_version
        )
        with self.db.write():
            for chunk in catalog.snapshot(shop):
                catalog.queue_for_boxes(shop, [box], chunk, now)
        self._send_all_levels(shop, box, now)

    def _send_all_levels(self, shop: str, box: str, now: float) -> None:
        """A box back online (or asking for the catalog) gets every level, whatever it missed."""
        config = self.config.shop(shop)
        if config is None or box not in config.boxes:
            return
        levels.push_all(self.db, shop, box, now)
        self.wake(shop)

    def _on_webhook(self, shop: str, event: WebhookEvent) -> None:
        """A verified webhook seen for the first time makes the shop's feed due now (any worker polls it)."""
        feed = "products_due" if event.resource == "product" else "orders_due"
        with self.db.write():
            seen = m.WebhookSeen.get_or_none(
                m.WebhookSeen.shop == shop, m.WebhookSeen.event_id == event.event_id
            )
            if seen is not None:
                return
            m.WebhookSeen.insert(
                shop=shop, event_id=event.event_id, at=self.clock()
            ).on_conflict_ignore().execute()
            set_value(shop, feed, "0")
        self.wake(shop)

    # --- the shops ---------------------------------------------------------------------------------------

    def _shop_loop(self) -> None:
        due = dict.fromkeys(self.drivers, 0.0)
        while not self.stopping.is_set():
            with self._wake:
                woken, self._woken = self._woken, set()
            for shop_id in self.drivers:
                if shop_id in woken or time.monotonic() >= due[shop_id]:
                    mine = self._drive(shop_id)
                    due[shop_id] = time.monotonic() + (self.config.timing.poll_s if mine else RETRY_LOCK_S)
            wait = max(0.0, min(due.values(), default=time.monotonic() + 1) - time.monotonic())
            with self._wake:
                if not self._woken and not self.stopping.is_set():
                    self._wake.wait(min(wait, self.config.timing.poll_s))

    def _drive(self, shop_id: str) -> bool:
        """One pass over a shop if this worker gets its lock; False if another worker is driving it."""
        try:
            with self.db.shop_lock(shop_id) as mine:
                if mine:
                    self.drivers[shop_id].run_pass()
                return bool(mine)
        except (pw.OperationalError, pw.InterfaceError) as exc:
            log.error("database error while driving shop %s: %s", shop_id, exc)
            self._reset_db()
            self.stopping.wait(DB_RETRY_S)
            return True
        except Exception:
            log.exception("shop %s: pass failed", shop_id)
            return True

    # --- helpers -------------------------------------------------------------------------------------------

    def _pickup_secret(self) -> bytes:
        """The key pickup codes are made with: from the config, else one random key kept in the database."""
        if self.config.pickup_secret:
            return self.config.pickup_secret.encode()
        with self.db.write():
            m.ShopState.insert(
                shop="", name="pickup_secret", value=secrets.token_hex(32)
            ).on_conflict_ignore().execute()
            row = m.ShopState.get(m.ShopState.shop == "", m.ShopState.name == "pickup_secret")
        return str(row.value).encode()

    def _reset_db(self) -> None:
        with contextlib.suppress(pw.PeeweeException):
            self.db.close()


class _StoppableClock:
    """Real time whose waits (retry backoff, Shopify's cost bucket) end at once when the worker stops, so a
    stop never waits out a long pause; the pass then fails fast and leaves its work for the next worker.
    """

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.stopping.wait(seconds)


def _connectors(config: BridgeConfig, stopping: threading.Event) -> dict[str, ShopConnector]:
    timing = config.timing
    options = ConnectorOptions(
        clock=_StoppableClock(stopping),
        timeout=timing.shop_timeout_s,
        retry=RetryPolicy(
            attempts=timing.retry_attempts, base_delay=timing.retry_base_s, max_delay=timing.retry_max_s
        ),
        max_pages=MAX_PAGES,
    )
    return {shop.id: _connector(shop, options) for shop in config.shops}


def _connector(shop: ShopConfig, options: ConnectorOptions) -> ShopConnector:
    return make_connector(shop.id, shop.platform, shop.connector_settings(), options)


__all__ = ["Worker"]
