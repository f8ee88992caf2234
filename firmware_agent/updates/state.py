"""The updater's memory across crashes and reboots: the pending update and the last result, as JSON.

Both files are replaced atomically (temp file, fsync, rename), so after a power cut each holds its old or
its new content. While `pending.json` exists the box is on trial: `phase` says whether the new release has
already proved healthy (then the update is committed) or not yet (then it is rolled back).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from firmware_agent.config.atomic import atomic_write
from firmware_agent.updates.errors import UpdateError


class Phase(StrEnum):
    TRIAL = "trial"  # `current` leads (or is about to lead) to the new release, not yet proven
    HEALTHY = "healthy"  # it reached READY (and reconnected): only the bookkeeping of the commit is left


class Outcome(StrEnum):
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"
    REFUSED = "refused"


@dataclass(frozen=True)
class Pending:
    id: str
    version: str
    previous: str | None  # the committed release the update started from: where a rollback goes
    phase: Phase
    started_at: float
    schema: int | None = None  # the store's schema version before the switch, to explain a failed rollback


@dataclass(frozen=True)
class UpdateResult:
    id: str
    outcome: Outcome
    version: str | None  # the release asked for (None when refused before it was read)
    previous: str | None
    reason: str
    at: float
    agent_ready: bool | None = None  # the agent restarted at the end reached READY (None: not restarted)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def save(path: Path, record: Pending | UpdateResult) -> None:
    atomic_write(path, json.dumps(asdict(record), sort_keys=True) + "\n", default_mode=0o644)


def load_pending(path: Path) -> Pending | None:
    data = _load(path)
    if data is None:
        return None
    try:
        return Pending(**{**data, "phase": Phase(data["phase"])})
    except (TypeError, KeyError, ValueError) as exc:
        raise UpdateError(f"{path}: not a pending update ({exc}); remove it by hand after a look") from exc


def load_result(path: Path) -> UpdateResult | None:
    data = _load(path)
    if data is None:
        return None
    try:
        return UpdateResult(**{**data, "outcome": Outcome(data["outcome"])})
    except (TypeError, KeyError, ValueError):
        return None  # only a report: a damaged one is simply not shown


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UpdateError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise UpdateError(f"{path}: expected a JSON object")
    return data
