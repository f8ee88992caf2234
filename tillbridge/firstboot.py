"""First-boot provisioning as root: the whole provisioning file, agent tables and host tables, once.

Everything is checked before anything is written, so a bad file changes nothing: the agent keeps its previous
config, the file stays where the installer can fix it, and a marker in the data folder tells the self-test
ticket why. A good file is applied (agent config first, then Wi-Fi and time zone), then replaced on the boot
partition by `<name>.applied` with every secret removed, so a card pulled from the box gives nothing away.
"""

from __future__ import annotations

import datetime
import enum
import json
import logging
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from firmware_agent.config import (
    InvalidConfig,
    Problem,
    ProvisioningStatus,
    apply_provisioning,
    load_config,
    provisioning_path_for,
)
from firmware_agent.config.atomic import atomic_write
from firmware_agent.config.provisioning import Merge, replace_applied
from firmware_agent.config.tomlfile import dumps, read_toml
from firmware_agent.errors import ConfigError
from tillbridge.hostsetup import HostSettings, apply_host, parse_host, split_host_tables

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("/var/lib/tillbridge")
REJECTED_MARKER = "provisioning-rejected.json"
"""In the data folder while the last provisioning file was refused: {"file", "rejected_at", "problems"}."""


class Outcome(enum.Enum):
    APPLIED = "applied"
    ABSENT = "absent"
    REJECTED = "rejected"


@dataclass(frozen=True)
class FirstBootResult:
    outcome: Outcome
    provisioning_path: Path
    done: list[str] = field(default_factory=list)  # what was changed, one line each
    problems: list[str] = field(default_factory=list)  # why the file was refused
    marker: Path | None = None


def provision(
    config_path: Path,
    provisioning_path: Path | None = None,
    *,
    root: Path = Path("/"),
    data_dir: Path | None = None,
) -> FirstBootResult:
    """Apply the provisioning file if there is one. `OSError` means it was valid but could not be applied
    in full; the file then stays, and applying it again at the next boot gives the same result."""
    prov = provisioning_path or provisioning_path_for(config_path)
    state = data_dir or _data_dir(config_path)
    if not prov.exists():
        return FirstBootResult(Outcome.ABSENT, prov)
    try:
        host, done = _apply(config_path, prov, root)
    except ConfigError as exc:
        return _reject(prov, state, exc)
    done += apply_host(host, root)
    done.append(consume(prov))
    (state / REJECTED_MARKER).unlink(missing_ok=True)
    return FirstBootResult(Outcome.APPLIED, prov, done)


def check(config_path: Path, prov: Path, root: Path = Path("/")) -> list[str]:
    """`agent --check-config` with a provisioning file waiting: its host tables checked as first boot checks
    them, its agent tables merged over the config as the agent will run it; one line per problem, each
    naming the installer's file (the agent's own check alone refused `[wifi]` and `[system]`)."""
    from firmware_agent.config import check_config

    try:
        host_data, agent_data = split_host_tables(read_toml(prov))
    except ConfigError as exc:
        return [str(exc)]
    try:
        parse_host(host_data, str(prov), root)
        problems: list[str] = []
    except InvalidConfig as exc:
        problems = [str(p) for p in exc.problems]
    with tempfile.TemporaryDirectory(prefix="tillbridge-check-") as tmp:
        copy = Path(tmp) / prov.name
        copy.write_text(dumps(agent_data), encoding="utf-8")
        problems += [line.replace(str(copy), str(prov)) for line in check_config(config_path, copy)]
    return problems


def _apply(config_path: Path, prov: Path, root: Path) -> tuple[HostSettings, list[str]]:
    """Host tables checked, then the agent tables applied through the agent's own provisioning."""
    host_data, agent_data = split_host_tables(read_toml(prov))
    try:
        host = parse_host(host_data, str(prov), root)
    except InvalidConfig as exc:  # every problem at once: the agent tables' too, so one fix-and-reboot does
        raise InvalidConfig([*exc.problems, *_agent_problems(config_path, prov, agent_data)]) from exc
    with tempfile.TemporaryDirectory(prefix="tillbridge-provision-") as tmp:
        copy = Path(tmp) / prov.name
        copy.write_text(dumps(agent_data), encoding="utf-8")
        result = apply_provisioning(config_path, copy)
        if result.status is not ProvisioningStatus.APPLIED:
            raise _attributed(result.error, copy, prov)
        _name_source(config_path, copy, prov)
    return host, [f"agent config written to {config_path}"]


def _agent_problems(config_path: Path, prov: Path, agent_data: dict[str, Any]) -> list[Problem]:
    """What the agent tables would be refused for, merged over the config; nothing is written."""
    main = read_toml(config_path) if config_path.exists() else {}
    try:
        Merge(config_path, prov, main, agent_data).validate()
    except InvalidConfig as exc:
        return list(exc.problems)
    return []


def _name_source(config_path: Path, copy: Path, prov: Path) -> None:
    """The written config's header says which file it was merged from: the installer's, not the copy."""
    text = config_path.read_text(encoding="utf-8")
    if str(copy) in text.partition("\n")[0]:
        atomic_write(config_path, text.replace(str(copy), str(prov), 1))


def _attributed(error: ConfigError | None, copy: Path, prov: Path) -> ConfigError:
    """Problems found in the temporary copy belong to the installer's file."""
    if isinstance(error, InvalidConfig):
        own = [replace(p, file=str(prov) if p.file == str(copy) else p.file) for p in error.problems]
        return InvalidConfig(own)
    return error or ConfigError("not applied", file=str(prov))


def _reject(prov: Path, state: Path, error: ConfigError) -> FirstBootResult:
    problems = str(error).splitlines()
    marker = state / REJECTED_MARKER
    record = {
        "file": str(prov),
        "rejected_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "problems": problems,
    }
    try:
        atomic_write(marker, json.dumps(record, indent=2) + "\n", default_mode=0o644)
    except OSError as exc:
        log.error("cannot write the rejection marker %s: %s", marker, exc.strerror or exc)
        return FirstBootResult(Outcome.REJECTED, prov, problems=problems)
    return FirstBootResult(Outcome.REJECTED, prov, problems=problems, marker=marker)


def _data_dir(config_path: Path) -> Path:
    """The data folder of the config in place, which is where the agent and its ticket look."""
    try:
        return load_config(config_path).box.data_dir
    except ConfigError:
        return DEFAULT_DATA_DIR


def consume(prov: Path) -> str:
    """Replace the file by `<name>.applied` without its secrets (`replace_applied`)."""
    applied = replace_applied(prov)
    return f"{prov} applied and replaced by {applied.name} without its secrets"
