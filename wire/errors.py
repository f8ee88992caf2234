"""The wire contract's exception tree.

Every error a peer can provoke with a payload or a topic is a `WireError`, so the MQTT link needs one
`except` clause and never crashes on bad input. Messages name the field and the problem, never a secret.
"""

from __future__ import annotations

from wire._text import show


class WireError(Exception):
    """Root of every error the wire contract raises: a message or topic that does not follow v1.

    `command_id` is set when the error concerns a command whose id could still be read, so the box can send
    an error reply instead of leaving the requester to time out.
    """

    command_id: str | None = None


class BadTopic(WireError, ValueError):
    """A topic (or a shop, box or group id) that is not one of ours: wrong root, unknown kind, injection."""


class MalformedMessage(WireError, ValueError):
    """A payload that is not a valid v1 message; `path` names the field ("journal.entries[3].seq")."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def at(self, outer: str) -> None:
        """Prefixes the path with the enclosing field, as the error travels out of a nested decoder."""
        self.path = f"{outer}.{self.path}" if self.path else outer
        self.args = (self.path, self.problem)

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" if self.path else self.problem


class MessageTooLarge(WireError, ValueError):
    """A payload above the size limit; refused before it is parsed, so a huge message costs no memory."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what}: {size} bytes is over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class CatalogFileError(WireError, ValueError):
    """A catalog file that cannot be imported at all (no header, a required column missing, too big)."""


class UnsupportedVersion(WireError, ValueError):
    """A message for another version of the contract (its `"v"` is not 1)."""

    def __init__(self, what: str, version: int) -> None:
        super().__init__(f'{what}: wire version {version} is not supported (this side speaks "v": 1)')
        self.version = version


class UnknownCommand(WireError, ValueError):
    """A command outside the fixed allow-list; `command_id` is set so the box can reply with the error."""

    def __init__(self, command_id: str, cmd: str) -> None:
        super().__init__(f"cmd {command_id!r}: unknown command {show(cmd)}")
        self.command_id = command_id
        self.cmd = cmd


class SignatureError(WireError):
    """A signed command that must not run: unsigned, tampered with, expired or replayed."""

    def __init__(self, command_id: str, problem: str) -> None:
        super().__init__(f"cmd {command_id!r}: {problem}")
        self.command_id = command_id


class BadSignature(SignatureError):
    """The command carries no signature, or one that does not match its content and the key."""


class CommandExpired(SignatureError):
    """The command was signed outside the accepted time window (too old, or dated in the future)."""


class CommandReplayed(SignatureError):
    """The command's nonce was seen before: someone is sending a recorded command again."""
