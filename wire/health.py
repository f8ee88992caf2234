"""What a box says about itself: its retained birth / Last Will (`state`) and periodic `telemetry`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from wire._fields import (
    Obj,
    as_bool,
    as_count,
    as_count_map,
    as_epoch,
    as_id,
    as_number,
    as_str,
    as_str_map,
    as_ts,
    compact,
    opt,
    req,
)
from wire.errors import MalformedMessage
from wire.topics import Kind

_BIRTH_FIELDS = ("version", "boot", "config_hash", "ts")


@dataclass(frozen=True, slots=True)
class State:
    """Online (a birth: every field set) or offline (the Last Will, or a clean shutdown).

    The Will is fixed when the box connects, so it can only carry the boot counter: the cloud pairs a Will
    with its birth by `boot` and ignores a late Will from a previous boot (Sparkplug's bdSeq, simplified).
    A birth names the epoch of the box's store (its journal stream); boxes older than epochs leave it out,
    so it stays optional in v1.
    """

    KIND: ClassVar[Kind] = Kind.STATE

    online: bool
    version: str | None = None
    boot: int | None = None
    config_hash: str | None = None
    ts: str | None = None
    epoch: str | None = None

    @classmethod
    def offline(cls, boot: int | None = None, ts: str | None = None) -> State:
        return cls(False, boot=boot, ts=ts)

    @classmethod
    def from_json(cls, obj: Obj) -> State:
        state = cls(
            online=req(obj, "online", as_bool),
            version=opt(obj, "version", as_id),
            boot=opt(obj, "boot", as_count),
            config_hash=opt(obj, "config_hash", as_id),
            ts=opt(obj, "ts", as_ts),
            epoch=opt(obj, "epoch", as_epoch),
        )
        if state.online:
            for name in _BIRTH_FIELDS:
                if getattr(state, name) is None:
                    raise MalformedMessage(name, "required field is missing (an online state is a birth)")
        return state

    def to_json(self) -> Obj:
        return compact(
            {
                "online": self.online,
                "version": self.version,
                "boot": self.boot,
                "config_hash": self.config_hash,
                "ts": self.ts,
                "epoch": self.epoch,
            }
        )


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Health for the fleet view. `devices` maps a device name to its state (`ok`, `absent`, `error`,
    `unknown`, as in `devices.readings.DeviceState`); `backlog` counts journal entries not yet acked.
    `epoch` is the store's; `store_lost` says, while the store is one that replaced a lost one, what was
    lost and why (absent on a box whose store is its first).
    """

    KIND: ClassVar[Kind] = Kind.TELEMETRY

    uptime_s: int
    backlog: int
    devices: Mapping[str, str] = field(hash=False)
    disk_free_mb: float
    journal_mb: float
    temperature_c: float | None
    ts: str
    epoch: str | None = None
    store_lost: str | None = None
    counters: Mapping[str, int] | None = field(default=None, hash=False)
    """Services' counters: `receipts_read`, `receipts_unreadable`, `receipts_unmatched_lines`, …"""

    @classmethod
    def from_json(cls, obj: Obj) -> Telemetry:
        return cls(
            uptime_s=req(obj, "uptime_s", as_count),
            backlog=req(obj, "backlog", as_count),
            devices=req(obj, "devices", as_str_map),
            disk_free_mb=req(obj, "disk_free_mb", as_number),
            journal_mb=req(obj, "journal_mb", as_number),
            temperature_c=opt(obj, "temperature_c", as_number),
            ts=req(obj, "ts", as_ts),
            epoch=opt(obj, "epoch", as_epoch),
            store_lost=opt(obj, "store_lost", as_str),
            counters=opt(obj, "counters", as_count_map),
        )

    def to_json(self) -> Obj:
        return compact(
            {
                "uptime_s": self.uptime_s,
                "backlog": self.backlog,
                "devices": dict(self.devices),
                "disk_free_mb": self.disk_free_mb,
                "journal_mb": self.journal_mb,
                "temperature_c": self.temperature_c,
                "ts": self.ts,
                "epoch": self.epoch,
                "store_lost": self.store_lost,
                "counters": dict(self.counters) if self.counters else None,
            }
        )
