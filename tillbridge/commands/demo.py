"""`tillbridge demo`: the box on simulated devices, live in the terminal."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from tillbridge.cli import port_number


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("demo", help="run the box on simulated devices")
    parser.add_argument("--data-dir", type=Path, help="keep the store here (default: a throw-away folder)")
    parser.add_argument("--interval", type=_seconds, default=1.5, help="seconds between scans (%(default)s)")
    parser.add_argument("--scans", type=_count, help="stop after this many scans (default: run until Ctrl-C)")
    parser.add_argument("--seed", type=int, help="random seed for the sales after the scripted morning")
    parser.add_argument(
        "--mqtt-port", type=port_number, default=1883, help="the demo broker's port (%(default)s)"
    )
    parser.set_defaults(func=run)


def _count(text: str) -> int:
    """--scans: 1 or more (a negative count ran the demo until it was killed)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of scans, 1 or more")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 3600")
    return seconds


def run(args: argparse.Namespace) -> int:
    from tillbridge.demo.run import DemoOptions, run_demo

    if not args.verbose:  # the live view tells the story; the terminal shows only warnings of the log
        for handler in logging.getLogger().handlers:  # the log itself stays at info: `support logs` reads it
            handler.setLevel(logging.WARNING)
    return run_demo(
        DemoOptions(args.data_dir, args.interval, args.scans, args.seed, args.mqtt_port), sys.stdout
    )
