"""Queued updates: how the agent, which may not restart itself, hands an update to the root updater.

The agent (the MQTT `update` command) calls `request_update()`: the request is checked (formats, guards,
nothing else queued or on trial) so a refusal reaches support at once, then written atomically to
`<data>/update-request.json` (the agent's folder). systemd's `tillbridge-update.path` sees the file and starts
`tillbridge-update.service`, whose `tillbridge update run` takes the request (deleting it, so the path unit
does not fire again) and runs it. The outcome lands in `update/last.json` under the request's id, which
the agent reads with `read_status()` and reports once it is back.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_agent.config.atomic import atomic_write
from firmware_agent.updates import guards, signing
from firmware_agent.updates.artifact import Source
from firmware_agent.updates.errors import UpdateDeferred, UpdateRejected
from firmware_agent.updates.guards import GuardPolicy
from firmware_agent.updates.layout import Layout, read_small

REMOTE_CONNECT_TIMEOUT = 120.0  # a remotely asked update must bring the link back, or support loses the box


@dataclass(frozen=True)
class UpdateRequest:
    id: str
    source: Source
    sha256: str
    signature: str
    connect_timeout: float | None = REMOTE_CONNECT_TIMEOUT
    allow_downgrade: bool = False

    def to_dict(self) -> dict[str, Any]:
        where = {"url": self.source.url} if self.source.url else {"file": str(self.source.file)}
        return {
            "id": self.id,
            **where,
            "sha256": self.sha256,
            "signature": self.signature,
            "connect_timeout": self.connect_timeout,
            "allow_downgrade": self.allow_downgrade,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> UpdateRequest:
        try:
            file = data.get("file")
            source = Source(url=data.get("url"), file=Path(file) if file else None)
            timeout = data.get("connect_timeout")
            return cls(
                str(data["id"]),
                source,
                signing.check_sha256(str(data["sha256"])),
                str(data["signature"]),
                None if timeout is None else float(timeout),
                data.get("allow_downgrade") is True,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UpdateRejected(f"{where}: not an update request ({exc})") from exc


def request_update(
    layout: Layout,
    source: Source,
    sha256: str,
    signature: str,
    *,
    connect_timeout: float | None = REMOTE_CONNECT_TIMEOUT,
    guard: GuardPolicy | None = None,
    now: Callable[[], float] = time.time,
    allow_downgrade: bool = False,
) -> UpdateRequest:
    """Queue an update for tillbridge-update.service; raises UpdateRejected / UpdateDeferred at once."""
    request = UpdateRequest(
        uuid.uuid4().hex[:12],
        source,
        signing.check_sha256(sha256),
        signature,
        connect_timeout,
        allow_downgrade,
    )
    signing.decode_signature(signature)
    if layout.request_file.exists():
        raise UpdateDeferred(f"{layout.request_file}: another update is queued")
    if layout.pending_file.exists():
        raise UpdateDeferred(f"{layout.pending_file}: an update is on trial")
    guards.check(layout.data, guard or GuardPolicy(), now)
    atomic_write(layout.request_file, json.dumps(request.to_dict()) + "\n", default_mode=0o640)
    return request


def take_request(layout: Layout) -> UpdateRequest | None:
    """Read and delete the queued request (a malformed one is deleted too, then refused)."""
    path = layout.request_file
    try:
        text = read_small(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UpdateRejected(f"{path}: not an update request ({exc})") from exc
    finally:
        path.unlink(missing_ok=True)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UpdateRejected(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise UpdateRejected(f"{path}: expected a JSON object")
    return UpdateRequest.from_dict(data, str(path))
