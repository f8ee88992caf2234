"""The `Link` service: the box's MQTT link, beside the core loop, in a thread of its own.

paho's thread and a core-loop listener only enqueue events (`events.py`); the link's thread takes them one at
a time and alone decides: it drains the journal (`drain.py`), applies the catalog (`catalog.py`), stores
orders, runs commands (`commands.py`), reports health. What it writes into the box's state is a `core.call`,
which runs on the core loop inside its transaction and returns after the commit, so an inbound message is
acknowledged to the broker (manual PUBACK) only once what it brought is on disk. The journal outbox is the
exception, and the link's own business: it reads the entries to send and deletes the acknowledged ones on a
connection of its own (`store/outbox.py`), so a scan never waits behind the drain on the core loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from devices.readings import DeviceState, DeviceStatus
from firmware_agent import labels
from firmware_agent.config import AgentConfig
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.errors import AgentError, ConfigError
from firmware_agent.events import Call, Stop
from firmware_agent.link import catalog as cat
from firmware_agent.link import configset
from firmware_agent.link.audit import AuditLog
from firmware_agent.link.client import MqttClient, Will
from firmware_agent.link.commands import CommandRunner, Request
from firmware_agent.link.drain import Drain
from firmware_agent.link.events import (
    Connected,
    ConnectFailed,
    Disconnected,
    JournalGrew,
    Received,
    StopLink,
    Subscribed,
)
from firmware_agent.link.health import birth, telemetry
from firmware_agent.link.logring import RingLog
from firmware_agent.link.remote import RemoteBox
from firmware_agent.link.settings import link_settings
from firmware_agent.link.ticket import order_ticket, page_of
from firmware_agent.store import Store, catalog_stage, levels
from firmware_agent.store.catalog_stage import Staged
from firmware_agent.store.orders import store_order, store_pickup_key
from firmware_agent.store.outbox import Outbox, Pruned
from firmware_agent.updates.health import note_link_up
from firmware_agent.updates.layout import DEFAULT_ROOT, Layout
from wire import (
    JSON,
    BadTopic,
    CatalogDelta,
    CatalogRequest,
    CatalogSnapshotChunk,
    CommandReply,
    JournalEntry,
    Kind,
    Levels,
    Message,
    Order,
    OrderAck,
    PickupKey,
    State,
    WireError,
    box_subscriptions,
    build_topic,
    decode,
    encode,
    parse_topic,
)
from wire import Ack as AckMessage

log = logging.getLogger(__name__)

AUDIT_NAME: Final = "audit.jsonl"
BOOT_KEY: Final = "boot_counter"
CALL_TIMEOUT_S: Final = 30.0
CATALOG_TIMEOUT_S: Final = 300.0  # a 50,000-product snapshot on an SD card
RETRY_EVERY_S: Final = 5.0
MAX_ATTEMPTS: Final = 12  # a minute of retries for a store that is busy or full
MAX_RETRYING: Final = 10  # messages held unacknowledged at once: half the broker's in-flight window
MAX_OUTBOX: Final = 100
T = TypeVar("T")
LINK_DEVICE: Final = "mqtt"  # how the link shows in device status, the demo and telemetry


class LinkStopped(AgentError):
    """The link is stopping: a core call it was waiting for is abandoned."""


@dataclass
class _Trial:
    """A config change waiting to see the broker; `request` is None for one found on disk at start."""

    deadline: float
    after_generation: int
    changed: list[str]
    request: Request | None = None
    response_topic: str | None = None
    correlation: bytes | None = None


class Link:
    """A `Service` (see `firmware_agent.agent`): `start(core)` before the loop runs, `stop()` after it."""

    catalog_missing_after_s = 10.0
    """How long a half-staged catalog snapshot waits for its next chunk before the box asks for the rest."""

    def __init__(
        self,
        config: AgentConfig,
        config_path: Path | None = None,
        *,
        on_restart: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = link_settings(config)
        if settings is None:
            raise ConfigError("the config has no [mqtt] table", key="mqtt")
        self.config, self.config_path, self.settings = config, config_path, settings
        self.clock = clock
        self.page = page_of(config)
        self.ring = RingLog()
        self.audit = AuditLog(settings.data_dir / AUDIT_NAME)
        self.remote = RemoteBox(self)
        self.runner = self._runner()
        self.epoch: str | None = None  # the store's, once loaded
        self.drain = Drain()
        self.journal: Outbox | None = None  # the link thread's own connection to the journal, once loaded
        self.catalog = cat.CatalogSync(None)
        self.boot = 0
        self.started_at = clock()
        self.core: CoreLoop | None = None
        self.client: MqttClient | None = None
        self.on_restart = on_restart
        self.on_order: Callable[[], None] | None = None  # a new order's ticket is queued (wake the printer)
        self.ready = threading.Event()  # set once the link has loaded its state and started connecting
        self.online = threading.Event()  # set while connected with the box's subscriptions confirmed
        self._events: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._outbox: list[tuple[str, bytes, int, bool, bytes | None]] = []
        self._retry: list[Received] = []
        self._attempts: dict[tuple[int, int], int] = {}  # (generation, mid) -> times handled and failed
        self._retry_at = 0.0
        self._next_telemetry = 0.0
        self._seen_seq = 0
        self._trial: _Trial | None = None
        self.restart_pending = False
        self.restart_requested = False  # the agent may exit non-zero on it, so systemd restarts the box
        self._in_hand: Received | None = None
        self._failures = 0
        self.update_root = DEFAULT_ROOT  # root's releases, where the `update` command's outcome is read

    def update_layout(self) -> Layout:
        """The updater's layout, with this agent's data folder for the queued request and the guards."""
        return Layout(self.update_root, self.settings.data_dir)

    # ---- the Service protocol ------------------------------------------------------------------------

    def start(self, core: CoreLoop) -> None:
        """Returns at once: the link's thread loads its state through the core loop once that runs."""
        self.core = core
        logging.getLogger().addHandler(self.ring)
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._events.put(StopLink())
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self.client is not None:
            offline = State.offline(self.boot)
            self.client.stop([(self._topic(Kind.STATE), encode(offline), 1, True)])
        if self.core is not None and self._on_applied in self.core.listeners:
            self.core.listeners.remove(self._on_applied)
        logging.getLogger().removeHandler(self.ring)

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    @property
    def on_trial(self) -> bool:
        return self._trial is not None

    # ---- the link's thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._load()
        except LinkStopped:
            return
        except Exception:
            log.exception("the MQTT link could not load its state: the box stays offline")
            return
        tick = min(1.0, self.settings.ack_timeout_s / 4, self.settings.telemetry_s / 4)
        next_tick = self.clock()
        while True:
            try:
                event = self._events.get(timeout=max(0.0, next_tick - self.clock()))
            except queue.Empty:
                event = None
            if isinstance(event, StopLink):
                self._guard(self._close_outbox)
                return
            if event is not None:
                self._guard(self._handle, event)
            if self.clock() >= next_tick:
                self._guard(self._tick, self.clock())
                next_tick = self.clock() + tick
            self._guard(self._pump)

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except LinkStopped:
            pass
        except Exception:
            log.exception("the MQTT link failed handling %r (it carries on)", args[:1])

    def _load(self) -> None:
        core = self.core_loop()

        def load(store: Store) -> tuple[int, int, int, int | None, str, Path, Staged | None]:
            boot = int(store.setting(BOOT_KEY) or 0) + 1
            store.set_setting(BOOT_KEY, str(boot))
            first = store.journal_after(0, 1)
            core.listeners.append(self._on_applied)  # here, on the loop's thread, so no commit is missed
            self._seen_seq = store.last_seq
            return (
                boot,
                (first[0].seq - 1 if first else store.last_seq),
                store.last_seq,
                cat.stored_version(store),
                store.epoch,
                store.path,
                catalog_stage.staged(store),
            )

        self.boot, acked, last_seq, version, self.epoch, path, staged = self.call(load)
        self.drain = self._new_drain(acked, last_seq)
        self.journal = Outbox(path, self.epoch, acked)
        self.catalog = cat.CatalogSync(version, staged, missing_after_s=self.catalog_missing_after_s)
        if staged is not None:
            log.info(
                "catalog snapshot %d half staged (%d of %d chunks): the rest is asked for if it stays away",
                staged.version,
                len(staged.have),
                staged.chunks,
            )
        if configset.on_trial(self.config_path):
            log.warning(
                "config %s is on trial (a change was interrupted): reverting unless it connects",
                self.config_path,
            )
            self._trial = _Trial(self.clock() + self.settings.config_revert_s, 0, [])
        self._start_client()
        log.info(
            "MQTT link: boot %d, store epoch %s, journal backlog %d (acked up to %d), catalog %s",
            self.boot,
            self.epoch,
            last_seq - acked,
            acked,
            version,
        )
        self.ready.set()

    def _new_drain(self, acked: int, last_seq: int) -> Drain:
        s = self.settings
        return Drain(
            acked=acked,
            last_seq=last_seq,
            max_entries=s.batch_entries,
            max_bytes=s.batch_bytes,
            window=s.inflight_batches,
            ack_timeout_s=s.ack_timeout_s,
            epoch=self.epoch,
        )

    def _start_client(self) -> None:
        will = Will(self._topic(Kind.STATE), encode(State.offline(self.boot)))
        self.client = MqttClient(dataclasses.replace(self.settings.client, will=will), self._events.put)
        self.client.start()

    # ---- events --------------------------------------------------------------------------------------

    def _handle(self, event: object) -> None:
        match event:
            case Connected():
                self._on_connected(event)
            case Subscribed():
                if event.generation == self.client_generation():
                    self.online.set()
                    where = f"{self.settings.client.host}:{self.settings.client.port}"
                    self.core_loop().post(DeviceStatus(LINK_DEVICE, DeviceState.OK, f"online, {where}"))
            case Disconnected():
                self.online.clear()
                self.core_loop().post(
                    DeviceStatus(LINK_DEVICE, DeviceState.ERROR, f"offline: {event.reason}")
                )
                self.drain.disconnected()
                log.warning("MQTT link lost (%s); the journal waits in the store", event.reason)
            case ConnectFailed():
                self._failures += 1
                level = (
                    logging.WARNING
                    if self._failures in (1, 10, 100) or self._failures % 1000 == 0
                    else logging.DEBUG
                )
                log.log(level, "MQTT link: %s (attempt %d)", event.reason, self._failures)
            case Received():
                self._on_message(event)
            case JournalGrew():
                self.drain.journal_grew(event.last_seq)

    def _on_connected(self, event: Connected) -> None:
        now = self.clock()
        self._failures = 0
        client = self._client()
        client.subscribe(box_subscriptions(self.settings.shop, self.settings.box))
        s = self.settings
        # the birth goes first, before any journal batch: it names the store the batches belong to
        state = birth(s.version, self.boot, s.config_hash, self.epoch)
        self._publish(self._topic(Kind.STATE), encode(state), 1, True)
        self.drain.connected(now)
        if request := self.catalog.on_connected(now):
            self.request_catalog(request)
        outbox, self._outbox = self._outbox, []
        for topic, payload, qos, retain, correlation in outbox:
            client.publish(topic, payload, qos, retain, correlation=correlation)
        if self._trial is not None and event.generation > self._trial.after_generation:
            self._confirm_trial()
        self._next_telemetry = now
        self._note_up()
        session = "resumed" if event.session_present else "new"
        log.info("MQTT link up (%s session); %d journal entries to send", session, self.drain.backlog)

    def _note_up(self) -> None:
        """The updater's health gate waits for this marker before it commits a new release."""
        try:
            note_link_up(self.settings.data_dir)
        except OSError as exc:
            log.warning("cannot write the link-up marker in %s: %s", self.settings.data_dir, exc)

    def _on_applied(self, applied: Applied) -> None:
        """A core listener, so on the loop's thread: reads the store's counter and enqueues, nothing more."""
        seq = self.core_loop().store.last_seq
        if seq > self._seen_seq:
            self._seen_seq = seq
            self._events.put(JournalGrew(seq))

    # ---- inbound -------------------------------------------------------------------------------------

    def _on_message(self, msg: Received) -> None:
        handlers = {
            Kind.ACK: self._on_ack,
            Kind.CATALOG: self._on_catalog,
            Kind.ORDERS: self._on_order,
            Kind.CMD: self._on_command,
            Kind.LEVELS: self._on_levels,
        }
        try:
            topic = parse_topic(msg.topic)
            handler = (
                handlers.get(topic.kind)
                if (topic.shop, topic.box) == (self.settings.shop, self.settings.box)
                else None
            )
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
        self._client().ack(msg)
        if self.restart_pending:
            self._restart()

    def _try_again(self, msg: Received, exc: Exception) -> bool:
        """Whether `msg` stays unacknowledged to be handled again (a store that was busy or full may recover).

        A message that keeps failing is acknowledged after `MAX_ATTEMPTS`, with its reason logged: each
        unacknowledged message holds one of the broker's in-flight slots (20 in mosquitto), and once they
        are all held the broker sends this box no QoS 1 message at all, commands included.
        """
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

    def _decode(self, kind: Kind, msg: Received) -> Message | None:
        """The message, or None after a log line: malformed or oversized input never goes further."""
        try:
            return decode(kind, msg.payload)
        except WireError as exc:
            log.warning("dropped a bad message on %s (%d bytes): %s", msg.topic, len(msg.payload), exc)
            return None

    def _on_ack(self, msg: Received) -> None:
        ack = self._decode(Kind.ACK, msg)
        if not isinstance(ack, AckMessage):
            return
        upto = self.drain.on_ack(ack.upto, self.clock(), ack.epoch)
        if upto is not None:
            self._pruned(self._journal().on_ack(upto, self.clock()))

    def _pruned(self, pruned: Pruned | None) -> None:
        """The outbox deleted acknowledged entries: the core loop's journal bound hears of it (no wait)."""
        if pruned is None:
            return
        freed = pruned.freed_bytes
        self.core_loop().post(Call(lambda store: store.note_pruned(freed)))
        log.debug("cloud acked up to seq %d: %d entries deleted", pruned.upto, pruned.entries)

    def _close_outbox(self) -> None:
        """Leaving: what the cloud acknowledged goes now, so the next start does not send it again."""
        if self.journal is not None:
            try:
                self._pruned(self.journal.prune())
            finally:
                self.journal.close()

    def _on_catalog(self, msg: Received) -> None:
        message = self._decode(Kind.CATALOG, msg)
        if isinstance(message, CatalogSnapshotChunk):
            decision: cat.Decision | None = self.catalog.on_snapshot(message, self.clock())
        elif isinstance(message, CatalogDelta):
            decision = self.catalog.on_delta(message, self.clock())
        else:
            return
        if isinstance(decision, cat.RequestResync):
            self.request_catalog(decision)
        elif isinstance(decision, cat.StageChunk):
            self._stage_chunk(decision)
        elif decision is not None:
            self._apply_delta(decision)

    def _stage_chunk(self, decision: cat.StageChunk) -> None:
        """Stages one chunk (and switches a complete snapshot in); a failure leaves the message unacked, so
        the broker delivers it again (`_try_again`)."""
        started = time.perf_counter()
        chunk = decision.chunk
        timeout = CATALOG_TIMEOUT_S if decision.completes else CALL_TIMEOUT_S
        count = self.call(lambda s: cat.stage_chunk(s, decision), timeout)
        self.catalog.staged(decision)
        if count is None:
            log.debug(
                "catalog snapshot %d: chunk %d of %d staged", chunk.version, chunk.chunk + 1, chunk.chunks
            )
            return
        log.info(
            "catalog version %d live: %d products (the last chunk and the switch took %.2f s)",
            chunk.version,
            count,
            time.perf_counter() - started,
        )

    def _apply_delta(self, decision: cat.ApplyDelta) -> None:
        started = time.perf_counter()
        version, count = (
            decision.delta.version,
            len(decision.delta.upserts) + len(decision.delta.deletes),
        )
        try:
            self.call(lambda s: cat.apply_delta(s, decision.delta), CATALOG_TIMEOUT_S)
        except (AgentError, TimeoutError) as exc:
            log.error("catalog could not be applied (%s): asking for a snapshot", exc)
            self.catalog.resync_wanted = True
            self.request_catalog(cat.RequestResync(self.catalog.version, "gap"))
            return
        self.catalog.applied(version)
        log.info(
            "catalog version %d live: %d products in %.2f s", version, count, time.perf_counter() - started
        )

    def _on_levels(self, msg: Received) -> None:
        """The cloud's stock truth: kept beside the box's own newer movements (store/levels.py)."""
        message = self._decode(Kind.LEVELS, msg)
        if not isinstance(message, Levels):
            return
        taken = self.call(lambda s: levels.apply_levels(s, message))
        log.info(
            "levels version %d: %d of %d skus taken (journal included up to seq %d)",
            message.version,
            taken,
            len(message.levels),
            message.upto,
        )

    def request_catalog(self, request: cat.RequestResync) -> None:
        message = CatalogRequest(request.have_version, request.reason, request.version, request.missing)
        self._publish(self._topic(Kind.CATALOG_REQUEST), encode(message), 1, False)

    def _on_order(self, msg: Received) -> None:
        """Keeps an order (or a pickup key) and only then acks it to the bridge, which resends until then.

        An order that does not decode is refused with the reason naming the field, so the bridge parks it
        instead of sending it forever; the next message is handled as usual.
        """
        try:
            message = decode(Kind.ORDERS, msg.payload)
        except WireError as exc:
            log.warning("order refused (%d bytes on %s): %s", len(msg.payload), msg.topic, exc)
            if (order_id := _order_id_of(msg.payload)) is not None:
                with contextlib.suppress(WireError):  # not even its id is valid: nobody to name
                    self._ack_order(OrderAck(order_id=order_id, refused=str(exc)[:1024]))
            return
        if isinstance(message, PickupKey):
            self.call(lambda s: store_pickup_key(s, message.key_id, message.key))
            log.info("pickup key %d kept", message.key_id)
            self._ack_order(OrderAck(key_id=message.key_id))
        elif isinstance(message, Order):
            self._keep_order(message)

    def _keep_order(self, order: Order) -> None:
        ticket = order_ticket(order, self.page)
        ttl = self.settings.order_ttl_s
        stored = self.call(lambda s: store_order(s, order.to_json(), ticket, ttl))
        if not stored.changed:
            log.info("order %s rev %d was already kept: nothing changes", order.order_id, order.rev)
        elif stored.new_job is not None:
            log.info("order %s stored, ticket queued (print job %d)", order.order_id, stored.new_job)
            if self.on_order is not None:
                self.on_order()
        elif stored.withdrawn is not None:
            log.info("order %s is %s: print job %d withdrawn", order.order_id, order.state, stored.withdrawn)
        else:
            log.info("order %s rev %d kept (%s)", order.order_id, order.rev, order.state)
        self._ack_order(OrderAck(order_id=order.order_id, rev=stored.rev))

    def _ack_order(self, ack: OrderAck) -> None:
        self._publish(self._topic(Kind.ORDERS_ACK), encode(ack), 1, False)

    def _on_command(self, msg: Received) -> None:
        if msg.retain:
            log.warning("a retained command on %s was ignored: commands are never retained", msg.topic)
            return
        reply_to = msg.response_topic or self._topic(Kind.CMD_REPLY)
        self._in_hand = msg
        try:
            reply = self.runner.run(msg.payload, reply_to)
        finally:
            self._in_hand = None
        if reply is not None:
            self.reply(msg.response_topic, msg.correlation, reply)

    def reply(self, response_topic: str | None, correlation: bytes | None, reply: CommandReply) -> None:
        try:
            payload = encode(reply)
        except WireError as exc:
            try:
                payload = encode(CommandReply(reply.id, False, error=f"the reply could not be sent: {exc}"))
            except WireError as again:  # the id itself cannot be sent (the wire refused it on the way in)
                log.error("no reply sent to command %r: %s", reply.id[:200], again)
                return
        topic = response_topic or self._topic(Kind.CMD_REPLY)
        self._publish(topic, payload, 1, False, correlation)

    # ---- periodic ------------------------------------------------------------------------------------

    def _tick(self, now: float) -> None:
        self.drain.tick(now)
        if self.connected and (request := self.catalog.tick(now)) is not None:
            log.warning(
                "catalog snapshot %s: no chunk for %.0f s, asking for %s",
                request.version,
                self.catalog.missing_after_s,
                f"chunks {list(request.missing)[:10]}…" if request.missing else "all of it",
            )
            self.request_catalog(request)
        if self.journal is not None:
            self._pruned(self.journal.tick(now))
        if self.connected and now >= self._next_telemetry:
            self._next_telemetry = now + self.settings.telemetry_s
            self._send_telemetry()
        if self._trial is not None and now >= self._trial.deadline:
            self._revert_trial()
        if self._retry and now >= self._retry_at:
            self._retry_at = now + RETRY_EVERY_S
            current = self._client().generation
            retry, self._retry = [m for m in self._retry if m.generation == current], []
            self._attempts = {k: n for k, n in self._attempts.items() if k[0] == current}
            for msg in retry:
                self._on_message(msg)

    def _send_telemetry(self) -> None:
        core = self.core_loop()

        def read(store: Store) -> tuple[dict[str, str], int, str | None, dict[str, int]]:
            devices = {name: status.state.value for name, status in core.devices.items()}
            counters = {  # how current its stock numbers are, and how many shelf labels wait
                **core.counters,
                **levels.summary(store),
                **labels.summary(store),
            }
            return devices, store.journal_bytes, store.store_lost, counters

        devices, journal_bytes, store_lost, counters = self.call(read)
        health = telemetry(
            self.clock() - self.started_at,
            self.drain.backlog,  # the drain's counter: no COUNT(*) over the journal on the core loop
            devices,
            self.settings.data_dir,
            journal_bytes,
            epoch=self.epoch,
            store_lost=store_lost,
            counters=counters,
        )
        self._publish(self._topic(Kind.TELEMETRY), encode(health), 0, False)

    def _pump(self) -> None:
        """Sends as much of the journal as the drain's window allows."""
        while (fetch := self.drain.want()) is not None:
            rows = self._journal().rows_after(fetch.after, fetch.limit)
            if not rows:
                self.drain.nothing_after(fetch.after)
                return
            entries = [JournalEntry(r.seq, r.kind, r.ts, json.loads(r.data)) for r in rows]
            for batch in self.drain.send(entries, self.clock()):
                self._client().publish(self._topic(Kind.JOURNAL), batch.payload, 1)

    # ---- config changes ------------------------------------------------------------------------------

    def begin_trial(self, new: AgentConfig, changed: list[str], request: Request) -> None:
        """Called by `RemoteBox.config_set` once the new file is written: reconnect with it, on trial."""
        msg = self._in_hand
        self._trial = _Trial(
            self.clock() + self.settings.config_revert_s,
            self._client().generation,
            changed,
            request,
            msg.response_topic if msg else None,
            msg.correlation if msg else None,
        )
        self._switch_config(new)

    def _confirm_trial(self) -> None:
        trial, self._trial = self._trial, None
        assert trial is not None
        if self.config_path is not None:
            configset.confirm(self.config_path)
        log.info("config change confirmed: the broker is reachable with it")
        if trial.request is not None:
            result: dict[str, JSON] = {
                "applied": True,
                "changed": list[JSON](trial.changed),
                "restart_needed": [c for c in trial.changed if c != "mqtt"],
            }
            reply = self.runner.finish(
                trial.request, CommandReply(trial.request.command.id, True, result=result)
            )
            self.reply(trial.response_topic, trial.correlation, reply)

    def _revert_trial(self) -> None:
        trial, self._trial = self._trial, None
        assert trial is not None and self.config_path is not None
        seconds = self.settings.config_revert_s
        try:
            previous = configset.revert(self.config_path)
        except (OSError, ConfigError) as exc:
            log.critical("config change cannot be reverted (%s): keeping the new config", exc)
            return
        log.error("no broker within %.0f s with the new config: reverted %s", seconds, self.config_path)
        self._switch_config(previous)
        if trial.request is not None:
            error = f"could not reach the broker with the new config within {seconds:g} s: reverted"
            reply = self.runner.finish(
                trial.request, CommandReply(trial.request.command.id, False, error=error)
            )
            self.reply(trial.response_topic, trial.correlation, reply)

    def _switch_config(self, config: AgentConfig) -> None:
        self.online.clear()
        settings = link_settings(config)
        assert settings is not None
        old = self.client
        self.config, self.settings, self.page = config, settings, page_of(config)
        self.runner = self._runner()
        if old is not None:
            old.stop([(self._topic(Kind.STATE), encode(State.offline(self.boot)), 1, True)])
        self.drain.disconnected()
        self._start_client()

    def _runner(self) -> CommandRunner:
        s = self.settings
        return CommandRunner(
            self.remote,
            self.audit,
            key=s.command_key,
            require_signed=s.require_signed,
            window_s=s.command_window_s,
        )

    def _restart(self) -> None:
        self.restart_pending = False
        self.restart_requested = True
        log.warning("restart requested by remote support")
        if self.on_restart is not None:
            self.on_restart()
        else:
            self.core_loop().post(Stop())

    # ---- plumbing ------------------------------------------------------------------------------------

    def call(self, fn: Callable[[Store], T], timeout: float = CALL_TIMEOUT_S) -> T:
        """`fn(store)` run on the core loop, committed; abandoned (`LinkStopped`) when the link stops."""
        event = Call(fn)
        self.core_loop().post(event)
        deadline = time.monotonic() + timeout
        while True:
            try:
                result: T = event.result.result(timeout=0.2)
                return result
            except FutureTimeout:
                if self._stopping.is_set():
                    raise LinkStopped("the link is stopping") from None
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"the core loop did not answer within {timeout:g} s") from None

    def _publish(
        self, topic: str, payload: bytes, qos: int, retain: bool, correlation: bytes | None = None
    ) -> None:
        """Now if connected; QoS 1 messages otherwise wait (bounded) for the next connection."""
        if self.connected:
            self._client().publish(topic, payload, qos, retain, correlation=correlation)
        elif qos > 0 and len(self._outbox) < MAX_OUTBOX:
            self._outbox.append((topic, payload, qos, retain, correlation))

    def _topic(self, kind: Kind) -> str:
        return build_topic(self.settings.shop, self.settings.box, kind)

    def core_loop(self) -> CoreLoop:
        if self.core is None:
            raise AgentError("the MQTT link has not been started")
        return self.core

    def client_generation(self) -> int:
        return self.client.generation if self.client is not None else -1

    def _journal(self) -> Outbox:
        if self.journal is None:
            raise AgentError("the MQTT link has not loaded its state")
        return self.journal

    def _client(self) -> MqttClient:
        if self.client is None:
            raise AgentError("the MQTT link has no client yet")
        return self.client


def _order_id_of(payload: bytes) -> str | None:
    """The order id of a message that is not a valid order, if one can be read, to refuse it by name."""
    try:
        obj = json.loads(payload)
    except ValueError:
        return None
    order_id = obj.get("order_id") if isinstance(obj, dict) else None
    return order_id if isinstance(order_id, str) else None
