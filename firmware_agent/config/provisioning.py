"""First-start provisioning: a TOML file the installer drops on the SD card's boot partition.

Its tables are merged over the main config (it wins; the main file's comments and layout are kept), the result
is validated as a whole, written atomically in place of the main config, and the provisioning file is replaced
by `<name>.applied` without its secrets (passwords and keys read `***removed***`: the boot partition can be
read by anyone holding the SD card) so it is applied once. An invalid result changes nothing. If the box dies
between the write and the replacement, the next start applies the same file again, which gives the same
result: merging is idempotent.
"""

from __future__ import annotations

import datetime
import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from configspec import build
from firmware_agent.config.atomic import atomic_write, fsync_dir
from firmware_agent.config.problems import InvalidConfig, KeyPath, Problem
from firmware_agent.config.rules import is_secret_name
from firmware_agent.config.schema import AgentConfig, ProvisioningConfig
from firmware_agent.config.tomlfile import dumps, merged_text, read_toml
from firmware_agent.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_PROVISIONING_PATH = ProvisioningConfig().path
REMOVED = "***removed***"


class ProvisioningStatus(enum.Enum):
    APPLIED = "applied"
    ABSENT = "absent"  # no provisioning file: the usual case after the first start
    REJECTED = "rejected"  # `error` says why; the main config was not touched


@dataclass(frozen=True)
class ProvisioningResult:
    status: ProvisioningStatus
    provisioning_path: Path
    config: AgentConfig | None = None  # the merged config, when applied
    error: ConfigError | None = None  # when rejected
    warning: str = ""  # applied, but something a person should know (the file could not be renamed)


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in `over` (values, arrays, [[scanner]] lists) replaces."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def provisioning_path_for(config_path: Path) -> Path:
    """`provisioning.path` of the main config when it can be read, else the default location."""
    try:
        section = read_toml(config_path).get("provisioning")
    except ConfigError:
        return DEFAULT_PROVISIONING_PATH
    path = section.get("path") if isinstance(section, dict) else None
    return Path(path) if isinstance(path, str) and path.startswith("/") else DEFAULT_PROVISIONING_PATH


def apply_provisioning(config_path: Path, provisioning_path: Path | None = None) -> ProvisioningResult:
    """Apply the provisioning file once, if there is one (its path defaults to `provisioning_path_for`)."""
    prov = provisioning_path or provisioning_path_for(config_path)
    if not prov.exists():
        return ProvisioningResult(ProvisioningStatus.ABSENT, prov)
    try:
        merge = read_merge(config_path, prov)
        config = merge.validate()
        main_text = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
        atomic_write(config_path, merged_text(main_text, merge.over, file=str(config_path)))
    except ConfigError as exc:
        log.error("provisioning rejected, config unchanged:\n%s", exc)
        return ProvisioningResult(ProvisioningStatus.REJECTED, prov, error=exc)
    except OSError as exc:
        error = ConfigError(f"cannot write: {exc.strerror or exc}", file=str(config_path))
        error.__cause__ = exc
        log.error("provisioning not applied: %s", error)
        return ProvisioningResult(ProvisioningStatus.REJECTED, prov, error=error)
    log.info("applied provisioning %s to %s", prov, config_path)
    return ProvisioningResult(ProvisioningStatus.APPLIED, prov, config=config, warning=_mark_applied(prov))


def replace_applied(prov: Path) -> Path:
    """Replace the file by `<name>.applied` (mode 0600) without its secrets; the copy documents what was
    applied. OSError when the folder is read-only: the file then stays, secrets and all, and applies again.
    """
    applied = prov.with_name(f"{prov.name}.applied")
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    header = f"# Applied by tillbridge on {stamp}; secrets are replaced by {REMOVED}.\n\n"
    atomic_write(applied, header + dumps(scrub(read_toml(prov))), default_mode=0o600)
    prov.unlink()
    fsync_dir(prov.parent)
    return applied


def scrub(data: Mapping[str, Any]) -> dict[str, Any]:
    """The same tables with every value under a secret-looking key replaced."""
    return {key: REMOVED if is_secret_name(key) else _scrub_value(value) for key, value in data.items()}


def _scrub_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_value(item) for item in value]
    return value


def _mark_applied(prov: Path) -> str:
    applied = prov.with_name(f"{prov.name}.applied")
    try:
        replace_applied(prov)
    except (OSError, ConfigError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        warning = f"{prov}: applied, but cannot replace it by {applied.name} ({reason}); it will apply again"
        log.warning("%s", warning)
        return warning
    return ""


@dataclass(frozen=True)
class Merge:
    """The main config and a provisioning file read side by side, so each problem can name its file."""

    config_path: Path
    provisioning_path: Path
    main: dict[str, Any]
    over: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        return deep_merge(self.main, self.over)

    def validate(self) -> AgentConfig:
        config, problems = build(AgentConfig, self.data)
        if config is None:
            raise InvalidConfig(self.attribute(problems))
        return config

    def attribute(self, problems: Sequence[Problem]) -> list[Problem]:
        """A key the main config sets and provisioning does not is the main file's; every other key, set or
        missing, is the provisioning file's, since that is the file the installer is writing."""
        return [replace(p, file=str(self._owner(p.path))) for p in problems]

    def _owner(self, path: KeyPath) -> Path:
        in_main = _has(self.main, path) and not _has(self.over, path)
        return self.config_path if in_main else self.provisioning_path


def read_merge(config_path: Path, provisioning_path: Path) -> Merge:
    """Both files read; a missing main config is empty (the first start of a fresh image)."""
    main = read_toml(config_path) if config_path.exists() else {}
    return Merge(config_path, provisioning_path, main, read_toml(provisioning_path))


_MISSING = object()


def _has(data: object, path: KeyPath) -> bool:
    for part in path:
        data = _child(data, part)
        if data is _MISSING:
            return False
    return True


def _child(data: object, part: str | int) -> object:
    if isinstance(data, Mapping):
        return data.get(part, _MISSING)
    if isinstance(data, list) and isinstance(part, int) and part < len(data):
        return data[part]
    return _MISSING
