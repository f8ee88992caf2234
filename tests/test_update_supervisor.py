"""SystemdSupervisor against a stand-in `systemctl` (systemd does not run here): the exit status of a
blocking `systemctl restart` is the READY gate, `systemctl show` tells whether the agent stays up."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from firmware_agent.updates.supervisor import Ready, SystemdSupervisor

FAKE_SYSTEMCTL = """
import json, sys, time
from pathlib import Path
here = Path(sys.argv[0]).parent
with (here / "calls").open("a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
plan = json.loads((here / "plan.json").read_text())
if sys.argv[1] == "reset-failed":
    sys.exit(0)
if sys.argv[1] == "restart":
    if plan["restart"] == "hang":
        time.sleep(60)  # a unit that never sends READY=1: systemctl waits for the job
    print(plan["restart"], file=sys.stderr)
    sys.exit(0 if plan["restart"] == "ok" else 1)
states = plan["show"]
n = len((here / "calls").read_text().splitlines())
for line in states[min(n, len(states)) - 1]:
    print(line)
"""


@pytest.fixture
def systemctl(tmp_path):
    script = tmp_path / "systemctl.py"
    script.write_text(FAKE_SYSTEMCTL)

    def plan(restart="ok", show=()):
        (tmp_path / "plan.json").write_text(json.dumps({"restart": restart, "show": list(show)}))
        return SystemdSupervisor("tillbridge-agent.service", systemctl=(sys.executable, str(script)))

    plan.calls = lambda: (tmp_path / "calls").read_text().splitlines()  # type: ignore[attr-defined]
    return plan


def test_restart_clears_a_start_limit_and_is_ready_when_systemctl_returns_0(systemctl):
    supervisor = systemctl("ok")
    assert supervisor.restart(10).state is Ready.READY
    assert systemctl.calls() == ["reset-failed tillbridge-agent.service", "restart tillbridge-agent.service"]


def test_a_failed_start_carries_systemctls_words(systemctl):
    readiness = systemctl("Job for tillbridge-agent.service failed").restart(10)
    assert readiness.state is Ready.FAILED and "Job for tillbridge-agent.service failed" in readiness.detail


def test_a_start_that_never_ends_times_out(systemctl):
    readiness = systemctl("hang").restart(0.5)
    assert readiness.state is Ready.TIMEOUT and "sent no READY=1 within 0.5 s" in readiness.detail


def test_the_agent_stays_up_while_systemd_shows_it_running_with_the_same_pid(systemctl):
    running = ["ActiveState=active", "SubState=running", "MainPID=4242"]
    supervisor = systemctl(show=[["MainPID=4242"], running])
    assert supervisor.pid() == 4242
    assert supervisor.stays_up(0)
    assert "show tillbridge-agent.service --property=MainPID" in systemctl.calls()


@pytest.mark.parametrize(
    "later",
    [
        ["ActiveState=activating", "SubState=auto-restart", "MainPID=0"],  # crashed, Restart= pending
        ["ActiveState=active", "SubState=running", "MainPID=5151"],  # restarted already: another process
        ["ActiveState=failed", "SubState=failed", "MainPID=0"],
    ],
)
def test_a_crash_or_a_restart_behind_our_back_is_not_staying_up(systemctl, later):
    supervisor = systemctl(show=[["MainPID=4242"], later])
    assert not supervisor.stays_up(30)  # returns at the first look, not after 30 s


def test_no_main_process_is_no_pid(systemctl, tmp_path: Path):
    assert systemctl(show=[["MainPID=0"]]).pid() is None
