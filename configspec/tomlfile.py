"""Reading a config file into plain tables, with an error that names the file and says what to fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from configspec.problems import ConfigFileError, Problem


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables; a missing, unreadable, non-UTF-8 or malformed file is a `ConfigFileError`."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigFileError(Problem((), f"cannot read: {exc.strerror or exc}", file)) from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigFileError(Problem((), f"not UTF-8 text (byte {exc.start})", file)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(Problem((), f"invalid TOML: {exc}", file)) from exc
