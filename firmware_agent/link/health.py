"""What the box reports about itself: the birth on `state` and the periodic `telemetry`."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from wire import State, Telemetry, now_ts

THERMAL_ZONE: Final = Path("/sys/class/thermal/thermal_zone0/temp")


def birth(version: str, boot: int, config_hash: str, epoch: str | None = None) -> State:
    return State(True, version=version, boot=boot, config_hash=config_hash[:64], ts=now_ts(), epoch=epoch)


def telemetry(
    uptime_s: float,
    backlog: int,
    devices: Mapping[str, str],
    data_dir: Path,
    journal_bytes: int,
    *,
    epoch: str | None = None,
    store_lost: str | None = None,
    counters: Mapping[str, int] | None = None,
) -> Telemetry:
    return Telemetry(
        uptime_s=max(0, int(uptime_s)),
        backlog=max(0, backlog),
        devices=dict(devices),
        disk_free_mb=round(disk_free_mb(data_dir), 1),
        journal_mb=round(journal_bytes / 1e6, 6),
        temperature_c=cpu_temperature(),
        ts=now_ts(),
        epoch=epoch,
        store_lost=store_lost[:1024] if store_lost else None,
        counters=dict(counters) if counters else None,
    )


def disk_free_mb(folder: Path) -> float:
    """Free space where the store lives (its nearest existing parent), in MB."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free / 1e6
    return 0.0


def cpu_temperature(zone: Path = THERMAL_ZONE) -> float | None:
    """°C from the kernel's thermal zone (millidegrees), or None on a machine without one."""
    try:
        return round(int(zone.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        return None
