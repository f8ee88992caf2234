"""Remote commands: parse, authenticate, de-duplicate, run one of the fixed allow-list, reply, audit.

Nothing a requester sends can crash the box: a payload that is not a command gets an error reply when its
`id` can be read (and a log line when not), an unknown command or bad arguments get an error reply.
Commands that change something (`EFFECTS`) run at most once per id, remembered in the store, so a QoS 1
redelivery after a reconnect does not print or restart twice; read-only commands may be repeated freely,
which is what `mosquitto_rr` users do with the same id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from firmware_agent.errors import AgentError
from firmware_agent.link.audit import AuditLog
from firmware_agent.link.logring import LEVELS
from wire import (
    COMMANDS,
    JSON,
    Command,
    CommandReply,
    Kind,
    SignatureError,
    WireError,
    decode,
    verify_command,
)

log = logging.getLogger(__name__)

READS: Final = frozenset({"status", "devices", "logs", "config.get"})
EFFECTS: Final = COMMANDS - READS  # a command added to the wire's list runs at most once until listed here
SIGNED_ONLY: Final = frozenset({"update"})  # a release runs as root: never on an unsigned word
MAX_LOG_LINES: Final = 1000


class CommandFailed(AgentError):
    """A command that cannot be carried out; the message is what the requester reads in the reply."""


class Deferred:
    """A command whose reply comes later (config.set waits to see the broker with the new config)."""


DEFERRED: Final = Deferred()


class Box(Protocol):
    """What commands act on; the link implements it."""

    def status(self) -> JSON: ...
    def devices(self) -> JSON: ...
    def logs(self, count: int, level: str) -> JSON: ...
    def config_get(self) -> JSON: ...
    def config_set(self, values: Mapping[str, Any], request: Request) -> None: ...
    def print_test(self) -> JSON: ...
    def reprint(self, order_id: str | None, job: int | None, station: str | None = None) -> JSON: ...
    def order_stage(self, order_id: str, stage: str | None, eta_min: int | None) -> JSON: ...
    def order_add(self, order: Mapping[str, Any]) -> JSON: ...
    def print_labels(self) -> JSON: ...
    def catalog_resync(self) -> JSON: ...
    def journal_resend(self) -> JSON: ...
    def set_mode(self, mode: str) -> JSON: ...
    def restart(self) -> JSON: ...
    def update(self, url: str, sha256: str, signature: str, allow_downgrade: bool) -> JSON: ...
    def first_time(self, channel: str, ref: str) -> bool: ...


@dataclass(frozen=True)
class Request:
    """A command in hand and where its reply goes."""

    command: Command
    reply_to: str
    signed: bool


class CommandRunner:
    def __init__(
        self,
        box: Box,
        audit: AuditLog,
        *,
        key: bytes | None = None,
        require_signed: bool = False,
        window_s: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.box = box
        self.audit = audit
        self.key = key
        self.require_signed = require_signed
        self.window_s = window_s
        self.clock = clock

    def run(self, payload: bytes, reply_to: str) -> CommandReply | None:
        """The reply to send to `reply_to`, or None: nothing to answer, or an answer that comes later.

        Never raises: a command the box cannot handle is still answered (or logged, without a readable id),
        so its message is acknowledged to the broker and cannot hold a slot of the in-flight window.
        """
        try:
            return self._run(payload, reply_to)
        except Exception as exc:  # a bug here must not leave the message unacknowledged for ever
            log.exception("a command on %s could not be handled", reply_to)
            command_id = _readable_id(payload)
            error = f"failed on the box: {exc}"
            return None if command_id is None else CommandReply(command_id, False, error=error)

    def _run(self, payload: bytes, reply_to: str) -> CommandReply | None:
        try:
            command = decode(Kind.CMD, payload)
        except WireError as exc:  # a hand-written command without `"v": 1` still gets told why
            command_id = exc.command_id or _readable_id(payload)
            self.audit.write({"id": command_id, "ok": False, "error": str(exc), "reply_to": reply_to})
            return None if command_id is None else CommandReply(command_id, False, error=str(exc))
        assert isinstance(command, Command)
        request = Request(command, reply_to, signed=command.sig is not None)
        try:
            self._authenticate(command)
            self._once(command)
            result = self._dispatch(request)
        except (CommandFailed, SignatureError) as exc:
            return self.finish(request, CommandReply(command.id, False, error=str(exc)))
        except Exception as exc:  # a bug or a store error in one command must not stop the link
            log.exception("command %s (%s) failed", command.id, command.cmd)
            return self.finish(request, CommandReply(command.id, False, error=f"failed on the box: {exc}"))
        if isinstance(result, Deferred):
            self.audit.write({**_describe(request), "pending": True})
            return None
        return self.finish(request, CommandReply(command.id, True, result=result))

    def finish(self, request: Request, reply: CommandReply) -> CommandReply:
        self.audit.write({**_describe(request), "ok": reply.ok, "error": reply.error})
        return reply

    def _authenticate(self, command: Command) -> None:
        if command.sig is None:
            if self.require_signed:
                raise CommandFailed(f"cmd {command.id!r}: this box accepts only signed commands")
            if command.cmd in SIGNED_ONLY:
                raise CommandFailed(
                    f"cmd {command.id!r}: {command.cmd} runs only as a command signed with the box's "
                    "mqtt.command_key"
                )
            return
        if self.key is None:
            raise CommandFailed(f"cmd {command.id!r}: signed, but this box has no command_key to check it")
        now = self.clock()
        verify_command(command, self.key, now, self.window_s, lambda n: not self.box.first_time("nonce", n))

    def _once(self, command: Command) -> None:
        if command.cmd in EFFECTS and not self.box.first_time("cmd", command.id):
            raise CommandFailed(f"cmd {command.id!r}: a command with this id already ran on this box")

    def _dispatch(self, request: Request) -> JSON | Deferred:
        box, args, name = self.box, request.command.args, request.command.cmd
        match name:
            case "status":
                return box.status()
            case "devices":
                return box.devices()
            case "logs":
                lines = _int(args, "lines", 100, 1, MAX_LOG_LINES)
                return box.logs(lines, _choice(args, "level", "info", LEVELS))
            case "config.get":
                return box.config_get()
            case "config.set":
                box.config_set(_object(args, "values"), request)
                return DEFERRED
            case "print.test":
                return box.print_test()
            case "print.reprint":
                order_id, job = _opt_str(args, "order_id"), _opt_int(args, "job")
                if (order_id is None) == (job is None):
                    raise CommandFailed("print.reprint needs args.order_id or args.job (one of them)")
                station = _opt_str(args, "station")
                if station is not None and order_id is None:
                    raise CommandFailed("print.reprint: args.station goes with args.order_id")
                return box.reprint(order_id, job, station)
            case "order.stage":
                stage = _opt_str(args, "stage")
                return box.order_stage(_str(args, "order_id"), stage, _opt_int(args, "eta_min"))
            case "order.add":
                return box.order_add(args)
            case "labels.print":
                return box.print_labels()
            case "catalog.resync":
                return box.catalog_resync()
            case "journal.resend":
                return box.journal_resend()
            case "mode.set":
                return box.set_mode(_choice(args, "mode", None, ("sale", "receive", "count", "lookup")))
            case "restart":
                return box.restart()
            case "update":
                url = _url(args, "url")
                sha256, signature = _str(args, "sha256"), _str(args, "signature")
                return box.update(url, sha256, signature, _flag(args, "force"))
        raise CommandFailed(f"command {name!r} is not handled by this box")  # the wire allow-list grew


def _readable_id(payload: bytes) -> str | None:
    """The command's id if the payload has one that can be sent back, for a reply after a failure."""
    try:
        command_id = json.loads(payload).get("id")
        if type(command_id) is str and command_id:
            command_id.encode()
            return command_id
    except (ValueError, AttributeError, RecursionError):
        pass
    return None


