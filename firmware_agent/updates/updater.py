"""The update procedure: fetch, check, unpack, switch, restart, prove healthy, then commit or roll back.

```
 signature ─▶ guards ─▶ fetch + sha256 ─▶ unpack + self-check ─▶ guards ─▶ pending{trial} ─▶ switch current
                                                                                               │
   commit: committed, previous; pending removed  ◀── pending{healthy} ◀── READY, link up, settle ┤
   rollback: current ◀ committed, restart;  pending removed  ◀────── crash, timeout, no link ────┘
```
Everything before the switch leaves the box as it was when it fails. From the switch on, `pending.json`
says what to do if the updater dies: `resume()` (run at boot before the agent, and after the update
service stops however it stopped) rolls a `trial` back and finishes a `healthy` commit, so a box is never
left half updated. One updater at a time: an flock on `update/lock`, released by the kernel on kill -9.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from firmware_agent.updates import artifact, guards, signing
from firmware_agent.updates.artifact import Release, Source
from firmware_agent.updates.errors import UpdateDeferred, UpdateError, UpdateRejected
from firmware_agent.updates.guards import GuardPolicy
from firmware_agent.updates.health import LINK_MARKER, link_up_pid
from firmware_agent.updates.layout import Layout
from firmware_agent.updates.request import take_request
from firmware_agent.updates.state import (
    Outcome,
    Pending,
    Phase,
    UpdateResult,
    load_pending,
    load_result,
    save,
)
from firmware_agent.updates.supervisor import Readiness, Supervisor

log = logging.getLogger(__name__)

LINK_POLL_S = 0.2


@dataclass(frozen=True)
class HealthPolicy:
    """What the new release must show before it is committed.

    `connect_timeout` None: READY is enough (no broker configured, a local update). `settle_s`: it must then
    stay up this long, so a release that dies right after READY is not committed.
    """

    ready_timeout: float = 90.0
    connect_timeout: float | None = None
    settle_s: float = 10.0


@dataclass
class Updater:
    layout: Layout
    supervisor: Supervisor
    keys: Sequence[Path]
    health: HealthPolicy = field(default_factory=HealthPolicy)
    guard: GuardPolicy = field(default_factory=GuardPolicy)
    now: Callable[[], float] = time.time
    self_check_timeout: float = 60.0

    # ---- the three entry points ----------------------------------------------------------------------

    def install(
        self,
        source: Source,
        sha256: str,
        signature: str,
        *,
        restart: bool = True,
        update_id: str = "",
        allow_downgrade: bool = False,
    ) -> UpdateResult:
        """Install and switch to the release in `source`; with restart=False (an image being built, a box
        whose agent is stopped) it is committed at once, without a health gate.

        Raises UpdateRejected / UpdateDeferred / DownloadError with nothing changed; once the switch is
        made it returns the outcome instead.
        """
        update_id = update_id or uuid.uuid4().hex[:12]
        with self._locked():
            self._resume(restart=restart)
            try:
                release = self._prepare(source, sha256, signature, restart, allow_downgrade)
            except UpdateError as exc:
                self._record(update_id, Outcome.REFUSED, None, self.layout.version_of("committed"), str(exc))
                raise
            return self._switch_and_prove(update_id, release, restart)

    def resume(self, *, restart: bool = True) -> UpdateResult | None:
        """Finish or undo an update its updater did not see through; None when there was none."""
        with self._locked():
            return self._resume(restart=restart)

    def rollback(self, *, force: bool = False) -> UpdateResult:
        """Go back to the release before the committed one (support's undo of an update that passed)."""
        with self._locked():
            undone = self._resume(restart=True)
            if undone is not None and undone.outcome is Outcome.ROLLED_BACK:
                return undone
            lay = self.layout
            target, committed = lay.version_of("previous"), lay.version_of("committed")
            if target is None:
                raise UpdateRejected(f"{lay.root}: no previous release to roll back to")
            if not force:
                guards.check(lay.data, self.guard, self.now)
            for link in ("current", "committed"):
                lay.point(link, target)
            lay.point("previous", committed)
            readiness = self.supervisor.restart(self.health.ready_timeout)
            reason = "rolled back on request" + _readiness_note(readiness)
            update_id = uuid.uuid4().hex[:12]
            return self._record(update_id, Outcome.ROLLED_BACK, target, committed, reason, readiness.ok)

    def run_queued(self) -> UpdateResult | None:
        """Run the request the agent queued (tillbridge-update.service); None when there is none.

        A refusal is returned (and kept in last.json for the agent to report), not raised: nobody but
        systemd waits on this process.
        """
        self.resume()
        try:
            request = take_request(self.layout)
        except UpdateRejected as exc:
            return self._record(
                "unknown", Outcome.REFUSED, None, self.layout.version_of("committed"), str(exc)
            )
        if request is None:
            return None
        gate = replace(self, health=replace(self.health, connect_timeout=request.connect_timeout))
        try:
            return gate.install(
                request.source,
                request.sha256,
                request.signature,
                update_id=request.id,
                allow_downgrade=request.allow_downgrade,
            )
        except UpdateError as exc:
            last = load_result(self.layout.last_file)
            if last is not None and last.id == request.id:
                return last
            committed = self.layout.version_of("committed")
            return self._record(request.id, Outcome.REFUSED, None, committed, str(exc))

    # ---- before the switch: nothing changes if any of this fails ---------------------------------------

    def _prepare(
        self, source: Source, sha256: str, signature: str, check_guards: bool, allow_downgrade: bool
    ) -> Release:
        lay = self.layout
        key = signing.verify(self.keys, sha256, signature)  # what is signed is the sha256: no download yet
        if check_guards:
            guards.check(lay.data, self.guard, self.now)
        downloaded = artifact.fetch(source, sha256, lay.downloads)
        log.info("%s: sha256 %s, signed by %s", source, sha256, key)
        try:
            release = artifact.unpack(downloaded, lay, allow_downgrade=allow_downgrade)
        finally:
            downloaded.unlink(missing_ok=True)
        try:
            self._self_check(release)
            if check_guards:
                guards.check(lay.data, self.guard, self.now)  # the download may have taken minutes
        except UpdateError:
            lay.prune()
            raise
        return release

    def _self_check(self, release: Release) -> None:
        """`bin/tillbridge --version` in the new release: a broken interpreter or import fails here."""
        entry = release.path / artifact.ENTRY
        try:
            done = subprocess.run(
                [str(entry), "--version"],
                capture_output=True,
                text=True,
                timeout=self.self_check_timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UpdateRejected(f"{entry} --version did not run: {exc}") from exc
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-300:]
            raise UpdateRejected(f"{entry} --version exited {done.returncode}: {output}")

    # ---- the switch and the health gate ---------------------------------------------------------------

    def _switch_and_prove(self, update_id: str, release: Release, restart: bool) -> UpdateResult:
        lay = self.layout
        schema = guards.schema_version(lay.data / guards.DB_NAME)
        committed = lay.version_of("committed")
        pending = Pending(update_id, release.version, committed, Phase.TRIAL, self.now(), schema)
        save(lay.pending_file, pending)
        lay.point("current", release.version)
        log.info("update %s: switched to %s (from %s)", update_id, release.version, pending.previous)
        if restart:
            failure = self._health_gate()
            if failure is not None:
                return self._roll_back(pending, failure, restart=True)
        save(lay.pending_file, _with_phase(pending, Phase.HEALTHY))
        return self._commit(pending, agent_ready=True if restart else None)

    def _health_gate(self) -> str | None:
        """None when the new release proved healthy, else why not."""
        policy = self.health
        (self.layout.data / LINK_MARKER).unlink(missing_ok=True)
        readiness = self.supervisor.restart(policy.ready_timeout)
        if not readiness.ok:
            return readiness.detail or readiness.state.value
        if policy.connect_timeout is not None and (failure := self._link_comes_up(policy.connect_timeout)):
            return failure
        if not self.supervisor.stays_up(policy.settle_s):
            return f"the new release stopped within {policy.settle_s:g} s of READY"
        return None

    def _link_comes_up(self, timeout: float) -> str | None:
        end = time.monotonic() + timeout
        while (pid := self.supervisor.pid()) is not None:
            if link_up_pid(self.layout.data) == pid:
                return None
            left = end - time.monotonic()
            if left <= 0:
                return f"the new release did not reconnect within {timeout:g} s"
            self.supervisor.stays_up(min(LINK_POLL_S, left))  # waits, and wakes at once on a crash
        return "the new release stopped before it reconnected"

    # ---- the end of an update: both are idempotent, so resume() may repeat them -----------------------

    def _commit(self, pending: Pending, agent_ready: bool | None = None) -> UpdateResult:
        lay = self.layout
        if pending.previous != pending.version:
            lay.point("previous", pending.previous)
        lay.point("committed", pending.version)
        result = self._record(
            pending.id, Outcome.COMMITTED, pending.version, pending.previous, "healthy", agent_ready
        )
        lay.pending_file.unlink(missing_ok=True)
        lay.prune()
        log.info("update %s: %s committed", pending.id, pending.version)
        return result

    def _roll_back(self, pending: Pending, reason: str, restart: bool) -> UpdateResult:
        lay = self.layout
        lay.point("current", pending.previous)
        log.error(
            "update %s: %s failed (%s); back to %s", pending.id, pending.version, reason, pending.previous
        )
        reason += self._schema_note(pending)
        ready = None
        if restart and pending.previous is not None:
            readiness = self.supervisor.restart(self.health.ready_timeout)
            reason, ready = reason + _readiness_note(readiness), readiness.ok
        result = self._record(
            pending.id, Outcome.ROLLED_BACK, pending.version, pending.previous, reason, ready
        )
        lay.pending_file.unlink(missing_ok=True)
        lay.prune()
        return result

    def _schema_note(self, pending: Pending) -> str:
        """The store may have been migrated by the new release; say so, it explains a refusal to start."""
        schema = guards.schema_version(self.layout.data / guards.DB_NAME)
        if pending.schema is None or schema is None or schema <= pending.schema:
            return ""
        return (
            f"; the new release migrated the store from schema {pending.schema} to {schema}: "
            f"{pending.previous} starts only if it accepts a newer additive schema (docs/updates.md)"
        )

    def _resume(self, restart: bool) -> UpdateResult | None:
        lay = self.layout
        try:
            pending = load_pending(lay.pending_file)
        except UpdateError as exc:  # unreadable: the committed link still says where to go back to
            log.error("%s", exc)
            committed = lay.version_of("committed")
            pending = Pending("unknown", lay.version_of("current") or "?", committed, Phase.TRIAL, 0.0)
        if pending is None:
            return None
        if pending.phase is Phase.HEALTHY:
            return self._commit(pending)
        why = "the updater stopped before the new release proved healthy (crash, kill or power cut)"
        return self._roll_back(pending, why, restart)

    # ---- bookkeeping ----------------------------------------------------------------------------------

    def _record(
        self,
        update_id: str,
        outcome: Outcome,
        version: str | None,
        previous: str | None,
        reason: str,
        agent_ready: bool | None = None,
    ) -> UpdateResult:
        result = UpdateResult(update_id, outcome, version, previous, reason, self.now(), agent_ready)
        save(self.layout.last_file, result)
        return result

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.layout.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.layout.state_dir / "lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise UpdateDeferred(f"{self.layout.root}: another update is running") from exc
            yield


def _with_phase(pending: Pending, phase: Phase) -> Pending:
    return dataclasses.replace(pending, phase=phase)


def _readiness_note(readiness: Readiness) -> str:
    return "" if readiness.ok else f"; and the release it went back to did not come up: {readiness.detail}"


@dataclass(frozen=True)
class Status:
    current: str | None
    committed: str | None
    previous: str | None
    releases: tuple[str, ...]
    pending: Pending | None
    last: UpdateResult | None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def read_status(layout: Layout) -> Status:
    """What runs, what is kept, and how the last update ended: readable by the agent without the lock."""
    return Status(
        current=layout.version_of("current"),
        committed=layout.version_of("committed"),
        previous=layout.version_of("previous"),
        releases=tuple(layout.installed()),
        pending=load_pending(layout.pending_file),
        last=load_result(layout.last_file),
    )
