"""Where releases and the updater's state live on the data partition, and the atomic switch between them.

```
<root>/releases/<version>/     one self-contained release each (bin/tillbridge, release.json, lib/)
<root>/current   -> releases/…  what the agent runs (/usr/local/bin/tillbridge leads here)
<root>/committed -> releases/…  the last release that proved healthy: where a failed update goes back to
<root>/previous  -> releases/…  the committed release before that: `tillbridge update rollback` target
<root>/update/                  pending.json, last.json, lock, downloads/ (the updater's)
<data>/update-request.json      a queued request, written by the agent, taken by tillbridge-update.service
```
The root (`/opt/tillbridge`) belongs to root and the agent may only read it: root runs the releases
(tillbridge-update.service, firstboot), so nothing in it may be writable by the agent, whose own folder
(`<data>`, `/var/lib/tillbridge`: the store, the link marker, the queued request) holds only data that the
updater reads with care (`read_small`).
Links are relative, so the tree works wherever the partition is mounted (an image being built, /data).
A link is switched by creating it under a temporary name and renaming it over the old one: rename(2) is
atomic, `ln -sfn` is not (it unlinks first).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from firmware_agent.config.atomic import fsync_dir
from firmware_agent.updates.errors import UpdateRejected

DEFAULT_ROOT = Path("/opt/tillbridge")
DEFAULT_DATA = Path("/var/lib/tillbridge")  # the agent's data folder (box.data_dir)
SMALL_FILE = 64 * 1024
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,63}")
LINKS = ("current", "committed", "previous")
INCOMING_PREFIX = ".incoming-"


def read_small(path: Path, limit: int = SMALL_FILE) -> str:
    """A small regular file the agent wrote, read by root: never through a symlink (the agent could point
    it at a secret, or a FIFO that blocks), never more than `limit` bytes. OSError or ValueError otherwise.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{path}: not a regular file")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path}: larger than {limit} bytes")
    return data.decode("utf-8")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Orders release names as people read them: `1.10.0` after `1.9.2`, `2.0` after `2.0rc1`.

    Runs of digits compare as numbers, runs of letters as text; where one name ends, a number in the other
    makes it newer (`1.0.1` after `1.0`) and letters make it older (a pre-release: `1.0rc1` before `1.0`).
    """
    parts = re.findall(r"\d+|[A-Za-z]+", version)
    key = [(2, int(p)) if p.isdigit() else (0, p.lower()) for p in parts]
    return (*key, (1, 0))


def check_version(version: str, where: str) -> str:
    if not VERSION.fullmatch(version):
        raise UpdateRejected(f"{where}: version {version!r} is not a valid release name ([0-9A-Za-z._+-])")
    return version


@dataclass(frozen=True)
class Layout:
    root: Path = DEFAULT_ROOT
    data_dir: Path | None = None  # the agent's data folder (store, link marker); the root by default

    @property
    def data(self) -> Path:
        return self.data_dir or self.root

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def state_dir(self) -> Path:
        return self.root / "update"

    @property
    def downloads(self) -> Path:
        return self.state_dir / "downloads"

    @property
    def pending_file(self) -> Path:
        return self.state_dir / "pending.json"

    @property
    def last_file(self) -> Path:
        return self.state_dir / "last.json"

    @property
    def request_file(self) -> Path:
        return self.data / "update-request.json"

    def release(self, version: str) -> Path:
        return self.releases / check_version(version, str(self.releases))

    def version_of(self, link: str) -> str | None:
        """The release a link points at, or None when the link is missing or dangling."""
        path = self.root / link
        if not path.is_symlink() or not path.resolve().is_dir():
            return None
        return path.readlink().name

    def point(self, link: str, version: str | None) -> None:
        """Atomically make `link` lead to releases/<version> (or remove it when version is None)."""
        path = self.root / link
        if version is None:
            path.unlink(missing_ok=True)
        else:
            target = self.release(version)
            if not target.is_dir():
                raise UpdateRejected(f"{target}: no such release")
            tmp = path.with_name(f".{link}.tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(Path("releases") / version)
            tmp.replace(path)
        fsync_dir(self.root)

    def installed(self) -> list[str]:
        if not self.releases.is_dir():
            return []
        return sorted(p.name for p in self.releases.iterdir() if p.is_dir() and VERSION.fullmatch(p.name))

    def linked(self) -> set[str]:
        return {v for v in (self.version_of(link) for link in LINKS) if v is not None}

    def prune(self) -> list[str]:
        """Delete releases no link leads to, and half-extracted leftovers; returns the versions removed."""
        keep = self.linked()
        removed = [v for v in self.installed() if v not in keep]
        for version in removed:
            shutil.rmtree(self.releases / version, ignore_errors=True)
        self.remove_leftovers()
        return removed

    def remove_leftovers(self) -> None:
        if self.releases.is_dir():
            for stale in self.releases.glob(INCOMING_PREFIX + "*"):
                shutil.rmtree(stale, ignore_errors=True)
