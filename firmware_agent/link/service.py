"""The `Link` service: the box's MQTT link, beside the core loop, in a thread of its own.

paho's thread and a core-loop listener only enqueue events (`events.py`); the link's thread takes them one at
a time and alone decides: it drains the journal (`drain.py`), hands each inbound message to the handler of
its kind (`inbound/`), runs config trials (`trial.py`), reports health. What it writes into the box's state
is a `core.call`, which runs on the core loop inside its transaction and returns after the commit, so an
inbound message is acknowledged to the broker (manual PUBACK) only once what it brought is on disk. The
journal outbox is the exception, and the link's own business: it reads the entries to send and deletes the
acknowledged ones on a connection of its own (`store/outbox.py`), so a scan never waits behind the drain on
the core loop. MQTT itself is behind one port (`mqttport.py`; paho behind `client.py`).

The parts import downwards only (an import-linter contract): the handlers and the trial know the link
through narrow Protocols, the remote commands (`remote.py`) through `RemoteLink`; none imports this module.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Final, TypeVar

from devices.readings import DeviceState, DeviceStatus
from firmware_agent import labels
from firmware_agent.config import AgentConfig
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.errors import AgentError, ConfigError
from firmware_agent.events import Call, Stop
from firmware_agent.floor import FloorDesk
from firmware_agent.link import catalog as cat
from firmware_agent.link.audit import AuditLog
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
from firmware_agent.link.inbound.ack import on_ack
from firmware_agent.link.inbound.catalog import on_catalog
from firmware_agent.link.inbound.commands import on_command
from firmware_agent.link.inbound.dispatch import Inbound, LinkStopped
from firmware_agent.link.inbound.levels import on_levels
from firmware_agent.link.inbound.orders import on_orders
from firmware_agent.link.logring import RingLog
from firmware_agent.link.mqttport import MqttPort
from firmware_agent.link.remote import RemoteBox
from firmware_agent.link.settings import link_settings
from firmware_agent.link.ticket import Routing, page_of, station_tickets
from firmware_agent.link.trial import ConfigTrial
from firmware_agent.store import Store, catalog_stage, levels
from firmware_agent.store.catalog_stage import Staged
from firmware_agent.store.outbox import Outbox, Pruned
from firmware_agent.updates.health import note_link_up
from firmware_agent.updates.layout import DEFAULT_ROOT, Layout
from wire import CatalogRequest, CommandReply, Kind, WireError, encode

log = logging.getLogger(__name__)

AUDIT_NAME: Final = "audit.jsonl"
BOOT_KEY: Final = "boot_counter"
CALL_TIMEOUT_S: Final = 30.0
T = TypeVar("T")
LINK_DEVICE: Final = "mqtt"  # how the link shows in device status, the demo and telemetry
__all__ = ["AUDIT_NAME", "LINK_DEVICE", "Link", "LinkStopped"]


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
        self._events: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.port = MqttPort(self._events.put)
        self.trial = ConfigTrial(self)
        self.inbound = Inbound(
            {
                Kind.ACK: lambda msg: on_ack(self, msg),
                Kind.CATALOG: lambda msg: on_catalog(self, msg),
                Kind.ORDERS: lambda msg: on_orders(self, msg),
                Kind.CMD: lambda msg: on_command(self, msg),
                Kind.LEVELS: lambda msg: on_levels(self, msg),
            },
            self.port,
            self._after_ack,
        )
        self.on_restart = on_restart
        self.on_order: Callable[[], None] | None = None  # a new order's ticket is queued (wake the printer)
        self.ready = threading.Event()  # set once the link has loaded its state and started connecting
        self.online = threading.Event()  # set while connected with the box's subscriptions confirmed
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_telemetry = 0.0
        self._seen_seq = 0
        self.restart_pending = False
        self.restart_requested = False  # the agent may exit non-zero on it, so systemd restarts the box
        self.in_hand: Received | None = None  # the command message being run (a trial answers it later)
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
        self.port.stop()
        if self.core is not None and self._on_applied in self.core.listeners:
            self.core.listeners.remove(self._on_applied)
        logging.getLogger().removeHandler(self.ring)

    @property
    def connected(self) -> bool:
        return self.port.connected

    @property
    def on_trial(self) -> bool:
        return self.trial.active

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

    def _guard(self, fn: Callable[..., None], *args: object) -> None:
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
        self.trial.resume(self.clock())
        self.port.start(self.settings, self.boot)
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

    # ---- events --------------------------------------------------------------------------------------

    def _handle(self, event: object) -> None:
        match event:
            case Connected():
                self._on_connected(event)
            case Subscribed():
                if event.generation == self.port.generation:
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
                self.inbound.receive(event)
            case JournalGrew():
                self.drain.journal_grew(event.last_seq)

    def _on_connected(self, event: Connected) -> None:
        now = self.clock()
        self._failures = 0
        s = self.settings
        # the birth goes first, before any journal batch: it names the store the batches belong to
        self.port.came_up(birth(s.version, self.boot, s.config_hash, self.epoch))
        self.drain.connected(now)
        if request := self.catalog.on_connected(now):
            self.request_catalog(request)
        self.port.send_waiting()
        self.trial.on_connected(event.generation)
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

    def _after_ack(self) -> None:
        """A message was acknowledged: a restart a command asked for may happen now."""
        if self.restart_pending:
            self._restart()

    # ---- what the handlers and the trial ask of the link ---------------------------------------------

    def acked(self, upto: int) -> None:
        """The cloud applied the journal up to `upto`: the outbox deletes, now or at its next prune."""
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

    def request_catalog(self, request: cat.RequestResync) -> None:
        message = CatalogRequest(request.have_version, request.reason, request.version, request.missing)
        self.port.send(Kind.CATALOG_REQUEST, encode(message), 1)

    def send(self, kind: Kind, payload: bytes, qos: int) -> None:
        self.port.send(kind, payload, qos)

    def floor(self) -> FloorDesk:
        """The orders-on-the-floor API (web page, remote commands) over this link's core loop."""
        return FloorDesk(
            self.call, lambda o, n: station_tickets(o, Routing.of(self.config), n), self.settings.order_ttl_s
        )

    def topic(self, kind: Kind) -> str:
        return self.port.topic(kind)

    def reply(self, response_topic: str | None, correlation: bytes | None, reply: CommandReply) -> None:
        try:
            payload = encode(reply)
        except WireError as exc:
            try:
                payload = encode(CommandReply(reply.id, False, error=f"the reply could not be sent: {exc}"))
            except WireError as again:  # the id itself cannot be sent (the wire refused it on the way in)
                log.error("no reply sent to command %r: %s", reply.id[:200], again)
                return
        topic = response_topic or self.port.topic(Kind.CMD_REPLY)
        self.port.publish(topic, payload, 1, False, correlation)

    def finish(self, request: Request, reply: CommandReply, to: Received | None) -> None:
        """A command answered later (a config trial's outcome): audited, then sent where it asked."""
        done = self.runner.finish(request, reply)
        self.reply(to.response_topic if to else None, to.correlation if to else None, done)

    @property
    def revert_s(self) -> float:
        return self.settings.config_revert_s

    # ---- periodic ------------------------------------------------------------------------------------

    def _tick(self, now: float) -> None:
        self.drain.tick(now)
        if self.connected and (request := self.catalog.tick(now)) is not None:
            log.warning(
                "catalog snapshot %s: no chunk for %.0f s, asking for %s",
                request.version,
                self.catalog.missing_after_s,
                f"chunks {list(request.missing)[:10]}" if request.missing else "all of it",
            )
            self.request_catalog(request)
        if self.journal is not None:
            self._pruned(self.journal.tick(now))
        if self.connected and now >= self._next_telemetry:
            self._next_telemetry = now + self.settings.telemetry_s
            self._send_telemetry()
        self.trial.tick(now)
        self.inbound.tick(now)

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
        self.port.send(Kind.TELEMETRY, encode(health), 0)

    def _pump(self) -> None:
        """Sends as much of the journal as the drain's window allows."""
        while (fetch := self.drain.want()) is not None:
            rows = self._journal().rows_after(fetch.after, fetch.limit)
            if not rows:
                self.drain.nothing_after(fetch.after)
                return
            for batch in self.drain.send([row.entry() for row in rows], self.clock()):
                self.port.publish_batch(batch.payload)

    # ---- config changes ------------------------------------------------------------------------------

    def begin_trial(self, new: AgentConfig, changed: list[str], request: Request) -> None:
        """Called by `RemoteBox.config_set` once the new file is written: reconnect with it, on trial."""
        self.trial.begin(new, changed, request, self.port.generation, self.in_hand, self.clock())

    def switch_config(self, config: AgentConfig) -> None:
        self.online.clear()
        settings = link_settings(config)
        assert settings is not None
        self.config, self.settings, self.page = config, settings, page_of(config)
        self.runner = self._runner()
        self.port.stop()
        self.drain.disconnected()
        self.port.start(settings, self.boot)

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

    def core_loop(self) -> CoreLoop:
        if self.core is None:
            raise AgentError("the MQTT link has not been started")
        return self.core

    def _journal(self) -> Outbox:
        if self.journal is None:
            raise AgentError("the MQTT link has not loaded its state")
        return self.journal
