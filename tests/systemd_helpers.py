"""A Debian trixie root with the target's systemd (257), udev and shellcheck, to lint the units in.

The host may run an older systemd (bookworm has 252, whose `systemd-analyze` reports false errors for newer
keys and has no `udevadm verify`), so the checks run in a chroot of the release the image is built from.
The root is built once per machine with mmdebstrap (about 30 s) and kept in the user's cache; each test
session works in a hard-linked copy, so what one session installs never leaks into the next.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SYSTEMD = REPO / "systemd"
SUITE = "trixie"
# The units order themselves against timesyncd and NetworkManager: with them present, verify sees cycles.
PACKAGES = ("systemd", "udev", "systemd-timesyncd", "network-manager", "shellcheck")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "SYSTEMD_COLORS": "0", "TERM": "dumb"}
STUB_TILLBRIDGE = (
    "#!/bin/sh\n# stands in for the application, which `systemd-analyze verify` wants to exist\n"
)


def require(condition: bool, message: str) -> None:
    """A missing tool fails the run with the package to install, it never skips the lint."""
    if not condition:
        pytest.fail(message, pytrace=False)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    packages = hashlib.sha256(" ".join(PACKAGES).encode()).hexdigest()[:12]
    return base / "tillbridge" / f"lint-root-{SUITE}-{packages}"  # a new package list builds a new root


def lint_root() -> Path:
    """The cached trixie root, built under a lock so parallel sessions build it once."""
    require(os.geteuid() == 0, "the systemd lint runs its tools in a chroot: run the tests as root")
    prebuilt = os.environ.get("TILLBRIDGE_LINT_ROOT")
    root = Path(prebuilt) if prebuilt else cache_dir()
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.with_name(root.name + ".lock")):
        if not (root / "usr/bin/systemd-analyze").exists():
            _build(root)
    return root


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build(root: Path) -> None:
    require(
        shutil.which("mmdebstrap") is not None,
        "mmdebstrap not found: install the Debian package `mmdebstrap` (./dev ensure_system); it builds "
        f"the {SUITE} root whose systemd lints the units",
    )
    partial = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
    command = ["mmdebstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "--mode=root"]
    done = subprocess.run(
        [*command, "--quiet", SUITE, str(partial)], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        pytest.fail(
            f"mmdebstrap could not build the {SUITE} lint root:\n{done.stderr[-3000:]}", pytrace=False
        )
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)


@contextmanager
def scratch_root() -> Iterator[Path]:
    """A throwaway copy of the lint root (hard links: under a second) with the repository in /src."""
    pristine = lint_root()
    scratch = Path(tempfile.mkdtemp(prefix="scratch.", dir=pristine.parent))
    try:
        copied = subprocess.run(["cp", "-al", f"{pristine}/.", str(scratch)], check=False)
        if copied.returncode != 0:  # hard links cannot cross filesystems
            subprocess.run(["cp", "-a", f"{pristine}/.", str(scratch)], check=True)
        for part in ("systemd", "image", "docs"):
            if (REPO / part).is_dir():
                shutil.copytree(REPO / part, scratch / "src" / part)
        stub = scratch / "usr/local/bin/tillbridge"
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(STUB_TILLBRIDGE)
        stub.chmod(0o755)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    """A scratch root with the units installed and enabled by systemd/install.sh, one per test module."""
    with scratch_root() as scratch:
        installed = in_root(scratch, "sh", "/src/systemd/install.sh", "--enable")
        assert installed.returncode == 0, installed.stdout
        yield scratch


def in_root(root: Path, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a command inside the root, with its own /proc (systemctl and systemd-tmpfiles refuse to work
    without one) in a mount namespace that disappears with it; stdout and stderr together."""
    unshare = ["unshare", "--fork", "--pid", f"--mount-proc={root}/proc"]
    return subprocess.run(
        [*unshare, shutil.which("chroot") or "/usr/sbin/chroot", str(root), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def clean(result: subprocess.CompletedProcess[str], what: str) -> None:
    """Exit 0 is not enough: `systemd-analyze verify` exits 0 after 'Failed to parse ..., ignoring'."""
    assert result.returncode == 0 and not result.stdout.strip(), (
        f"{what} (exit {result.returncode}):\n{result.stdout}"
    )


def scripts() -> Sequence[Path]:
    """Every shell script of the platform: systemd/ and, once it exists, image/."""
    found = [p for part in ("systemd", "image") for p in sorted((REPO / part).rglob("*.sh"))]
    return [p.relative_to(REPO) for p in found]
