"""Restarting the agent and learning whether it came up: through systemd, or as a child process.

On the box systemd owns the agent: `systemctl restart` of a `Type=notify` unit returns 0 once the new
process sent READY=1 and fails when it exits first, so the exit status is the READY gate. Without systemd
(a developer machine, the tests) `ProcessSupervisor` starts `current/bin/tillbridge agent` itself and is
the NOTIFY_SOCKET listener, speaking the same sd_notify protocol the agent speaks to systemd.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from firmware_agent.updates.layout import Layout

log = logging.getLogger(__name__)

AGENT_UNIT = "tillbridge-agent.service"


class Ready(StrEnum):
    READY = "ready"
    FAILED = "failed"  # it exited (or systemd gave up) before READY=1
    TIMEOUT = "timeout"  # still starting when the deadline passed


@dataclass(frozen=True)
class Readiness:
    state: Ready
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state is Ready.READY


class Supervisor(Protocol):
    def restart(self, timeout: float) -> Readiness:
        """Stop the agent, start the release `current` leads to, wait up to `timeout` s for READY=1."""
        ...

    def pid(self) -> int | None:
        """The agent's main process, or None when it is not running."""
        ...

    def stays_up(self, seconds: float) -> bool:
        """Wait `seconds`; False as soon as the agent stops or is replaced."""
        ...


class SystemdSupervisor:
    def __init__(self, unit: str = AGENT_UNIT, systemctl: Sequence[str] = ("systemctl",)) -> None:
        self.unit = unit
        self.systemctl = tuple(systemctl)

    def restart(self, timeout: float) -> Readiness:
        """A release that crashed in a loop may have hit the unit's start limit: clear it first, or the
        restart of the release to go back to would be refused."""
        self._systemctl("reset-failed", self.unit, timeout=30)
        try:
            done = self._systemctl("restart", self.unit, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Readiness(Ready.TIMEOUT, f"{self.unit} sent no READY=1 within {timeout:g} s")
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()
            return Readiness(Ready.FAILED, f"{self.unit} failed to start: {' '.join(why)[-300:]}")
        return Readiness(Ready.READY)

    def pid(self) -> int | None:
        main = self._show("MainPID").get("MainPID", "0")
        return int(main) if main.isdigit() and main != "0" else None

    def stays_up(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        first = self.pid()
        while True:
            state = self._show("ActiveState", "SubState", "MainPID")
            if (state.get("ActiveState"), state.get("SubState")) != ("active", "running"):
                return False
            if first is None or state.get("MainPID") != str(first):
                return False
            left = end - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(1.0, left))  # polling systemd, not synchronising with it

    def _show(self, *props: str) -> dict[str, str]:
        done = self._systemctl("show", self.unit, *(f"--property={p}" for p in props), timeout=30)
        pairs = (line.partition("=") for line in done.stdout.splitlines())
        return {key: value for key, _, value in pairs if key}

    def _systemctl(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.systemctl, *args], capture_output=True, text=True, timeout=timeout, check=False
        )


class ProcessSupervisor:
    """The agent as a child process; its pid is kept in `update/agent.pid` so a later run can stop it.

    The child runs in its own session with its output in `update/agent.log`, so it outlives the updater
    like a service would.
    """

    def __init__(
        self,
        layout: Layout,
        args: Sequence[str] = ("agent",),
        env: Mapping[str, str] | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self.layout = layout
        self.args = tuple(args)
        self.env = dict(env or {})
        self.stop_timeout = stop_timeout
        self.pidfile = layout.state_dir / "agent.pid"
        self._child: subprocess.Popen[bytes] | None = None

    def restart(self, timeout: float) -> Readiness:
        self.stop()
        entry = (self.layout.root / "current" / "bin" / "tillbridge").resolve()
        with _notify_socket() as (sock, address):
            env = {**os.environ, **self.env, "NOTIFY_SOCKET": address}
            self.layout.state_dir.mkdir(parents=True, exist_ok=True)
            with (self.layout.state_dir / "agent.log").open("ab") as out:
                self._child = subprocess.Popen(
                    [str(entry), *self.args],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    env=env,
                    start_new_session=True,
                )
            self.pidfile.write_text(f"{self._child.pid} {_start_time(self._child.pid)}\n")
            return self._wait_ready(sock, self._child, timeout)

    def _wait_ready(self, sock: socket.socket, child: subprocess.Popen[bytes], timeout: float) -> Readiness:
        end = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel, _pidfd(child.pid) as exited:
            sel.register(sock, selectors.EVENT_READ)
            sel.register(exited, selectors.EVENT_READ)
            while (left := end - time.monotonic()) > 0:
                for key, _ in sel.select(left):
                    if key.fileobj is sock and b"READY=1" in sock.recv(4096).split(b"\n"):
                        return Readiness(Ready.READY)
                    if key.fileobj == exited:
                        return Readiness(Ready.FAILED, f"the agent exited with status {child.wait()}")
        return Readiness(Ready.TIMEOUT, f"the agent sent no READY=1 within {timeout:g} s")

    def pid(self) -> int | None:
        """The pid file may be stale and its number reused: the process must also have started when
        the one we ran did, and still be running."""
        try:
            pid, started = (int(field) for field in self.pidfile.read_text().split())
        except (OSError, ValueError):
            return None
        return pid if _start_time(pid) == started else None

    def stays_up(self, seconds: float) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        with _pidfd(pid) as exited, selectors.DefaultSelector() as sel:
            sel.register(exited, selectors.EVENT_READ)
            if sel.select(seconds):
                self._reap(pid)
                return False
        return True

    def stop(self) -> None:
        """SIGTERM (the agent commits its batch and leaves), SIGKILL after `stop_timeout` s."""
        if self._child is not None and self._child.poll() is not None:
            self._child = None  # ours, but stopped by another updater run
        pid = self.pid()
        if pid is None:
            return
        with _pidfd(pid) as exited, selectors.DefaultSelector() as sel:
            sel.register(exited, selectors.EVENT_READ)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
                if not sel.select(self.stop_timeout):
                    log.warning("agent %d ignored SIGTERM for %g s: killing it", pid, self.stop_timeout)
                    os.kill(pid, signal.SIGKILL)
                    sel.select(self.stop_timeout)
        self._reap(pid)
        self.pidfile.unlink(missing_ok=True)

    def _reap(self, pid: int) -> None:
        if self._child is not None and self._child.pid == pid:
            self._child.wait()
            self._child = None


def _start_time(pid: int) -> int | None:
    """When the process started (clock ticks after boot), or None when it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else int(fields[19])


@contextlib.contextmanager
def _notify_socket() -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket in the abstract namespace: nothing to clean up on disk, no path length limit."""
    name = f"tillbridge-update-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    try:
        sock.bind("\0" + name)
        yield sock, "@" + name
    finally:
        sock.close()


@contextlib.contextmanager
def _pidfd(pid: int) -> Iterator[int]:
    """A descriptor that becomes readable when the process ends, whether or not it is our child."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        fd = os.eventfd(1)  # already gone: an always-readable stand-in
    try:
        yield fd
    finally:
        os.close(fd)
