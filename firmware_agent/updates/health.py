"""The agent's word that its MQTT link is up, for the updater's health gate.

READY=1 says the store opened and the devices started; it says nothing about reaching the broker. A release
that cannot connect (a broken TLS stack, a changed client id) would leave remote support blind, so a remote
update also waits for this marker. The link calls `note_link_up(data_dir)` after each successful CONNACK;
the marker names the process, so one written by the release before the restart does not count.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from firmware_agent.config.atomic import atomic_write
from firmware_agent.updates.layout import read_small

LINK_MARKER = "link-up.json"


def note_link_up(data_dir: Path, pid: int | None = None) -> None:
    record = {"pid": os.getpid() if pid is None else pid, "at": time.time()}
    atomic_write(data_dir / LINK_MARKER, json.dumps(record) + "\n", default_mode=0o644)


def link_up_pid(data_dir: Path) -> int | None:
    """The process that last reported its link up, or None."""
    try:
        pid = json.loads(read_small(data_dir / LINK_MARKER)).get("pid")
    except (OSError, ValueError, AttributeError):
        return None
    return pid if isinstance(pid, int) else None
