"""What each remote command does on the box: the `Box` that `CommandRunner` drives, built on the link."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any, Protocol, TypeVar

from devices.printers import PageSetup
from firmware_agent import labels
from firmware_agent.config import AgentConfig, Secret
from firmware_agent.core import CoreLoop
from firmware_agent.domain import Mode
from firmware_agent.events import ModeRequest, PrintShelfLabels
from firmware_agent.floor import FloorDesk
from firmware_agent.link import configset
from firmware_agent.link.audit import MASK
from firmware_agent.link.catalog import CatalogSync, RequestResync
from firmware_agent.link.commands import CommandFailed, Request
from firmware_agent.link.drain import Drain
from firmware_agent.link.logring import RingLog
from firmware_agent.link.settings import LinkSettings
from firmware_agent.printing import PrintRequest
from firmware_agent.selftest import selftest
from firmware_agent.store import Store, levels
from firmware_agent.store.orders import PhoneOrderRefused, StageRefused
from firmware_agent.tickets import TicketStyle, selftest_ticket
from firmware_agent.updates import Layout, Source, UpdateError, read_status, request_update
from wire import JSON, WireError

TEST_TICKET_TTL_S = 600.0
T = TypeVar("T")


class RemoteLink(Protocol):
    """What the remote commands need of the link (link/service.py's `Link` is one), so this module does
    not import the link's service and the two do not import each other."""

    config: AgentConfig
    config_path: Path | None
    settings: LinkSettings
    page: PageSetup
    ring: RingLog
    drain: Drain
    catalog: CatalogSync
    restart_pending: bool
    boot: int
    started_at: float

    @property
    def connected(self) -> bool: ...

    @property
    def on_trial(self) -> bool: ...

    def clock(self) -> float: ...

    def core_loop(self) -> CoreLoop: ...

    def call(self, fn: Callable[[Store], T], timeout: float = ...) -> T: ...

    def update_layout(self) -> Layout: ...

    def request_catalog(self, request: RequestResync) -> None: ...

    def begin_trial(self, new: AgentConfig, changed: list[str], request: Request) -> None: ...

    def floor(self) -> FloorDesk: ...


class RemoteBox:
    """The `Box` that `CommandRunner` drives: each command, on the link it is given."""

    def __init__(self, link: RemoteLink) -> None:
        self.link = link

    def status(self) -> JSON:
        link = self.link
        core = link.core_loop()

        def read(store: Store) -> dict[str, JSON]:
            return {
                "mode": core.state.mode.value,
                "last_seq": store.last_seq,
                "journal_entries": store.journal_count(),
                "journal_bytes": store.journal_bytes,
                "journal_level": store.journal_level(),
                "products": store.product_count(),
                **levels.summary(store),
            }

        facts = link.call(read)
        return {
            "box": link.settings.box,
            "shop": link.settings.shop,
            "version": link.settings.version,
            "boot": link.boot,
            "uptime_s": int(link.clock() - link.started_at),
            "connected": link.connected,
            "acked_seq": link.drain.acked,
            "backlog": link.drain.backlog,
            "catalog_version": link.catalog.version,
            "config_hash": link.settings.config_hash,
            "config_on_trial": link.on_trial,
            "update": update_status(link.update_layout()),
            **facts,
        }

    def devices(self) -> JSON:
        core = self.link.core_loop()

        def read(_store: Store) -> dict[str, JSON]:
            return {n: {"state": d.state.value, "detail": d.detail} for n, d in core.devices.items()}

        result: JSON = self.link.call(read)
        return result

    def logs(self, count: int, level: str) -> JSON:
        return list(self.link.ring.lines(count, level))

    def config_get(self) -> JSON:
        return config_view(self.link.config)

    def config_set(self, values: Mapping[str, Any], request: Request) -> None:
        link = self.link
        path = link.config_path
        if path is None:
            raise CommandFailed("config.set: this box runs without a config file")
        if link.on_trial:
            raise CommandFailed("config.set: another config change is still on trial")
        new, new_text, old_text = configset.prepare(path, values, link.config)
        if not request.signed and (keys := configset.needing_signature(old_text, new_text)):
            how = (
                "a command signed with mqtt.command_key"
                if link.settings.command_key
                else "a signed command, and this box has no mqtt.command_key: change them on site"
            )
            raise CommandFailed(
                f"config.set refused, nothing changed: {', '.join(keys)} decide whom the box trusts "
                f"or what it does with its devices and need {how}"
            )
        if new.mqtt is None:
            raise CommandFailed("config.set refused: without [mqtt] the box would be cut off from support")
        changed = configset.changed_sections(link.config, new)
        if not changed:
            raise CommandFailed("config.set: nothing would change")
        configset.begin(path, new_text, old_text)
        link.begin_trial(new, changed, request)

    def print_test(self) -> JSON:
        """The self-test ticket (who the box is, its devices, its link), through the durable print queue."""
        link = self.link
        core = link.core_loop()

        def enqueue(store: Store) -> int:
            facts = selftest(link.settings.box, core, link="online (remote print.test)")
            ticket = selftest_ticket(facts, TicketStyle(page=link.page))
            return store.enqueue_print("selftest", ticket, TEST_TICKET_TTL_S)

        job: int = link.call(enqueue)
        return {"job": job, "printer_configured": core.handles(PrintRequest)}

    def reprint(self, order_id: str | None, job: int | None, station: str | None = None) -> JSON:
        if job is not None:
            return {"job": self._reprint_job(job)}
        assert order_id is not None
        try:
            jobs = self.link.floor().reprint(order_id, station)
        except StageRefused as exc:
            raise CommandFailed(f"print.reprint: {exc}") from exc
        return {"job": jobs[0] if jobs else None, "jobs": list(jobs), "order_id": order_id}

    def order_stage(self, order_id: str, stage: str | None, eta_min: int | None) -> JSON:
        """Moves an order on the floor from support / the owner's page (docs/orders.md)."""
        try:
            moved = self.link.floor().move(order_id, stage, eta_min=eta_min, source="remote")
        except StageRefused as exc:
            raise CommandFailed(f"order.stage: {exc}") from exc
        return {"order_id": moved.order_id, "stage": moved.stage, "eta_min": moved.eta_min}

    def order_add(self, order: Mapping[str, Any]) -> JSON:
        """A phone order from `tillbridge order add` (docs/orders.md): journaled for the bridge to create."""
        try:
            ref = self.link.floor().phone_order(order)
        except (WireError, PhoneOrderRefused) as exc:
            raise CommandFailed(f"order.add: {exc}") from exc
        return {"ref": ref}

    def _reprint_job(self, job: int) -> int:
        def requeue(store: Store) -> bool:
            found = store.has_print_job(job)
            if found:
                store.mark_reprint(job)
            return found

        if not self.link.call(requeue):
            raise CommandFailed(f"print.reprint: there is no print job {job}")
        return job

    def print_labels(self) -> JSON:
        """The shelf label list, printed as the `TBLABELS` code prints it (cleared once printed)."""
        core = self.link.core_loop()
        if not core.handles(PrintShelfLabels):
            raise CommandFailed("labels.print: this box has no printer configured")
        pending: int = self.link.call(lambda store: len(labels.pending(store)))
        core.post(PrintShelfLabels())
        return {"labels": pending}

    def catalog_resync(self) -> JSON:
        link = self.link
        link.request_catalog(link.catalog.on_command(link.clock()))
        return {"requested": True, "have_version": link.catalog.version}

    def journal_resend(self) -> JSON:
        drain = self.link.drain
        drain.resend()
        return {"from_seq": drain.acked + 1, "backlog": drain.backlog}

    def set_mode(self, mode: str) -> JSON:
        core = self.link.core_loop()
        core.post(ModeRequest(Mode(mode), "remote"))
        now: str = self.link.call(lambda _store: core.state.mode.value)  # runs after the request
        return {"mode": now}

    def restart(self) -> JSON:
        self.link.restart_pending = True
        return {"restarting": True}

    def update(self, url: str, sha256: str, signature: str, allow_downgrade: bool) -> JSON:
        """Queues the signed release for tillbridge-update.service (root), which installs it, restarts the
        agent on it, waits for READY and the broker, and commits it or rolls back (docs/updates.md).
        The outcome is in `status` (`update`) once the agent is back."""
        layout = self.link.update_layout()
        try:
            request = request_update(
                layout, Source(url=url), sha256, signature, allow_downgrade=allow_downgrade
            )
        except UpdateError as exc:
            raise CommandFailed(f"update refused, nothing changed: {exc}") from exc
        return {"queued": True, "id": request.id, "running": layout.version_of("current")}

    def first_time(self, channel: str, ref: str) -> bool:
        seen: bool = self.link.call(lambda store: store.first_time_seen(channel, ref))
        return seen


def update_status(layout: Layout) -> JSON:
    """The release running and how the last update ended (an update restarts the agent: this is how
    support learns the outcome of an `update` command)."""
    try:
        status: JSON = json.loads(read_status(layout).to_json())
    except (OSError, ValueError) as exc:
        return {"error": f"cannot read {layout.root}: {exc}"}
    return status


def config_view(value: object) -> JSON:
    """The config as JSON, secrets masked, keys left at None omitted (as in the file)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return {name: config_view(v) for name, v in items if v is not None}
    if isinstance(value, tuple | list):
        return [config_view(v) for v in value]
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
