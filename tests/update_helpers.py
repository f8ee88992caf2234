"""Fake releases for the updater tests: small executables that behave like an agent at start-up.

Each `bin/tillbridge` is a Python script (this interpreter) that answers `--version`, then, per behaviour:
- `good` sends READY=1 through the real sd_notify code and reports its MQTT link up;
- `offline` sends READY=1 but never reports the link; `silent` never sends READY=1;
- `crash` exits 3 at once (`migrate-and-crash` first bumps the store's schema version, as a migration would);
- `flaky` sends READY=1, reports the link, then exits 4.
- `slow-version` never answers `--version` (the updater's self-check).
Every one that starts tells the test over the datagram socket named in FAKE_REPORT ("ready <version>
<pid>", "stopped ..." on SIGTERM), so tests wait on that socket instead of sleeping.
"""

from __future__ import annotations

import socket
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from firmware_agent.updates import signing
from firmware_agent.updates.artifact import pack

FAKE_AGENT = """#!{python}
import os, signal, socket, sys, time
VERSION, BEHAVIOUR = {version!r}, {behaviour!r}
if sys.argv[1:] == ["--version"]:
    if BEHAVIOUR == "slow-version":  # an interpreter compiling every module it imports, under emulation
        signal.pause()
    print("tillbridge", VERSION)
    sys.exit(0)
if BEHAVIOUR == "migrate-and-crash":  # what a new release's migration leaves behind
    import sqlite3
    with sqlite3.connect(os.path.join(os.environ["FAKE_DATA_DIR"], "tillbridge.db")) as db:
        db.execute("PRAGMA user_version = %d" % (db.execute("PRAGMA user_version").fetchone()[0] + 1))
if BEHAVIOUR in ("crash", "migrate-and-crash"):
    sys.exit(3)
sys.path.insert(0, {repo!r})
from pathlib import Path
from firmware_agent.sdnotify import Notifier
from firmware_agent.updates.health import note_link_up

def report(what):
    address = os.environ.get("FAKE_REPORT")
    if address:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(f"{{what}} {{VERSION}} {{os.getpid()}}".encode(), "\\0" + address)

signal.signal(signal.SIGTERM, lambda *_: (report("stopped"), sys.exit(0)))
if BEHAVIOUR != "silent":
    Notifier().ready("fake " + VERSION)
if BEHAVIOUR in ("good", "flaky"):
    note_link_up(Path(os.environ["FAKE_DATA_DIR"]))
report("ready" if BEHAVIOUR != "silent" else "started")
if BEHAVIOUR == "flaky":
    sys.exit(4)
while True:
    signal.pause()
"""

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Artifact:
    version: str
    file: Path
    sha256: str
    signature: str


def make_release(folder: Path, version: str, behaviour: str = "good") -> Path:
    entry = folder / "bin" / "tillbridge"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(
        FAKE_AGENT.format(python=sys.executable, version=version, behaviour=behaviour, repo=str(REPO))
    )
    entry.chmod(0o755)
    (folder / "lib").mkdir(exist_ok=True)
    (folder / "lib" / "README").write_text(f"the libraries of {version}\n")
    return folder


def build_artifact(work: Path, key: Path, version: str, behaviour: str = "good") -> Artifact:
    folder = make_release(work / f"src-{version}-{behaviour}", version, behaviour)
    out = work / f"tillbridge-{version}-{behaviour}.tar.gz"
    sha256 = pack(folder, version, out)
    return Artifact(version, out, sha256, signing.sign(key, sha256))


class Reports:
    """The test's end of FAKE_REPORT: `next()` is the next line a fake agent sent, within `timeout` s."""

    def __init__(self) -> None:
        self.name = f"tillbridge-test-{uuid.uuid4().hex}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)

    def next(self, timeout: float = 15.0) -> tuple[str, str, int]:
        self.sock.settimeout(timeout)
        what, version, pid = self.sock.recv(256).decode().split()
        return what, version, int(pid)

    def close(self) -> None:
        self.sock.close()
