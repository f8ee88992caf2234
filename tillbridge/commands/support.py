"""`tillbridge support`: run a remote command on a box over MQTT and print its reply (no hand-written JSON).

The request is an MQTT v5 PUBLISH on the box's `cmd` topic with a Response Topic under
`support/reply/<username>/` (which the shipped ACL lets each support user read) and fresh Correlation Data.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

DEFAULT_URL = "mqtt://127.0.0.1:1883"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", default=DEFAULT_URL, help=f"broker, mqtt:// or mqtts:// (default {DEFAULT_URL})"
    )
    common.add_argument("--shop", required=True, help="the box's shop id")
    common.add_argument("--username", help="broker username (support_<name> with the shipped ACL)")
    common.add_argument("--password-file", type=Path, help="file holding the broker password")
    common.add_argument("--key-file", type=Path, help="file holding the box's command key: sign the command")
    common.add_argument("--ca-file", type=Path, help="CA certificate for mqtts:// (default: the system's)")
    common.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the reply")
    parser = subparsers.add_parser(
        "support",
        help="run a remote support command on a box and print its reply",
        description="Send one command from the box's allow-list over MQTT and print the reply as JSON. "
        "Exit status 0 when the box says ok, 1 when it answers with an error, 2 when it does not answer.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("status", "the box's state"), ("devices", "its devices' health")):
        actions.add_parser(name, parents=[common], help=text).add_argument("box", help="box id")
    logs = actions.add_parser("logs", parents=[common], help="the box's last log lines")
    logs.add_argument("box", help="box id")
    logs.add_argument("--lines", type=int, default=100, help="how many (1-1000, default 100)")
    logs.add_argument("--level", default="info", choices=("debug", "info", "warning", "error"))
    call = actions.add_parser("call", parents=[common], help="any command of the allow-list")
    call.add_argument("box", help="box id")
    call.add_argument("cmd", help="status, devices, logs, config.get, config.set, print.test, ...")
    call.add_argument(
        "args", nargs="*", help="a JSON object, or key=value pairs (values read as JSON if they can)"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from firmware_agent.link.client import request_reply
    from tillbridge.cli import UserError
    from wire import Kind, build_topic, decode, encode

    command = _command(args)
    topic = build_topic(args.shop, args.box, Kind.CMD)
    reply_topic = f"support/reply/{args.username or 'anonymous'}/{uuid.uuid4().hex[:12]}"
    try:
        payload = request_reply(_options(args), topic, encode(command), reply_topic, args.timeout)
    except TimeoutError as exc:
        print(f"tillbridge {args.command}: box {args.box} did not answer: {exc}", file=sys.stderr)
        return 2
    except ConnectionError as exc:
        raise UserError(f"broker {args.url}: {exc}") from exc
    reply = decode(Kind.CMD_REPLY, payload)
    print(json.dumps(reply.to_json(), ensure_ascii=False, indent=2))
    return 0 if getattr(reply, "ok", False) else 1


def _command(args: argparse.Namespace) -> Any:
    from datetime import UTC, datetime

    from tillbridge.cli import UserError
    from wire import COMMANDS, Command, sign_command

    name = args.action if args.action != "call" else args.cmd
    if name not in COMMANDS:
        allowed = ", ".join(sorted(COMMANDS))
        raise UserError(f"{name!r} is not a remote command; the box's allow-list is: {allowed}")
    params: dict[str, Any] = {}
    if args.action == "logs":
        params = {"lines": args.lines, "level": args.level}
    elif args.action == "call":
        params = parse_args(args.args)
    command = Command(f"support-{uuid.uuid4().hex[:12]}", name, params)
    if args.key_file is not None:
        key = _read(args.key_file, "key file").encode()
        command = sign_command(command, key, datetime.now(UTC))
    return command


def parse_args(items: list[str]) -> dict[str, Any]:
    """`['{"mode": "sale"}']` or `['mode=sale', 'lines=5']` (values are JSON when they parse, else text)."""
    from tillbridge.cli import UserError

    if len(items) == 1 and items[0].lstrip().startswith("{"):
        try:
            value = json.loads(items[0])
        except json.JSONDecodeError as exc:
            raise UserError(f"ARGS is not a JSON object: {exc}") from exc
        if not isinstance(value, dict):
            raise UserError("ARGS must be a JSON object")
        return value
    params: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UserError(f"argument {item!r}: expected key=value or one JSON object")
        try:
            params[key] = json.loads(text)
        except json.JSONDecodeError:
            params[key] = text
    return params


def _options(args: argparse.Namespace) -> Any:
    from urllib.parse import urlsplit

    from firmware_agent.link.client import ClientOptions
    from tillbridge.cli import UserError

    parts = urlsplit(args.url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise UserError(f"--url {args.url!r}: expected mqtt://host[:port] or mqtts://host[:port]")
    tls = parts.scheme == "mqtts"
    password = _read(args.password_file, "password file") if args.password_file else None
    return ClientOptions(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        client_id=f"support-{uuid.uuid4().hex[:12]}",
        tls=tls,
        ca_file=str(args.ca_file) if args.ca_file else None,
        username=args.username,
        password=password,
        clean_start=True,
        session_expiry_s=0,
        reconnect_min_s=0.5,
        reconnect_max_s=2.0,
    )


def _read(path: Path, what: str) -> str:
    from tillbridge.cli import UserError

    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UserError(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc
