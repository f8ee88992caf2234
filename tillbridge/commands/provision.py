"""`tillbridge provision`: apply the installer's provisioning file once (run as root at first boot).

tillbridge-firstboot.service runs it before the agent starts. Exit status: 0 applied or nothing to do,
3 the file was refused (nothing changed; the reasons are printed and left in the data folder for the
self-test ticket), 1 it was valid but could not be applied in full (it stays and is tried again).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REJECTED_EXIT = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "provision",
        help="apply the provisioning file from the boot partition (first boot, as root)",
        description="Apply the provisioning file: agent settings into the config, [wifi] and [system] "
        "into the operating system, then replace the file by <name>.applied without its secrets.",
    )
    parser.add_argument(
        "--config", type=Path, default=Path("/etc/tillbridge/agent.toml"), help="(%(default)s)"
    )
    parser.add_argument(
        "--provisioning", type=Path, help="the provisioning file (default: provisioning.path of the config)"
    )
    parser.add_argument(
        "--root", type=Path, default=Path("/"), help="where the system's /etc is (%(default)s)"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="where to leave the rejection marker (default: box.data_dir)"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from tillbridge.firstboot import Outcome, provision

    try:
        result = provision(args.config, args.provisioning, root=args.root, data_dir=args.data_dir)
    except OSError as exc:
        print(f"tillbridge provision: {exc}; the file stays and is applied again next time", file=sys.stderr)
        return 1
    if result.outcome is Outcome.ABSENT:
        print(f"{result.provisioning_path}: no provisioning file, nothing to do")
    for line in result.done:
        print(line)
    if result.outcome is Outcome.REJECTED:
        print(f"{result.provisioning_path}: REJECTED, the previous config stays:", file=sys.stderr)
        for problem in result.problems:
            print(f"  {problem}", file=sys.stderr)
        if result.marker is not None:
            print(f"reasons kept in {result.marker} for the self-test ticket", file=sys.stderr)
        return REJECTED_EXIT
    return 0
