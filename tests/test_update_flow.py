"""The update procedure end to end, with fake releases run as real processes that speak sd_notify to the
updater: a good release commits, a bad one rolls back by itself, a bad artifact changes nothing."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_agent.store.migrations import LATEST
from firmware_agent.updates import (
    BadSignature,
    ChecksumMismatch,
    DownloadError,
    GuardPolicy,
    HealthPolicy,
    Layout,
    Outcome,
    ProcessSupervisor,
    Source,
    UpdateDeferred,
    Updater,
    UpdateRejected,
    read_status,
    request_update,
    signing,
)
from firmware_agent.updates.artifact import pack, unpack
from firmware_agent.updates.state import Pending, Phase, save
from tests.agent_helpers import write_config
from tests.store_helpers import open_store
from tests.update_helpers import Artifact, Reports, build_artifact

FAST = HealthPolicy(ready_timeout=10, connect_timeout=10, settle_s=0.2)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    private = tmp_path_factory.mktemp("keys") / "release.key"
    signing.keygen(private)
    return private


@dataclass
class Box:
    """A box running release 1.0 under a ProcessSupervisor, as after a first install."""

    layout: Layout
    supervisor: ProcessSupervisor
    updater: Updater
    reports: Reports
    work: Path
    key: Path

    def artifact(self, version: str, behaviour: str = "good") -> Artifact:
        return build_artifact(self.work, self.key, version, behaviour)

    def install(self, artifact: Artifact, **health):
        self.updater.health = HealthPolicy(**{**FAST.__dict__, **health})
        return self.updater.install(Source(file=artifact.file), artifact.sha256, artifact.signature)

    def links(self):
        return tuple(self.layout.version_of(link) for link in ("current", "committed", "previous"))


@pytest.fixture
def box(tmp_path, key, monkeypatch) -> Iterator[Box]:
    reports = Reports()
    layout = Layout(tmp_path / "root")
    monkeypatch.setenv("FAKE_REPORT", reports.name)
    monkeypatch.setenv("FAKE_DATA_DIR", str(layout.data))
    supervisor = ProcessSupervisor(layout, stop_timeout=5)
    updater = Updater(layout, supervisor, [key.with_name(key.name + ".pub")], FAST, GuardPolicy())
    box = Box(layout, supervisor, updater, reports, tmp_path, key)
    first = box.artifact("1.0")
    updater.install(Source(file=first.file), first.sha256, first.signature, restart=False)
    assert supervisor.restart(10).ok
    assert reports.next()[:2] == ("ready", "1.0")
    try:
        yield box
    finally:
        supervisor.stop()
        reports.close()


def test_a_good_update_commits_and_keeps_the_old_release_for_a_rollback(box):
    result = box.install(box.artifact("2.0"))
    assert (result.outcome, result.version, result.previous) == (Outcome.COMMITTED, "2.0", "1.0")
    assert box.reports.next()[:2] == ("stopped", "1.0")
    what, version, pid = box.reports.next()
    assert (what, version) == ("ready", "2.0") and box.supervisor.pid() == pid
    assert box.links() == ("2.0", "2.0", "1.0")
    status = read_status(box.layout)
    assert status.pending is None and status.last == result and status.releases == ("1.0", "2.0")


@pytest.mark.parametrize(
    ("behaviour", "health", "why"),
    [
        ("crash", {}, "exited with status 3"),
        ("silent", {"ready_timeout": 1}, "no READY=1 within 1 s"),
        ("offline", {"connect_timeout": 1}, "did not reconnect within 1 s"),
        ("flaky", {"connect_timeout": None, "settle_s": 30}, "stopped within 30 s of READY"),
    ],
    ids=["crashes-at-start", "never-ready", "never-reconnects", "dies-after-ready"],
)
def test_a_release_that_does_not_prove_healthy_is_rolled_back_and_the_old_one_restarted(
    box, behaviour, health, why
):
    result = box.install(box.artifact("2.0", behaviour), **health)
    assert result.outcome is Outcome.ROLLED_BACK and why in result.reason
    assert box.reports.next()[:2] == ("stopped", "1.0")
    while (report := box.reports.next())[1] == "2.0":  # whatever the bad release got to say
        pass
    assert report[:2] == ("ready", "1.0") and box.supervisor.pid() == report[2]
    assert box.links() == ("1.0", "1.0", None)
    status = read_status(box.layout)
    assert status.pending is None and status.releases == ("1.0",)  # the failed release is gone


def assert_nothing_changed(box: Box, running_pid: int | None) -> None:
    assert box.links() == ("1.0", "1.0", None)
    assert read_status(box.layout).releases == ("1.0",) and box.layout.pending_file.exists() is False
    assert list(box.layout.downloads.iterdir()) == []
    assert box.supervisor.pid() == running_pid  # not restarted


def test_a_bad_signature_is_refused_and_nothing_changes(box, tmp_path):
    pid = box.supervisor.pid()
    other = tmp_path / "someone-else.key"
    signing.keygen(other)
    forged = box.artifact("2.0")
    forged = Artifact(forged.version, forged.file, forged.sha256, signing.sign(other, forged.sha256))
    with pytest.raises(BadSignature, match="does not verify against"):
        box.install(forged)
    assert_nothing_changed(box, pid)
    last = read_status(box.layout).last
    assert last is not None and last.outcome is Outcome.REFUSED


def test_bytes_that_do_not_match_the_signed_sha256_are_refused_and_nothing_changes(box):
    pid = box.supervisor.pid()
    good = box.artifact("2.0")
    tampered = box.artifact("2.0", "crash")  # other bytes, presented with the good sha256 and signature
    with pytest.raises(ChecksumMismatch, match=f"the update names {good.sha256}"):
        box.install(Artifact("2.0", tampered.file, good.sha256, good.signature))
    assert_nothing_changed(box, pid)


@pytest.fixture
def web(tmp_path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_update_downloaded_over_http_commits(box, web):
    artifact = box.artifact("2.0")
    url = f"{web}/{artifact.file.name}"
    result = box.updater.install(Source(url=url), artifact.sha256, artifact.signature)
    assert result.outcome is Outcome.COMMITTED and box.links()[0] == "2.0"


def test_a_missing_download_is_refused_and_nothing_changes(box, web):
    pid = box.supervisor.pid()
    artifact = box.artifact("2.0")
    with pytest.raises(DownloadError, match="404"):
        box.updater.install(Source(url=f"{web}/nope.tar.gz"), artifact.sha256, artifact.signature)
    assert_nothing_changed(box, pid)


def test_no_update_starts_while_a_sale_is_being_scanned(box):
    pid = box.supervisor.pid()
    (box.layout.data / "busy").touch()
    with pytest.raises(UpdateDeferred, match="a sale is being scanned"):
        box.install(box.artifact("2.0"))
    assert_nothing_changed(box, pid)


def test_an_updater_killed_between_switch_and_commit_is_rolled_back_by_the_next_run(box):
    """The updater waits for the new release's link (which never comes); kill -9 lands in that window."""
    update = box.artifact("2.0", "offline")
    cli = subprocess.Popen(
        [
            *(sys.executable, "-m", "tillbridge", "update", "install", "--file", str(update.file)),
            *("--sha256", update.sha256, "--signature", update.signature, "--root", str(box.layout.root)),
            *("--key", f"{box.key}.pub", "--agent", "process", "--connect-timeout", "60"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert box.reports.next()[:2] == ("stopped", "1.0")
        assert box.reports.next()[:2] == ("ready", "2.0")
    finally:
        os.kill(cli.pid, signal.SIGKILL)
        cli.communicate(timeout=10)
    assert box.links() == ("2.0", "1.0", None)
    pending = read_status(box.layout).pending
    assert pending is not None and pending.phase is Phase.TRIAL

    result = box.updater.resume()
    assert result.outcome is Outcome.ROLLED_BACK and "before the new release proved healthy" in result.reason
    assert box.reports.next()[:2] == ("stopped", "2.0")  # the orphaned new agent, found by its pid file
    assert box.reports.next()[:2] == ("ready", "1.0")
    assert box.links() == ("1.0", "1.0", None) and read_status(box.layout).pending is None


def interrupted(box: Box, phase: Phase) -> None:
    """The state an updater leaves when it dies in `phase`: 2.0 unpacked, current switched, pending."""
    update = box.artifact("2.0")
    unpack(update.file, box.layout)
    save(box.layout.pending_file, Pending("u1", "2.0", "1.0", phase, 0.0))
    box.layout.point("current", "2.0")


def test_at_boot_an_update_interrupted_on_trial_is_rolled_back_before_the_agent_starts(box):
    interrupted(box, Phase.TRIAL)
    pid = box.supervisor.pid()
    result = box.updater.resume(restart=False)
    assert (result.outcome, result.id) == (Outcome.ROLLED_BACK, "u1")
    assert box.links() == ("1.0", "1.0", None) and box.supervisor.pid() == pid


def test_an_update_interrupted_after_it_proved_healthy_is_committed(box):
    interrupted(box, Phase.HEALTHY)
    result = box.updater.resume(restart=False)
    assert (result.outcome, result.id) == (Outcome.COMMITTED, "u1")
    assert box.links() == ("2.0", "2.0", "1.0") and read_status(box.layout).pending is None


def test_rollback_on_request_returns_to_the_previous_release(box):
    box.install(box.artifact("2.0"))
    assert [box.reports.next()[:2] for _ in range(2)] == [("stopped", "1.0"), ("ready", "2.0")]
    result = box.updater.rollback()
    assert (result.outcome, result.version, result.previous) == (Outcome.ROLLED_BACK, "1.0", "2.0")
    assert [box.reports.next()[:2] for _ in range(2)] == [("stopped", "2.0"), ("ready", "1.0")]
    assert box.links() == ("1.0", "1.0", "2.0")


def test_the_running_release_is_not_installed_again(box):
    again = box.artifact("1.0")
    with pytest.raises(UpdateRejected, match=r"release 1\.0 is the one running already"):
        box.install(again)
    assert box.links() == ("1.0", "1.0", None)


def test_a_rollback_after_a_migration_says_the_store_moved_on(box):
    """The previous release refuses a newer schema today: the result must say why it may not come up."""
    open_store(box.layout.data).close()
    result = box.install(box.artifact("2.0", "migrate-and-crash"))
    assert result.outcome is Outcome.ROLLED_BACK
    assert f"migrated the store from schema {LATEST} to {LATEST + 1}" in result.reason


def test_a_request_the_agent_queues_is_refused_at_once_while_a_sale_is_scanned(box):
    update = box.artifact("2.0")
    (box.layout.data / "busy").touch()
    with pytest.raises(UpdateDeferred, match="a sale is being scanned"):
        request_update(box.layout, Source(file=update.file), update.sha256, update.signature)
    assert not box.layout.request_file.exists()
    with pytest.raises(UpdateRejected, match="not base64"):
        request_update(box.layout, Source(file=update.file), update.sha256, "¡no!")


def test_the_real_agent_passes_the_health_gate_with_its_own_sd_notify(tmp_path, key):
    """A release whose bin/tillbridge is the shell wrapper of docs/updates.md around this checkout."""
    layout = Layout(tmp_path / "root")
    config = write_config(tmp_path)
    release = tmp_path / "release"
    entry = release / "bin" / "tillbridge"
    entry.parent.mkdir(parents=True)
    entry.write_text(f'#!/bin/sh\nexec {sys.executable} -P -m tillbridge "$@"\n')
    entry.chmod(0o755)
    sha256 = pack(release, "0.1.0", tmp_path / "real.tar.gz")
    args = ("agent", "--config", str(config), "--provisioning", str(tmp_path / "none.toml"))
    supervisor = ProcessSupervisor(layout, args, stop_timeout=10)
    updater = Updater(layout, supervisor, [Path(f"{key}.pub")], HealthPolicy(30, None, 0.2))
    try:
        result = updater.install(Source(file=tmp_path / "real.tar.gz"), sha256, signing.sign(key, sha256))
        assert (result.outcome, result.agent_ready) == (Outcome.COMMITTED, True)
        assert supervisor.pid() is not None
    finally:
        supervisor.stop()
    assert "stopped cleanly" in (layout.state_dir / "agent.log").read_text()
