"""`tillbridge agent --check-config`: every problem with the config the agent would run, devices included."""

from __future__ import annotations

from pathlib import Path

from firmware_agent.config.loader import DEFAULT_CONFIG_PATH, check_devices, load_config
from firmware_agent.config.problems import InvalidConfig
from firmware_agent.config.provisioning import provisioning_path_for, read_merge
from firmware_agent.errors import ConfigError


def check_config(path: Path = DEFAULT_CONFIG_PATH, provisioning_path: Path | None = None) -> list[str]:
    """One line per problem, empty when the config is valid and its devices are present.

    A provisioning file that is waiting to be applied is checked merged over the main config, without
    applying it: that merge is what the agent will run at its next start.
    """
    prov = provisioning_path or provisioning_path_for(path)
    try:
        if prov.exists():
            merge = read_merge(path, prov)
            return [str(p) for p in merge.attribute(check_devices(merge.validate()))]
        return [str(p) for p in check_devices(load_config(path), str(path))]
    except InvalidConfig as exc:
        return [str(p) for p in exc.problems]
    except ConfigError as exc:
        return [str(exc)]
