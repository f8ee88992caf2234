"""`tillbridge devices`: what is plugged into this box, as a table for a person or JSON for a script."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.discovery import FoundDevice

_COLUMNS = ("KIND", "PATH", "NAME", "DETAILS")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list the scanners, serial ports, scales and printers found on this box",
        description="List the scanners, serial ports, scales and printers found on this box.",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--probe",
        action="store_true",
        help="ask every serial port whether it is a scale (writes the Toledo 8217 echo request to it)",
    )
    parser.add_argument("--probe-timeout", type=float, default=0.3, metavar="S", help="per port (0.3 s)")
    parser.add_argument(
        "--printer-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="also check a network printer (port 9100 unless given); may be repeated",
    )
    parser.add_argument("--sysfs-root", default="/sys", metavar="P", help="where sysfs is (/sys)")
    parser.add_argument("--dev-root", default="/dev", metavar="P", help="where device nodes are (/dev)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from devices.discovery import discover

    found = discover(
        args.sysfs_root,
        args.dev_root,
        probe=args.probe,
        probe_timeout_s=args.probe_timeout,
        printer_hosts=args.printer_host,
    )
    if args.json:
        print(json.dumps([d.to_json() for d in found], indent=2))
    else:
        print(format_table(found))
    return 0


def format_table(found: Sequence[FoundDevice]) -> str:
    rows = [_COLUMNS, *((d.kind, d.path, d.name, _details(d)) for d in found)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows
    ]
    if not found:
        lines.append("(nothing found)")
    return "\n".join(line.rstrip() for line in lines)


def _details(found: FoundDevice) -> str:
    return ", ".join(f"{key}={value}" for key, value in found.details.items())
