"""`config.set`: a remote config change that undoes itself if it cuts the box off.

The change is merged over the config file (its comments and layout kept), validated by the same validator as
at start, and written atomically, with the previous file kept beside it as `<name>.previous`. The link then
restarts with the new settings and has `config_revert_s` to reach the broker; if it cannot, the previous file
is put back and the link restarts with it. The `.previous` file is also the crash guard: a box that finds one
at start is still on trial (it lost power mid-change) and reverts unless the new config connects in time.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, Final

from firmware_agent.config import AgentConfig, InvalidConfig, validate
from firmware_agent.config.atomic import atomic_write, fsync_dir
from firmware_agent.config.tomlfile import merged_text, read_toml
from firmware_agent.errors import ConfigError
from firmware_agent.link.commands import CommandFailed

FIXED = (("box", "id"), ("box", "shop"))  # the box's identity is provisioned, never changed remotely

# Keys an unsigned command may change: tuning that cannot move the box, change whom it trusts, what it
# types into the till PC or records as a sale, or where it sends what it knows. Every other key (the broker
# and its credentials, TLS files, client id, the command key and signing rules, scanners, forwarding,
# printer URL, data folder, provisioning) needs a command signed with `mqtt.command_key`. An allow-list,
# so a key added later needs a signature until someone decides otherwise.
UNSIGNED_OK: Final = frozenset(
    {
        "box.log_level",
        "box.watchdog",
        "store.journal_max_mb",
        "store.journal_warn_ratio",
        "printer.paper_mm",
        "printer.codepage",
        "printer.profile",
        "barcodes",
        *(
            f"mqtt.{key}"
            for key in (
                "keepalive_s",
                "session_expiry_h",
                "reconnect_min_s",
                "reconnect_max_s",
                "batch_entries",
                "batch_kb",
                "inflight_batches",
                "ack_timeout_s",
                "telemetry_s",
                "order_ttl_h",
                "config_revert_s",
            )
        ),
    }
)


def previous_path(path: Path) -> Path:
    return path.with_name(path.name + ".previous")


def on_trial(path: Path | None) -> bool:
    return path is not None and previous_path(path).exists()


def prepare(path: Path, values: Mapping[str, Any], current: AgentConfig) -> tuple[AgentConfig, str, str]:
    """(new config, new file text, current file text); `CommandFailed` listing every problem otherwise.

    A `null` value removes the key, so an optional setting can go back to its default.
    """
    try:
        old_text = path.read_text(encoding="utf-8")
        read_toml(path)  # a file the agent cannot read is refused here, naming the problem
        new_text = merged_text(old_text, values, file=str(path), none_deletes=True)
        new = validate(tomllib.loads(new_text), str(path))
    except InvalidConfig as exc:
        raise CommandFailed("config.set refused, nothing changed:\n" + str(exc)) from exc
    except (ConfigError, OSError, TypeError) as exc:
        raise CommandFailed(f"config.set refused, nothing changed: {exc}") from exc
    for table, key in FIXED:
        if getattr(getattr(new, table), key) != getattr(getattr(current, table), key):
            raise CommandFailed(f"config.set refused: {table}.{key} cannot be changed remotely")
    return new, new_text, old_text


def begin(path: Path, new_text: str, old_text: str) -> None:
    atomic_write(previous_path(path), old_text)
    atomic_write(path, new_text)


def confirm(path: Path) -> None:
    previous_path(path).unlink(missing_ok=True)
    fsync_dir(path.parent)


def revert(path: Path) -> AgentConfig:
    """Puts the previous file back and returns its config."""
    text = previous_path(path).read_text(encoding="utf-8")
    config = validate(tomllib.loads(text), str(path))
    atomic_write(path, text)
    confirm(path)
    return config


def needing_signature(old_text: str, new_text: str) -> list[str]:
    """The keys (`mqtt.url`) that differ between the two config texts and are not in `UNSIGNED_OK`."""
    old, new = _flat(tomllib.loads(old_text)), _flat(tomllib.loads(new_text))
    changed = [k for k in new if old.get(k, _ABSENT) != new[k]] + [k for k in old if k not in new]
    return [k for k in changed if k not in UNSIGNED_OK and k.partition(".")[0] not in UNSIGNED_OK]


_ABSENT: Final = object()


def _flat(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"mqtt": {"url": u}}` as `{"mqtt.url": u}`; arrays (of scanner tables) stay whole values."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def changed_sections(old: AgentConfig, new: AgentConfig) -> list[str]:
    return [f.name for f in fields(AgentConfig) if getattr(old, f.name) != getattr(new, f.name)]
