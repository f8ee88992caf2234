"""A config change on trial: kept once the box reaches the broker with it, reverted when it cannot in time.

`config.set` writes the new file beside the old one (configset.py) and the link reconnects with it. The
change is confirmed by the first connection made with it (a later client generation than the one it began
on); if none comes within `config_revert_s`, the old file comes back and the link reconnects with that. A
change found on trial at start (the agent stopped during one) gets the same deadline. The command's reply
waits for the outcome, sent where the command asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from firmware_agent.config import AgentConfig
from firmware_agent.errors import ConfigError
from firmware_agent.link import configset
from firmware_agent.link.commands import Request
from firmware_agent.link.events import Received
from wire import JSON, CommandReply

log = logging.getLogger(__name__)


class TrialHost(Protocol):
    """What a trial needs of the link: where the config lives, how to reconnect, how to answer."""

    @property
    def config_path(self) -> Path | None: ...

    @property
    def revert_s(self) -> float:
        """How long a change may take to reach the broker (`mqtt.config_revert_s`, as configured now)."""
        ...

    def switch_config(self, config: AgentConfig) -> None: ...

    def finish(self, request: Request, reply: CommandReply, to: Received | None) -> None: ...


@dataclass(frozen=True)
class Trial:
    """A config change waiting to see the broker; `request` is None for one found on disk at start."""

    deadline: float
    after_generation: int
    changed: list[str]
    request: Request | None = None
    asked: Received | None = None  # the command's message: where its reply goes


class ConfigTrial:
    """The state machine: no trial, or one `Trial` until `on_connected` confirms it or `tick` reverts it."""

    def __init__(self, host: TrialHost) -> None:
        self.host = host
        self.trial: Trial | None = None

    @property
    def active(self) -> bool:
        return self.trial is not None

    def resume(self, now: float) -> None:
        """At start: a change the agent was stopped in the middle of gets a deadline of its own."""
        if configset.on_trial(self.host.config_path):
            log.warning(
                "config %s is on trial (a change was interrupted): reverting unless it connects",
                self.host.config_path,
            )
            self.trial = Trial(now + self.host.revert_s, 0, [])

    def begin(
        self,
        new: AgentConfig,
        changed: list[str],
        request: Request,
        generation: int,
        asked: Received | None,
        now: float,
    ) -> None:
        """The new file is written: reconnect with it, on trial until a connection after `generation`."""
        self.trial = Trial(now + self.host.revert_s, generation, changed, request, asked)
        self.host.switch_config(new)

    def on_connected(self, generation: int) -> None:
        trial = self.trial
        if trial is None or generation <= trial.after_generation:
            return
        self.trial = None
        if self.host.config_path is not None:
            configset.confirm(self.host.config_path)
        log.info("config change confirmed: the broker is reachable with it")
        if trial.request is not None:
            result: dict[str, JSON] = {
                "applied": True,
                "changed": list[JSON](trial.changed),
                "restart_needed": [c for c in trial.changed if c != "mqtt"],
            }
            reply = CommandReply(trial.request.command.id, True, result=result)
            self.host.finish(trial.request, reply, trial.asked)

    def tick(self, now: float) -> None:
        trial = self.trial
        if trial is None or now < trial.deadline:
            return
        self.trial = None
        path = self.host.config_path
        assert path is not None
        seconds = self.host.revert_s
        try:
            previous = configset.revert(path)
        except (OSError, ConfigError) as exc:
            log.critical("config change cannot be reverted (%s): keeping the new config", exc)
            return
        log.error("no broker within %.0f s with the new config: reverted %s", seconds, path)
        self.host.switch_config(previous)
        if trial.request is not None:
            error = f"could not reach the broker with the new config within {seconds:g} s: reverted"
            self.host.finish(
                trial.request, CommandReply(trial.request.command.id, False, error=error), trial.asked
            )
