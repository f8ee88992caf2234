"""`tillbridge agent`: run the box daemon in the foreground (systemd runs it), or check its config."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from firmware_agent.config import ProvisioningResult

log = logging.getLogger("tillbridge.agent")


def register(sub: Any) -> None:
    from firmware_agent.config import DEFAULT_CONFIG_PATH

    parser: argparse.ArgumentParser = sub.add_parser("agent", help="run the box daemon in the foreground")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="agent.toml (%(default)s)")
    parser.add_argument("--provisioning", type=Path, help="provisioning file (default: from the config)")
    parser.add_argument(
        "--check-config", action="store_true", help="validate the config and devices, then exit"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from firmware_agent.config import apply_provisioning, check_config, check_devices, load_config

    if args.check_config:
        from firmware_agent.config import provisioning_path_for
        from tillbridge import firstboot

        prov = args.provisioning or provisioning_path_for(args.config)
        problems = firstboot.check(args.config, prov) if prov.exists() else check_config(args.config)
        for line in problems:
            print(line)
        if not problems:
            print(f"{args.config}: OK")
        return 2 if problems else 0
    try:
        provisioning = apply_provisioning(args.config, args.provisioning)
    except OSError as exc:  # an unreadable boot partition must not keep the till's box from starting
        log.error("cannot read the provisioning file, keeping the current config: %s", exc)
    else:
        _report(provisioning, args.config)
    config = load_config(args.config)
    logging.getLogger().setLevel(config.box.log_level.upper())
    for problem in check_devices(config, str(args.config)):
        log.warning("%s (the driver keeps looking)", problem)
    from firmware_agent.wiring import build_agent

    return build_agent(config, args.config).run()


def _report(provisioning: ProvisioningResult, config_path: Path) -> None:
    from firmware_agent.config import ProvisioningStatus

    if provisioning.status is ProvisioningStatus.REJECTED:
        log.error("provisioning file rejected, keeping the previous config: %s", provisioning.error)
    elif provisioning.status is ProvisioningStatus.APPLIED:
        log.info("provisioning file applied to %s", config_path)
    if provisioning.warning:
        log.warning("%s", provisioning.warning)
