"""A fingerprint of the effective config, so support can tell which config a box runs without seeing it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import PurePath

from configspec import Secret, Section


def config_hash(config: Section) -> str:
    """sha256 hex of the validated values, defaults included.

    Key order, comments and formatting of the file do not change it; a changed secret does (its value is
    hashed, never shown). Keys left at None are omitted, so adding an optional key in a release keeps the
    hash of configs that do not use it.
    """
    text = json.dumps(
        _plain(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return {name: _plain(v) for name, v in fields if v is not None}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, PurePath):
        return str(value)
    return value
