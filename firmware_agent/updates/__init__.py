"""Updates with rollback: versioned releases on the data partition, an atomic switch, a health gate.

The public surface (docs/updates.md explains the procedure):
- `request_update(layout, source, sha256, signature)` — what the agent's remote `update` command calls:
  checks and queues the update for tillbridge-update.service, raises `UpdateRejected`/`UpdateDeferred`.
- `read_status(layout)` — what runs, what is kept, how the last update ended (for status replies).
- `Updater(layout, supervisor, keys).install(...)` / `.resume()` / `.rollback()` / `.run_queued()` —
  the procedure itself, run as root by `tillbridge update` and the units.
- `note_link_up(data_dir)` — the MQTT link's word that it is connected, for the health gate.
- `ActivityMarker(data_dir)` — a core loop listener that holds updates off while a sale is scanned.
"""

from firmware_agent.updates.artifact import Source
from firmware_agent.updates.errors import (
    BadSignature,
    ChecksumMismatch,
    DownloadError,
    UpdateDeferred,
    UpdateError,
    UpdateRejected,
)
from firmware_agent.updates.guards import ActivityMarker, GuardPolicy
from firmware_agent.updates.health import note_link_up
from firmware_agent.updates.layout import DEFAULT_ROOT, Layout
from firmware_agent.updates.request import UpdateRequest, request_update
from firmware_agent.updates.state import Outcome, UpdateResult
from firmware_agent.updates.supervisor import ProcessSupervisor, SystemdSupervisor
from firmware_agent.updates.updater import HealthPolicy, Status, Updater, read_status

__all__ = [
    "DEFAULT_ROOT",
    "ActivityMarker",
    "BadSignature",
    "ChecksumMismatch",
    "DownloadError",
    "GuardPolicy",
    "HealthPolicy",
    "Layout",
    "Outcome",
    "ProcessSupervisor",
    "Source",
    "Status",
    "SystemdSupervisor",
    "UpdateDeferred",
    "UpdateError",
    "UpdateRejected",
    "UpdateRequest",
    "UpdateResult",
    "Updater",
    "note_link_up",
    "read_status",
    "request_update",
]
