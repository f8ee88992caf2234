"""The link's parts on their own, through the narrow Protocols they declare (no broker, no core loop, time
given): a config change on trial is kept or reverted, and an inbound message is routed, tried again and in
the end acknowledged so it never holds the broker's in-flight window for ever."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from firmware_agent.config import AgentConfig, validate
from firmware_agent.link import configset
from firmware_agent.link.commands import Request
from firmware_agent.link.events import Received
from firmware_agent.link.inbound.dispatch import MAX_ATTEMPTS, RETRY_EVERY_S, Inbound, LinkStopped
from firmware_agent.link.trial import ConfigTrial
from wire import Command, CommandReply, Kind, build_topic

OLD = '[box]\nid = "till-1"\nshop = "shop1"\n\n[mqtt]\nurl = "mqtt://old.example:1883"\n'
NEW = OLD.replace("old.example", "new.example")
REVERT_S = 60.0


def config_of(text: str) -> AgentConfig:
    return validate(tomllib.loads(text), "test")


@dataclass
class Host:
    """A link as the trial sees it: records reconnects and the replies it would send."""

    config_path: Path
    revert_s: float = REVERT_S
    switched: list[str] = field(default_factory=list)
    replies: list[tuple[CommandReply, Received | None]] = field(default_factory=list)

    def switch_config(self, config: AgentConfig) -> None:
        assert config.mqtt is not None
        self.switched.append(config.mqtt.url)

    def finish(self, request: Request, reply: CommandReply, to: Received | None) -> None:
        self.replies.append((reply, to))


@pytest.fixture
def host(tmp_path: Path) -> Host:
    path = tmp_path / "agent.toml"
    path.write_text(OLD)
    return Host(path)


def asked() -> tuple[Request, Received]:
    msg = Received(
        3, "tillbridge/v1/shop1/till-1/cmd", b"{}", 7, 1, response_topic="support/r", correlation=b"c"
    )
    return Request(Command("cfg-1", "config.set"), "support/r", True), msg


def on_trial(trial: ConfigTrial) -> bool:
    return trial.active


def begin(trial: ConfigTrial, host: Host, generation: int, now: float) -> Received:
    configset.begin(host.config_path, NEW, OLD)
    request, msg = asked()
    trial.begin(config_of(NEW), ["mqtt"], request, generation, msg, now)
    return msg


def test_a_change_that_reaches_the_broker_is_kept_and_answered_where_the_command_asked(host: Host) -> None:
    trial = ConfigTrial(host)
    msg = begin(trial, host, generation=3, now=100.0)
    assert host.switched == ["mqtt://new.example:1883"] and on_trial(trial)
    trial.on_connected(3)  # the connection the change began on: says nothing about the new settings
    assert on_trial(trial)
    trial.on_connected(4)
    assert not on_trial(trial) and not configset.on_trial(host.config_path)
    assert host.config_path.read_text() == NEW
    reply, to = host.replies[0]
    assert reply.ok and reply.result == {"applied": True, "changed": ["mqtt"], "restart_needed": []}
    assert to is msg
    trial.tick(100.0 + REVERT_S + 1)  # nothing left to revert
    assert host.config_path.read_text() == NEW and len(host.replies) == 1


def test_a_change_that_never_reaches_the_broker_is_reverted_at_its_deadline(host: Host) -> None:
    trial = ConfigTrial(host)
    begin(trial, host, generation=3, now=100.0)
    trial.tick(100.0 + REVERT_S - 0.5)
    assert on_trial(trial) and host.config_path.read_text() == NEW
    trial.tick(100.0 + REVERT_S)
    assert not on_trial(trial) and host.config_path.read_text() == OLD
    assert host.switched == ["mqtt://new.example:1883", "mqtt://old.example:1883"]
    reply, _ = host.replies[0]
    assert not reply.ok and "within 60 s: reverted" in (reply.error or "")


def test_a_change_interrupted_by_a_restart_gets_its_own_deadline_and_no_reply(host: Host) -> None:
    configset.begin(host.config_path, NEW, OLD)  # the agent stopped while the change was on trial
    trial = ConfigTrial(host)
    trial.resume(now=10.0)
    assert on_trial(trial)
    trial.tick(10.0 + REVERT_S)
    assert host.config_path.read_text() == OLD and host.replies == []


@dataclass
class Broker:
    shop: str = "shop1"
    box: str = "till-1"
    generation: int = 1
    acked: list[int] = field(default_factory=list)

    def ack(self, msg: Received) -> None:
        self.acked.append(msg.mid)


def message(mid: int, kind: Kind = Kind.ORDERS, box: str = "till-1", generation: int = 1) -> Received:
    return Received(generation, build_topic("shop1", box, kind), b"{}", mid, 1)


def test_a_message_is_acked_after_its_handler_ran_and_one_for_another_box_is_acked_unhandled() -> None:
    handled: list[int] = []
    broker, restarts = Broker(), []
    inbound = Inbound({Kind.ORDERS: lambda m: handled.append(m.mid)}, broker, lambda: restarts.append(1))
    inbound.receive(message(1))
    inbound.receive(message(2, box="till-2"))
    inbound.receive(message(3, kind=Kind.CATALOG))  # a kind nobody handles
    assert handled == [1] and broker.acked == [1, 2, 3] and len(restarts) == 3


def test_a_message_the_store_keeps_refusing_is_tried_again_then_acked_so_the_broker_keeps_sending() -> None:
    attempts: list[int] = []

    def full(msg: Received) -> None:
        attempts.append(msg.mid)
        raise OSError("database or disk is full")

    broker = Broker()
    inbound = Inbound({Kind.ORDERS: full}, broker, lambda: None)
    inbound.receive(message(9))
    now = 0.0
    for _ in range(MAX_ATTEMPTS - 1):
        assert broker.acked == []  # held, to be tried again
        now += RETRY_EVERY_S
        inbound.tick(now)
    assert len(attempts) == MAX_ATTEMPTS and broker.acked == [9]


def test_a_message_of_a_connection_gone_is_not_tried_again_and_a_stopping_link_acks_nothing() -> None:
    def fail(msg: Received) -> None:
        raise OSError("busy")

    def stopping(msg: Received) -> None:
        raise LinkStopped("the link is stopping")

    broker = Broker()
    inbound = Inbound({Kind.ORDERS: fail, Kind.CMD: stopping}, broker, lambda: None)
    inbound.receive(message(1))
    broker.generation = 2  # reconnected: the broker sends it again itself
    inbound.tick(RETRY_EVERY_S)
    inbound.receive(message(2, kind=Kind.CMD, generation=2))
    assert broker.acked == []
