"""Replacing a file so that after a power cut it holds either the old or the new content, never a mix."""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str, default_mode: int = 0o600) -> None:
    """Write a temp file beside `path`, flush it to disk, rename it over `path`, then flush the directory.

    The file keeps the mode of the one it replaces; a new file gets `default_mode`, private by default
    because configs may carry secrets.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else default_mode
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _remove_leftovers(path: Path) -> None:
    """Temp files of a write that a power cut or kill -9 interrupted before its rename."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)


def fsync_dir(directory: Path) -> None:
    """Some filesystems (FAT on a boot partition among them) refuse fsync on a directory: not fatal."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
