"""One bridge worker: the MQTT link, the thread that applies what boxes send, and a few threads that drive
the shops (`cloud_bridge.shopturns`: earliest due first, a shop by one thread at a time, so one slow shop
never holds up another's due write). Workers keep no state of their own (it is all in the database), so any
number can run side by side on one shared subscription; each box's journal is serialised by its lock, each
shop by its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Final, TypeVar

import peewee as pw

from cloud_bridge import catalog, delivery, fleet, ledger, levels, state
from cloud_bridge import models as m
from cloud_bridge.births import Birth, Presence
from cloud_bridge.config import BridgeConfig, ShopConfig
from cloud_bridge.connectors import ConnectorOptions, ShopConnector, WebhookEvent, make_connector
from cloud_bridge.db import Database
from cloud_bridge.filelock import WorkerLock, sqlite_path
from cloud_bridge.grouped import MAX_GROUP, apply_group
from cloud_bridge.grouped import Item as GroupItem
from cloud_bridge.intake import Inbound, Intake
from cloud_bridge.journal import Applied, apply_batch
from cloud_bridge.mqtt import MqttLink
from cloud_bridge.notify import Notifier
from cloud_bridge.parking import park
from cloud_bridge.retry import RetryPolicy
from cloud_bridge.shopturns import ShopTurns
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
    decode_journal,
    format_ts,
    parse_topic,
    publication,
)
from wire import Kind as WireKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """A listed box's telemetry, recorded after the group it came in."""

    shop: str
    box: str
    telemetry: Telemetry


T = TypeVar("T")

