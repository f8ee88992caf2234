"""The audit trail of remote commands: one JSON line per command in the data dir, and one log line.

Written for every command that arrives, run or refused, before the reply goes out. Values of keys named like
secrets (`password`, `*_key`, …) are masked, so the trail can be handed to anyone who asks what support did.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firmware_agent.config.rules import is_secret_name
from wire import now_ts

log = logging.getLogger("tillbridge.audit")

MASK = "***"


def masked(value: Any) -> Any:
    """`value` with every secret-named key's value replaced by `***`, at any depth."""
    if isinstance(value, Mapping):
        return {str(k): MASK if is_secret_name(str(k)) else masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, entry: Mapping[str, Any]) -> None:
        record = {"ts": now_ts(), **masked(entry)}
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        log.info("command %s", line)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8", errors="backslashreplace") as out:
                out.write(line + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            log.error("cannot write the audit log %s: %s", self.path, exc)