def _describe(request: Request) -> dict[str, Any]:
    c = request.command
    return {
        "id": c.id,
        "cmd": c.cmd,
        "args": dict(c.args),
        "signed": request.signed,
        "reply_to": request.reply_to,
    }


# ---- arguments ---------------------------------------------------------------------------------------


def _int(args: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = args.get(key, default)
    if type(value) is not int or not low <= value <= high:
        raise CommandFailed(f"args.{key} must be an integer from {low} to {high}")
    return value


def _opt_int(args: Mapping[str, Any], key: str) -> int | None:
    value = args.get(key)
    if value is not None and type(value) is not int:
        raise CommandFailed(f"args.{key} must be an integer")
    return value


def _opt_str(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is not None and (type(value) is not str or not value):
        raise CommandFailed(f"args.{key} must be a non-empty string")
    return value


def _str(args: Mapping[str, Any], key: str) -> str:
    value = _opt_str(args, key)
    if value is None:
        raise CommandFailed(f"args.{key} is required (a non-empty string)")
    return value


def _url(args: Mapping[str, Any], key: str) -> str:
    value = _str(args, key)
    if not value.startswith(("https://", "http://")):
        raise CommandFailed(f"args.{key} must be an http:// or https:// URL")
    return value


def _flag(args: Mapping[str, Any], key: str) -> bool:
    value = args.get(key, False)
    if type(value) is not bool:
        raise CommandFailed(f"args.{key} must be true or false")
    return value


def _choice(args: Mapping[str, Any], key: str, default: str | None, choices: Any) -> str:
    value = args.get(key, default)
    if type(value) is not str or value not in choices:
        raise CommandFailed(f"args.{key} must be one of {', '.join(sorted(choices))}")
    return str(value)


def _object(args: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = args.get(key)
    if not isinstance(value, Mapping) or not value:
        raise CommandFailed(
            f"args.{key} must be a non-empty object of config tables, like {{'mqtt': {{...}}}}"
        )
    return value