RETRY_LOCK_S: Final = 0.05  # a woken shop whose lock another worker holds is tried again this soon
DB_RETRY_S: Final = 1.0
REPORT_S: Final = 5.0  # how often a worker writes its counters where `bridge status` reads them
MAX_UNKNOWN_BOXES: Final = 10_000  # unlisted boxes remembered (each parked once)
MAX_PAGES: Final = 20  # per orders_since call: the polling overlap window must fit in one call, or it stalls
COMPACT_S: Final = 3600.0  # how often a worker folds a shop's old history into its balances
MOVEMENTS_GAP_S: Final = 0.5  # new movements drive a shop at most this often (never less often than poll_s)
SHOP_THREADS: Final = 4  # shops driven at once: a slow shop holds one thread (and a database connection)


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
        self.db = database or Database(config.database_url.reveal())
        self.intake = Intake()
        self.link = MqttLink(config.broker, f"tillbridge-{config.worker_id}", config.group, self.intake)
        self.stopping = threading.Event()
        self.connectors = dict(connectors) if connectors is not None else _connectors(config, self.stopping)
        self.drivers: dict[str, ShopDriver] = {}
        self.applied = 0  # journal entries applied by this worker, for logs and benchmarks
        self._wake = threading.Condition()
        self._turns = ShopTurns((shop.id for shop in config.shops), time.monotonic())  # under _wake
        self._threads: list[threading.Thread] = []
        self._unknown_boxes: set[tuple[str, str]] = set()
        self._snapshots: dict[str, dict[str, CatalogRequest]] = {}  # shop → box → its catalog request
        self._back: dict[str, set[str]] = {}  # shop → boxes back online, owed every level (under _wake)
        self._reported = 0.0
        self.webhooks: WebhookServer | None = None
        self._file_lock: WorkerLock | None = None
        self._compact_due: dict[str, float] = {}  # shop → monotonic time of its next compaction

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> Worker:
        path = sqlite_path(self.db.url)
        if path is not None:  # one worker per SQLite file: a second would drive every shop again
            self._file_lock = WorkerLock(path, self.config.worker_id).acquire()
        try:
            self.db.open()
        except BaseException:
            self._release_file()
            raise
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
        threads = max(1, min(SHOP_THREADS, len(self.drivers)))
        loops = [("apply", self._apply_loop)] + [(f"shops-{n}", self._shop_loop) for n in range(threads)]
        for name, target in loops:
            thread = threading.Thread(target=target, name=f"bridge-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def ready(self, timeout: float) -> bool:
        """True once the worker is subscribed (so a box's message reaches some worker)."""
        return self.link.subscribed.wait(timeout)

    def stop(self) -> None:
        self.stopping.set()
        self.intake.close()
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
        self._release_file()

    def _release_file(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

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
        """Asks a shop thread to drive `shop` now (a webhook, a box back online, a catalog request)."""
        with self._wake:
            self._turns.wake(shop, time.monotonic())
            self._wake.notify_all()

    def _movements_for(self, shop: str) -> None:
        """New movements of `shop`: drive it now, or `MOVEMENTS_GAP_S` after its last pass started. A
        draining backlog applies a group every few milliseconds; waking the shop at each one kept a shop
        thread busy all drain long, taking the cores and the database from the apply thread.
        """
        gap = min(MOVEMENTS_GAP_S, self.config.timing.poll_s)
        with self._wake:
            self._turns.nudge(shop, time.monotonic(), gap)
            self._wake.notify_all()

    # --- box → cloud -------------------------------------------------------------------------------------

    def _apply_loop(self) -> None:
        while True:
            items = self.intake.get_many(MAX_GROUP)
            if items is None:
                return
            self.handle_all(items)

    def handle_all(self, items: Sequence[Inbound]) -> None:
        """Handles messages in order; the journal batches and births among them are applied in groups, one
        transaction per run (`grouped.py`): under load one commit serves many boxes. Telemetry only
        updates the fleet view, so it is recorded after them, all of it in one transaction: a thousand
        boxes send one a minute each, and each one applied in its turn split a run of batches in two.
        """
        group: list[GroupItem | Birth] = []
        readings: list[Reading] = []
        for item in items:
            one = self._guarded(item, partial(self._groupable, item))
            if isinstance(one, Reading):
                readings.append(one)
                continue
            if one is not None:
                group.append(one)
                continue
            self._apply_group(group)
            group = []
            self._guarded(item, partial(self.handle, item))
        self._apply_group(group)
        self._record_telemetry(readings)

    def _guarded(self, item: Inbound, work: Callable[[], T]) -> T | None:
        try:
            return work()
        except (pw.OperationalError, pw.InterfaceError) as exc:
            log.error("database error while handling %s (the box will resend): %s", item.topic, exc)
            self._reset_db()
        except Exception:  # never let one message stop the worker
            log.exception("failed to handle a message on %s", item.topic)
        return None

    def _groupable(self, item: Inbound) -> GroupItem | Birth | Reading | None:
        """A readable journal batch, `state` or telemetry of a listed box, to apply with others; None:
        `handle` takes it (and says what is wrong with it).
        """
        try:
            topic = parse_topic(item.topic)
            if topic.kind not in (WireKind.JOURNAL, WireKind.STATE, WireKind.TELEMETRY) or not self._listed(
                topic.shop, topic.box
            ):
                return None
            if topic.kind is WireKind.STATE:
                state_msg = decode(topic.kind, item.payload)
                return Birth(topic.shop, topic.box, state_msg) if isinstance(state_msg, State) else None
            if topic.kind is WireKind.TELEMETRY:
                reading = decode(topic.kind, item.payload)
                return Reading(topic.shop, topic.box, reading) if isinstance(reading, Telemetry) else None
            batch = decode_journal(item.payload)
        except WireError:
            return None  # `handle` says why
        return GroupItem(topic.shop, topic.box, batch, item.payload)

    def _apply_group(self, group: Sequence[GroupItem | Birth]) -> None:
        if not group:
            return
        now = self.clock()
        try:
            results = apply_group(self.db, group, now)
        except (pw.OperationalError, pw.InterfaceError) as exc:
            log.error(
                "database error while applying %d journal batches (the boxes resend): %s", len(group), exc
            )
            self._reset_db()
            return
        except Exception:  # one batch the group cannot take: each alone, so only that one fails
            log.exception("a group of %d journal batches failed; applying them one by one", len(group))
            for one in group:
                alone = (
                    partial(self._birth, one, now)
                    if isinstance(one, Birth)
                    else partial(self._journal, one.shop, one.box, one.batch, one.payload, now)
                )
                self._guarded(Inbound(f"{one.shop}/{one.box}", b""), alone)
            return
        acks: dict[tuple[str, str, str], Applied] = {}
        woken: set[str] = set()
        back: dict[str, set[str]] = {}
        returned: set[str] = set()
        for one, applied in zip(group, results, strict=True):
            if isinstance(applied, Presence):
                if applied.back:
                    back.setdefault(one.shop, set()).add(one.box)
                if applied.returned:
                    returned.add(one.shop)
                continue
            self.applied += applied.applied
            if applied.upto is not None:
                acks[(one.shop, one.box, applied.epoch or "")] = applied
            if applied.skus:
                woken.add(one.shop)
        for (shop, box, _), applied in acks.items():
            self._ack(shop, box, applied)
        for shop, boxes in back.items():
            self._levels_for(shop, boxes)
        for shop in returned:
            self.wake(shop)  # the orders waiting for its boxes go out now
        for shop in woken:
            self._movements_for(shop)

    def _record_telemetry(self, readings: Sequence[Reading]) -> None:
        if not readings:
            return
        now = self.clock()
        try:
            with self.db.write():
                for one in readings:
                    fleet.on_telemetry(one.shop, one.box, one.telemetry, now)
        except (pw.OperationalError, pw.InterfaceError) as exc:  # the next minute's telemetry replaces it
            log.error("database error while recording %d telemetry messages: %s", len(readings), exc)
            self._reset_db()

    def _birth(self, birth: Birth, now: float) -> None:
        """A birth or Will alone (in a group of its own)."""
        (presence,) = apply_group(self.db, [birth], now)
        assert isinstance(presence, Presence)
        if presence.back:
            self._levels_for(birth.shop, {birth.box})
        if presence.returned:
            self.wake(birth.shop)  # the orders waiting for it go out now

    def _ack(self, shop: str, box: str, applied: Applied) -> None:
        assert applied.upto is not None
        ack = publication(shop, box, Ack(applied.upto, applied.epoch))
        self.link.publish(ack.topic, ack.payload, ack.qos)

    def handle(self, item: Inbound) -> None:
        try:
            topic = parse_topic(item.topic)
        except WireError as exc:
            log.warning("dropped a message on %s: %s", item.topic[:200], exc)
            return
        now = self.clock()
        try:
            msg = (
                decode_journal(item.payload)
                if topic.kind is WireKind.JOURNAL
                else decode(topic.kind, item.payload)
            )
        except WireError as exc:
            log.warning("dropped a message on %s: %s", item.topic[:200], exc)
            if topic.kind is WireKind.JOURNAL:
                self._unreadable_batch(topic.shop, topic.box, exc, now)
            return
        if isinstance(msg, JournalBatch):
            self._journal(topic.shop, topic.box, msg, item.payload, now)
        elif isinstance(msg, (State, Telemetry)) and not self._listed(topic.shop, topic.box):
            self.intake.count(f"{topic.kind.value} from a box not in the config")
        elif isinstance(msg, State):
            self._birth(Birth(topic.shop, topic.box, msg), now)
        elif isinstance(msg, Telemetry):
            with self.db.write():
                fleet.on_telemetry(topic.shop, topic.box, msg, now)
        elif isinstance(msg, CatalogRequest):
            self._catalog_request(topic.shop, topic.box, msg, now)
        elif isinstance(msg, OrderAck):
            self._order_ack(topic.shop, topic.box, msg, now)

    def _listed(self, shop: str, box: str) -> bool:
        """Only the boxes the config lists for a shop are in its fleet view: no box can add to another's."""
        config = self.config.shop(shop)
        return config is not None and box in config.boxes

    def _journal(self, shop: str, box: str, batch: JournalBatch, payload: bytes, now: float) -> None:
        config = self.config.shop(shop)
        if config is None or box not in config.boxes:
            self._refuse_box(shop, box, now)
            return
        applied = apply_batch(self.db, shop, box, batch, payload, now)
        self.applied += applied.applied
        if applied.upto is not None:
            self._ack(shop, box, applied)
        if applied.skus:
            self._movements_for(shop)

    def _order_ack(self, shop: str, box: str, ack: OrderAck, now: float) -> None:
        config = self.config.shop(shop)
        if config is None or box not in config.boxes:
            log.warning(
                "order ack from box %r of shop %r, which the config does not list: ignored", box, shop
            )
            return
        with self.db.write():
            delivery.on_ack(config, box, ack, now)

    def _unreadable_batch(self, shop: str, box: str, exc: WireError, now: float) -> None:
        """A batch that cannot be read at all is not acknowledged (the box keeps it); parked, so a box whose
        journal is stuck behind it shows in `bridge status` with the field that is wrong.
        """
        config = self.config.shop(shop)
        if config is None or box not in config.boxes:
            return
        with self.db.write():
            park(shop, f"batch/{box}", "journal", f"a journal batch was refused: {exc}", now, box=box)

    def _refuse_box(self, shop: str, box: str, now: float) -> None:
        """A box that is not listed for the shop in its topic gets no ack: its journal waits, untouched."""
        if (shop, box) in self._unknown_boxes:
            return
        if len(self._unknown_boxes) < MAX_UNKNOWN_BOXES:
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
        with self._wake:  # built on a shop thread: a snapshot is big, and journals must not wait for it
            self._snapshots.setdefault(shop, {})[box] = request
            self._turns.wake(shop, time.monotonic())
            self._wake.notify_all()

    def _levels_for(self, shop: str, boxes: set[str]) -> None:
        """Boxes back online get every level, pushed from a shop thread: a push reads every sku of the
        shop, and after a broker restart every box comes back at once; on the apply thread those pushes
        held up the journals (and so the acks) of the whole fleet.
        """
        with self._wake:
            self._back.setdefault(shop, set()).update(boxes)
            self._turns.wake(shop, time.monotonic())
            self._wake.notify_all()

    def _send_levels_to_returned(self, shop: str) -> None:
        """One push of every level for all the shop's boxes back since the last pass, however many: a
        fleet coming online at once made a thousand pushes, each reading every sku of the shop.
        """
        with self._wake:
            boxes = self._back.pop(shop, set())
        if not boxes:
            return
        try:
            self._send_all_levels(shop, sorted(boxes), self.clock())
        except (pw.OperationalError, pw.InterfaceError) as exc:  # tried again at the next pass
            log.error("database error while sending every level to %d boxes of %s: %s", len(boxes), shop, exc)
            self._reset_db()
            with self._wake:
                self._back.setdefault(shop, set()).update(boxes)

    def _send_snapshots(self, shop: str) -> None:
        """One snapshot of the shop for every box that asked since the last time, however many asked."""
        with self._wake:
            boxes = self._snapshots.pop(shop, {})
        if not boxes:
            return
        now = self.clock()
        try:
            if not state.initialised(shop):
                log.info("shop %s is not initialised yet: its boxes get the catalog once it is", shop)
                return
            with self.db.write():
                catalog.answer_requests(shop, boxes, now)
            self._send_all_levels(shop, sorted(boxes), now)
        except (pw.OperationalError, pw.InterfaceError) as exc:  # the boxes ask again
            log.error("database error while making shop %s's catalog snapshot: %s", shop, exc)
            self._reset_db()

    def _send_all_levels(self, shop: str, boxes: Sequence[str], now: float) -> None:
        """Boxes back online (or asking for the catalog) get every level, whatever they missed."""
        config = self.config.shop(shop)
        listed = [box for box in boxes if config is not None and box in config.boxes]
        if not listed:
            return
        levels.push_all(self.db, shop, listed, now)
        self.wake(shop)

    def _on_webhook(self, shop: str, event: WebhookEvent) -> None:
        """A verified webhook seen for the first time makes the shop's feed due now (any worker polls it)."""
        feed = state.Timer.PRODUCTS if event.resource == "product" else state.Timer.ORDERS
        with self.db.write():
            seen = m.WebhookSeen.get_or_none(
                m.WebhookSeen.shop == shop, m.WebhookSeen.event_id == event.event_id
            )
            if seen is not None:
                return
            m.WebhookSeen.insert(
                shop=shop, event_id=event.event_id, at=self.clock()
            ).on_conflict_ignore().execute()
            state.make_due(shop, feed)
        self.wake(shop)

    # --- the shops ---------------------------------------------------------------------------------------

    def _shop_loop(self) -> None:
        """One shop thread: drives the shop due earliest that no other thread drives, then the next."""
        try:
            while not self.stopping.is_set():
                self._report()
                with self._wake:
                    shop_id = self._turns.take(time.monotonic())
                    if shop_id is None:
                        self._wake.wait(self._turns.wait_s(time.monotonic(), self.config.timing.poll_s))
                        continue
                next_at = time.monotonic() + self.config.timing.poll_s
                try:
                    next_at = self._turn(shop_id)
                finally:
                    with self._wake:
                        self._turns.done(shop_id, next_at)
                        self._wake.notify_all()  # a wake that came during the pass may be due now
        finally:
            self._reset_db()  # this thread's connection

    def _turn(self, shop_id: str) -> float:
        """A pass over the shop (its due write first), then what its boxes asked for; returns when the shop
        is due again (monotonic): the next poll, or sooner when its coalescing window closes before that.
        """
        mine = self._drive(shop_id)
        self._send_levels_to_returned(shop_id)
        self._send_snapshots(shop_id)
        now = time.monotonic()
        if not mine:
            return now + RETRY_LOCK_S
        due = now + self.config.timing.poll_s
        look = self.drivers[shop_id].next_look
        return due if look is None else min(due, now + max(0.0, look - self.clock()))

    def _drive(self, shop_id: str) -> bool:
        """One pass over a shop if this worker gets its lock; False if another worker is driving it."""
        try:
            with self.db.shop_lock(shop_id) as mine:
                if mine:
                    self.drivers[shop_id].run_pass()
                    self._compact(shop_id)
                return bool(mine)
        except (pw.OperationalError, pw.InterfaceError) as exc:
            log.error("database error while driving shop %s: %s", shop_id, exc)
            self._reset_db()
            self.stopping.wait(DB_RETRY_S)
            return True
        except Exception:
            log.exception("shop %s: pass failed", shop_id)
            return True

    def _compact(self, shop_id: str) -> None:
        """Folds a chunk of the shop's settled history past `history_days` into its balances (under the shop's
        lock, which `_drive` holds); due again at once while chunks come back full.
        """
        if time.monotonic() < self._compact_due.get(shop_id, 0.0):
            return
        kept_s = self.config.timing.history_days * 86400
        cutoff = format_ts(datetime.fromtimestamp(self.clock() - kept_s, UTC))
        with self.db.write():
            folded = ledger.compact(shop_id, cutoff)
        if folded:
            log.info("shop %s: %d movements before %s folded into the balances", shop_id, folded, cutoff)
        full = folded >= ledger.COMPACT_ROWS
        self._compact_due[shop_id] = time.monotonic() + (0.0 if full else COMPACT_S)

    # --- helpers -------------------------------------------------------------------------------------------

    def _pickup_secret(self) -> bytes:
        """The key pickup codes are made with: from the config, else one random key kept in the database."""
        if self.config.pickup_secret is not None:
            return self.config.pickup_secret.reveal().encode()
        with self.db.write():
            return state.once(state.Key.PICKUP_SECRET, secrets.token_hex(32)).encode()

    def _report(self) -> None:
        """Every REPORT_S, this worker's queue and drop counters go where `bridge status` reads them."""
        with self._wake:  # one report per REPORT_S, whichever shop thread comes first
            if time.monotonic() - self._reported < REPORT_S:
                return
            self._reported = time.monotonic()
        report = self.intake.report()
        report["at"] = self.clock()
        report["webhooks_refused"] = self.webhooks.refused if self.webhooks is not None else None
        if self.link.queue_full:
            report["dropped"]["outgoing queue full"] = self.link.queue_full
        try:
            with self.db.write():
                state.set_worker_report(self.config.worker_id, json.dumps(report, sort_keys=True))
        except (pw.OperationalError, pw.InterfaceError) as exc:
            log.error("database error while writing the worker's counters: %s", exc)
            self._reset_db()

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
