"""Entry point of the `tillbridge` console script.

Each subcommand lives in its own module under `tillbridge.commands` and exposes `register(subparsers)`;
adding a command is adding a module there.
Command modules import their heavy dependencies inside the handler, so `tillbridge agent` does not pay
for the cloud bridge's imports at start-up.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence

from tillbridge import __version__, commands


class UserError(Exception):
    """A problem the user can fix (bad config, missing device): printed as one line, no traceback."""


def port_number(text: str) -> int:
    """An argparse type for a TCP port (0: any free one), so 99999 is refused rather than wrapped round."""
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number 0-65535")
    return int(text)


def _known_errors() -> tuple[type[BaseException], ...]:
    """The roots of every package's exception tree: these end the command with a message, not a traceback."""
    from cloud_bridge.errors import BridgeError
    from devices.errors import DeviceError
    from firmware_agent.errors import AgentError
    from wire.errors import WireError

    return (UserError, AgentError, DeviceError, BridgeError, WireError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tillbridge", description="tillbridge in-store edge box")
    parser.add_argument("--version", action="version", version=f"tillbridge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        result: int = args.func(args)
    except _known_errors() as exc:
        print(f"tillbridge {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "simulators":
            raise
        print(f"tillbridge {args.command}: {SIMULATORS_MISSING}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _reader_went_away()
    except OSError as exc:
        if exc.filename is None:
            raise
        # a file the user named is missing, a folder, not theirs to read: one line, as a shell tool says it
        # (`update pack`, `update keygen` were tracebacks); --verbose keeps the traceback for a developer
        logging.getLogger("tillbridge").debug("%s", exc, exc_info=True)
        print(f"tillbridge {args.command}: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return result


SIMULATORS_MISSING = (
    "this needs the simulators, a development tool the box's installation leaves out (docs/architecture.md)"
)

SIGPIPE_STATUS = 141
"""What a shell reports for a command ended by SIGPIPE; Python ignores the signal and raises instead."""


def _reader_went_away() -> int:
    """`tillbridge … | head`: the reader has all it wanted; end quietly, as a C tool killed by SIGPIPE would.

    Standard output is pointed at /dev/null so the interpreter's own flush at exit cannot fail a second time.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return SIGPIPE_STATUS
