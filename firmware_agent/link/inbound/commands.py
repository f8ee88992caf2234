"""`cmd`: a remote support command, run by `CommandRunner` (link/commands.py) and answered where it asked.

The message in hand is noted while its command runs, so a `config.set` that puts the box on trial can
answer later, once the outcome is known (link/trial.py)."""

from __future__ import annotations

import logging
from typing import Protocol

from firmware_agent.link.commands import CommandRunner
from firmware_agent.link.events import Received
from wire import CommandReply, Kind

log = logging.getLogger(__name__)


class CommandSide(Protocol):
    in_hand: Received | None

    @property
    def runner(self) -> CommandRunner: ...

    def topic(self, kind: Kind) -> str: ...

    def reply(self, response_topic: str | None, correlation: bytes | None, reply: CommandReply) -> None: ...


def on_command(link: CommandSide, msg: Received) -> None:
    if msg.retain:
        log.warning("a retained command on %s was ignored: commands are never retained", msg.topic)
        return
    reply_to = msg.response_topic or link.topic(Kind.CMD_REPLY)
    link.in_hand = msg
    try:
        reply = link.runner.run(msg.payload, reply_to)
    finally:
        link.in_hand = None
    if reply is not None:
        link.reply(msg.response_topic, msg.correlation, reply)
