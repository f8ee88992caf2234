"""`tillbridge update`: install a signed release with rollback, and the tools to build and sign one.

  install  --url U | --file F  --sha256 H --signature S   fetch, check, switch, prove healthy or roll back
  run                                  the update the agent queued (tillbridge-update.service)
  resume   [--no-restart]              finish or undo an update its updater did not see through
  status                               releases, links, the pending and the last update, as JSON
  rollback [--force]                   back to the release before the committed one
  pack DIR --version V --out F         a release folder to an artifact (prints its sha256)
  sign --key K FILE                    the sha256 and signature to publish with an artifact
  keygen --out K                       a signing key pair (K, K.pub)

Exit status: 0 committed (or done), 1 rolled back, 2 refused with nothing changed (the reason is printed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DEFAULT_KEYS = Path("/usr/share/tillbridge/update-keys")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "update",
        help="install, roll back, sign and pack releases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    install = _with_updater(actions.add_parser("install", help="install a signed release"))
    where = install.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="http(s) URL of the artifact")
    where.add_argument("--file", type=Path, help="the artifact on this machine")
    install.add_argument("--sha256", required=True, help="the artifact's sha256 (hex)")
    install.add_argument("--signature", required=True, help="its Ed25519 signature (base64)")
    install.add_argument(
        "--no-restart",
        action="store_true",
        help="switch and commit without restarting the agent or checking guards (image builds)",
    )
    install.add_argument(
        "--allow-downgrade", action="store_true", help="install a release older than the committed one"
    )
    install.add_argument(
        "--queue", action="store_true", help="queue it for tillbridge-update.service, as the agent does"
    )
    install.set_defaults(func=_install)

    _with_updater(actions.add_parser("run", help="run the queued update")).set_defaults(func=_run)
    resume = _with_updater(actions.add_parser("resume", help="finish or undo an interrupted update"))
    resume.add_argument("--no-restart", action="store_true", help="at boot, before the agent starts")
    resume.set_defaults(func=_resume)
    rollback = _with_updater(actions.add_parser("rollback", help="go back to the previous release"))
    rollback.add_argument("--force", action="store_true", help="even while a sale is being scanned")
    rollback.set_defaults(func=_rollback)
    status = actions.add_parser("status", help="releases and update state, as JSON")
    _with_root(status).set_defaults(func=_status)

    pack = actions.add_parser("pack", help="make an artifact from a release folder")
    pack.add_argument("folder", type=Path, help="the release folder (with bin/tillbridge)")
    pack.add_argument("--version", required=True, help="the release's name, e.g. 1.4.0")
    pack.add_argument("--out", type=Path, required=True, help="the .tar.gz to write")
    pack.set_defaults(func=_pack)
    sign = actions.add_parser("sign", help="print the sha256 and signature of an artifact")
    sign.add_argument("--key", type=Path, required=True, help="the private key (PEM)")
    sign.add_argument("file", type=Path)
    sign.set_defaults(func=_sign)
    keygen = actions.add_parser("keygen", help="create a signing key pair")
    keygen.add_argument("--out", type=Path, required=True, help="private key; the public one is OUT.pub")
    keygen.set_defaults(func=_keygen)


def _with_root(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from firmware_agent.updates.layout import DEFAULT_DATA, DEFAULT_ROOT

    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="releases and state (%(default)s)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help=f"the agent's data folder (default: {DEFAULT_DATA} with the default --root, else the root)",
    )
    return parser


def _with_updater(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    _with_root(parser)
    parser.add_argument(
        "--key", type=Path, default=DEFAULT_KEYS, help="public key, or a folder of *.pub (%(default)s)"
    )
    parser.add_argument(
        "--agent",
        choices=("systemd", "process"),
        default="systemd",
        help="restart the agent's unit, or run the agent as a child without systemd (%(default)s)",
    )
    parser.add_argument("--unit", default="tillbridge-agent.service", help="the agent's unit (%(default)s)")
    parser.add_argument("--agent-config", type=Path, help="with --agent process: the agent's --config")
    parser.add_argument(
        "--check-timeout",
        type=float,
        default=60.0,
        help="seconds for the new release's own --version, its self-check (%(default)s)",
    )
    parser.add_argument("--ready-timeout", type=float, default=90.0, help="seconds to READY (%(default)s)")
    parser.add_argument("--connect-timeout", type=float, help="also wait this long for the MQTT link")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds up after READY (%(default)s)")
    parser.add_argument(
        "--quiet", type=float, default=120.0, help="seconds since the last scan (%(default)s)"
    )
    parser.add_argument("--max-backlog", type=int, default=1000, help="unacked entries (%(default)s)")
    return parser


def _layout(args: argparse.Namespace) -> Any:
    from firmware_agent.updates.layout import DEFAULT_DATA, DEFAULT_ROOT, Layout

    data_dir = args.data_dir or (DEFAULT_DATA if args.root == DEFAULT_ROOT else None)
    return Layout(args.root, data_dir)


def _updater(args: argparse.Namespace) -> Any:
    from firmware_agent.updates import (
        GuardPolicy,
        HealthPolicy,
        ProcessSupervisor,
        SystemdSupervisor,
        Updater,
    )
    from firmware_agent.updates.signing import trusted_keys

    layout = _layout(args)
    config = ("--config", str(args.agent_config)) if args.agent_config else ()
    process = args.agent == "process"
    supervisor = ProcessSupervisor(layout, ("agent", *config)) if process else SystemdSupervisor(args.unit)
    return Updater(
        layout,
        supervisor,
        trusted_keys(args.key),
        HealthPolicy(args.ready_timeout, args.connect_timeout, args.settle),
        GuardPolicy(args.quiet, args.max_backlog),
        self_check_timeout=args.check_timeout,
    )


def _report(result: Any, wanted: str = "committed") -> int:
    """0 when the outcome is the one wanted and the agent came up, 1 otherwise, 2 for a refusal."""
    if result is None:
        print(json.dumps({"outcome": None, "reason": "nothing to do"}))
        return 0
    print(json.dumps(result.to_dict(), sort_keys=True))
    if result.outcome == "refused":
        return 2
    return 0 if result.outcome == wanted and result.agent_ready is not False else 1


def _install(args: argparse.Namespace) -> int:
    from firmware_agent.updates import Source, request_update
    from firmware_agent.updates.request import REMOTE_CONNECT_TIMEOUT

    source = Source(url=args.url, file=args.file.resolve() if args.file else None)
    if args.queue:
        timeout = REMOTE_CONNECT_TIMEOUT if args.connect_timeout is None else args.connect_timeout
        request = request_update(
            _layout(args),
            source,
            args.sha256,
            args.signature,
            connect_timeout=timeout,
            allow_downgrade=args.allow_downgrade,
        )
        print(json.dumps(request.to_dict(), sort_keys=True))
        return 0
    result = _updater(args).install(
        source,
        args.sha256,
        args.signature,
        restart=not args.no_restart,
        allow_downgrade=args.allow_downgrade,
    )
    return _report(result)


def _run(args: argparse.Namespace) -> int:
    return _report(_updater(args).run_queued())


def _resume(args: argparse.Namespace) -> int:
    return _report(_updater(args).resume(restart=not args.no_restart))


def _rollback(args: argparse.Namespace) -> int:
    return _report(_updater(args).rollback(force=args.force), wanted="rolled_back")


def _status(args: argparse.Namespace) -> int:
    from firmware_agent.updates import read_status

    print(read_status(_layout(args)).to_json())
    return 0


def _pack(args: argparse.Namespace) -> int:
    from firmware_agent.updates.artifact import pack

    sha256 = pack(args.folder, args.version, args.out)
    print(json.dumps({"file": str(args.out), "version": args.version, "sha256": sha256}))
    return 0


def _sign(args: argparse.Namespace) -> int:
    from firmware_agent.updates.signing import file_sha256, sign
    from tillbridge.cli import UserError

    if not Path(args.key).is_file():  # else openssl's own lines about a store loader
        raise UserError(f"{args.key}: no such key file (make one with `tillbridge update keygen --out K`)")
    sha256 = file_sha256(args.file)
    signature = sign(args.key, sha256)
    print(json.dumps({"file": str(args.file), "sha256": sha256, "signature": signature}))
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from firmware_agent.updates.signing import default_backend, keygen

    backend = default_backend()
    public = keygen(args.out, backend)
    print(
        f"private key {args.out} (keep it off the boxes), public key {public} (ship it in the image);"
        f" made with {backend.name}"
    )
    return 0
