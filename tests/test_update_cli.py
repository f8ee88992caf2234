"""`tillbridge update`: a release builder's keygen, pack and sign, then install, queue, status and
rollback on a box whose agent runs as a child process (no systemd here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware_agent.updates import Layout, ProcessSupervisor
from tests.update_helpers import Reports, make_release
from tillbridge.cli import main


@pytest.fixture
def box(tmp_path, monkeypatch) -> Iterator[Layout]:
    reports = Reports()
    layout = Layout(tmp_path / "root")
    monkeypatch.setenv("FAKE_REPORT", reports.name)
    monkeypatch.setenv("FAKE_DATA_DIR", str(layout.data))
    try:
        yield layout
    finally:
        ProcessSupervisor(layout).stop()  # the agent the CLI left running, as a service would be
        reports.close()


def run(capsys, *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["update", *args])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    return code, json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}, err


def build(capsys, tmp_path: Path, version: str, behaviour: str = "good") -> dict[str, Any]:
    """What a release builder does: pack the folder, sign the artifact."""
    key = tmp_path / "release.key"
    if not key.exists():
        assert run(capsys, "keygen", "--out", str(key))[0] == 0
    folder = make_release(tmp_path / f"build-{version}", version, behaviour)
    out = tmp_path / f"tillbridge-{version}.tar.gz"
    code, packed, _ = run(capsys, "pack", str(folder), "--version", version, "--out", str(out))
    assert code == 0 and packed["version"] == version
    code, signed, _ = run(capsys, "sign", "--key", str(key), str(out))
    assert code == 0 and signed["sha256"] == packed["sha256"]
    return signed


def on_box(layout: Layout, tmp_path: Path) -> list[str]:
    return ["--root", str(layout.root), "--key", str(tmp_path / "release.key.pub"), "--agent", "process"]


def install(capsys, layout, tmp_path, signed, *extra: str) -> tuple[int, dict[str, Any], str]:
    source = ["--file", signed["file"], "--sha256", signed["sha256"], "--signature", signed["signature"]]
    timing = ["--ready-timeout", "10", "--connect-timeout", "10", "--settle", "0.2"]
    return run(capsys, "install", *source, *on_box(layout, tmp_path), *timing, *extra)


def test_a_built_and_signed_release_installs_and_status_reports_it(capsys, box, tmp_path):
    first = build(capsys, tmp_path, "1.0")
    code, result, _ = install(capsys, box, tmp_path, first, "--no-restart")
    assert code == 0 and result["outcome"] == "committed"
    code, result, _ = install(capsys, box, tmp_path, build(capsys, tmp_path, "2.0"))
    assert code == 0 and (result["outcome"], result["previous"]) == ("committed", "1.0")
    code, status, _ = run(capsys, "status", "--root", str(box.root))
    assert code == 0 and (status["current"], status["previous"], status["pending"]) == ("2.0", "1.0", None)
    assert status["last"]["outcome"] == "committed"


def test_a_rolled_back_update_exits_1_and_a_refused_one_2_with_the_reason(capsys, box, tmp_path):
    install(capsys, box, tmp_path, build(capsys, tmp_path, "1.0"), "--no-restart")
    code, result, _ = install(capsys, box, tmp_path, build(capsys, tmp_path, "2.0", "crash"))
    assert code == 1 and result["outcome"] == "rolled_back" and "exited with status 3" in result["reason"]
    bad = {**build(capsys, tmp_path, "3.0"), "signature": build(capsys, tmp_path, "4.0")["signature"]}
    code, _, err = install(capsys, box, tmp_path, bad)
    assert code == 2 and "does not verify against" in err and err.startswith("tillbridge update: ")


def test_the_self_check_waits_as_long_as_check_timeout_says(capsys, box, tmp_path):
    """An image built for arm64 on an x86-64 host runs the release's --version under qemu-user, which took
    more than the updater's 60 s: the image build passes a longer --check-timeout."""
    slow = build(capsys, tmp_path, "1.0", "slow-version")
    code, _, err = install(capsys, box, tmp_path, slow, "--no-restart", "--check-timeout", "0.5")
    assert code == 2 and "--version did not run" in err and "timed out after 0.5 seconds" in err
    assert run(capsys, "status", "--root", str(box.root))[1]["current"] is None  # nothing installed


def test_a_queued_request_is_run_by_the_service_command(capsys, box, tmp_path):
    install(capsys, box, tmp_path, build(capsys, tmp_path, "1.0"), "--no-restart")
    code, request, _ = install(capsys, box, tmp_path, build(capsys, tmp_path, "2.0"), "--queue")
    assert code == 0 and box.request_file.exists()
    code, _, err = install(capsys, box, tmp_path, build(capsys, tmp_path, "3.0"), "--queue")
    assert code == 2 and "another update is queued" in err
    code, result, _ = run(capsys, "run", *on_box(box, tmp_path), "--settle", "0.2")
    assert code == 0 and (result["id"], result["outcome"]) == (request["id"], "committed")
    assert not box.request_file.exists()
    assert run(capsys, "run", *on_box(box, tmp_path))[1] == {"outcome": None, "reason": "nothing to do"}


def test_rollback_goes_back_and_refuses_when_there_is_nothing_before(capsys, box, tmp_path):
    install(capsys, box, tmp_path, build(capsys, tmp_path, "1.0"), "--no-restart")
    code, _, err = run(capsys, "rollback", *on_box(box, tmp_path))
    assert code == 2 and "no previous release to roll back to" in err
    install(capsys, box, tmp_path, build(capsys, tmp_path, "2.0"))
    code, result, _ = run(capsys, "rollback", *on_box(box, tmp_path))
    assert code == 0 and (result["outcome"], result["version"]) == ("rolled_back", "1.0")
    assert box.version_of("current") == "1.0"
