"""Remote commands (support → box) from a fixed allow-list, and the box's replies.

A command whose id can be read but which is otherwise wrong (unknown `cmd`, bad `args`) raises an error
carrying `command_id`, so the box answers with a `CommandReply` error instead of leaving support waiting.
`args` stay an open object: each command's handler on the box checks its own arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from wire._fields import JSON, Obj, as_bool, as_id, as_object, as_str, as_ts, compact, fail, opt, req
from wire.errors import MalformedMessage, UnknownCommand
from wire.topics import Kind

COMMANDS: Final = frozenset(
    {
        "status",
        "devices",
        "logs",
        "config.get",
        "config.set",
        "print.test",
        "print.reprint",
        "order.stage",
        "order.add",
        "labels.print",
        "catalog.resync",
        "journal.resend",
        "mode.set",
        "restart",
        "update",
    }
)
_SIG: Final = re.compile(r"[0-9a-f]{64}")


def _as_sig(value: Any, path: str) -> str:
    if type(value) is str and _SIG.fullmatch(value):
        return value
    fail(value, path, "an HMAC-SHA256 as 64 lowercase hex characters")


@dataclass(frozen=True, slots=True)
class Command:
    """One command. `ts`, `nonce` and `sig` are set by `sign_command` and checked by `verify_command`."""

    KIND: ClassVar[Kind] = Kind.CMD

    id: str
    cmd: str
    args: Mapping[str, JSON] = field(default_factory=dict, hash=False)
    ts: str | None = None
    nonce: str | None = None
    sig: str | None = None

    @classmethod
    def from_json(cls, obj: Obj) -> Command:
        command_id = req(obj, "id", as_id)
        try:
            cmd = req(obj, "cmd", as_id)
            if cmd not in COMMANDS:
                raise UnknownCommand(command_id, cmd)
            args = opt(obj, "args", as_object)
            return cls(
                command_id,
                cmd,
                {} if args is None else args,
                ts=opt(obj, "ts", as_ts),
                nonce=opt(obj, "nonce", as_id),
                sig=opt(obj, "sig", _as_sig),
            )
        except MalformedMessage as exc:
            exc.command_id = command_id
            raise

    def to_json(self) -> Obj:
        return compact(
            {
                "id": self.id,
                "cmd": self.cmd,
                "args": dict(self.args),
                "ts": self.ts,
                "nonce": self.nonce,
                "sig": self.sig,
            }
        )


@dataclass(frozen=True, slots=True)
class CommandReply:
    """The outcome of command `id`: `result` when `ok`, else an `error` a person can read."""

    KIND: ClassVar[Kind] = Kind.CMD_REPLY

    id: str
    ok: bool
    result: JSON = field(default=None, hash=False)
    error: str | None = None

    @classmethod
    def from_json(cls, obj: Obj) -> CommandReply:
        ok = req(obj, "ok", as_bool)
        error = opt(obj, "error", as_str, max_len=4096)
        if not ok and error is None:
            raise MalformedMessage("error", "required when ok is false")
        if ok and error is not None:
            raise MalformedMessage("error", "must be absent when ok is true")
        return cls(req(obj, "id", as_id), ok, obj.get("result"), error)

    def to_json(self) -> Obj:
        return compact({"id": self.id, "ok": self.ok, "result": self.result, "error": self.error})
