"""The remote `update` command: only signed, queued for the root updater (which installs the signed release
with the health gate and rollback of tests/test_update_flow.py), its outcome in `status`; and a release
older than the committed one is refused unless asked for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from firmware_agent.updates import Outcome, Source, UpdateRejected
from firmware_agent.updates.layout import version_key
from tests.mqtt_helpers import broker, command_request, new_box_id, running_box
from tests.test_update_flow import box, key, web
from wire import JSON, Command, sign_command

__all__ = ["box", "broker", "key", "web"]

COMMAND_KEY = "a support key of 32 bytes, shh!!"


def signed(command_id: str, args: dict[str, JSON]) -> Command:
    return sign_command(Command(command_id, "update", args), COMMAND_KEY.encode(), datetime.now(UTC))


def update_args(box: Any, web: str, version: str, **extra: JSON) -> dict[str, JSON]:
    artifact = box.artifact(version)
    url = f"{web}/{artifact.file.relative_to(box.work)}"
    return {"url": url, "sha256": artifact.sha256, "signature": artifact.signature, **extra}


@pytest.fixture
def agent(box, broker):
    """The box's agent, its data folder the updater's, signed commands checked with COMMAND_KEY."""
    box_id = new_box_id()
    with running_box(box.layout.data, broker.url, box_id, command_key=COMMAND_KEY) as running:
        running.link.update_root = box.layout.root
        yield running


def test_an_unsigned_update_is_refused_and_nothing_is_queued(agent, broker, box, web):
    reply = command_request(broker.port, Command("u-1", "update", update_args(box, web, "2.0")), box=agent.id)
    assert not reply.ok and "runs only as a command signed" in reply.error
    assert not box.layout.request_file.exists()


def test_a_signed_update_is_installed_by_the_root_updater_and_its_outcome_shows_in_status(
    agent, broker, box, web
):
    reply = command_request(broker.port, signed("u-2", update_args(box, web, "2.0")), box=agent.id)
    assert reply.ok and reply.result["queued"] and reply.result["running"] == "1.0", reply.error
    assert box.layout.request_file.exists()
    result = box.updater.run_queued()  # what tillbridge-update.service does once the path unit fires
    assert result is not None and result.outcome is Outcome.COMMITTED and result.id == reply.result["id"]
    status = command_request(broker.port, Command("s-1", "status"), box=agent.id).result["update"]
    assert (status["current"], status["last"]["outcome"]) == ("2.0", "committed")


def test_a_remote_downgrade_is_refused_unless_forced(agent, broker, box, web):
    box.install(box.artifact("2.0"))
    queued = command_request(broker.port, signed("d-1", update_args(box, web, "1.5")), box=agent.id)
    assert queued.ok, queued.error
    refused = box.updater.run_queued()
    assert refused is not None and refused.outcome is Outcome.REFUSED
    assert "older than the committed 2.0" in (refused.reason or "") and box.links()[0] == "2.0"
    forced = command_request(
        broker.port, signed("d-2", update_args(box, web, "1.5", force=True)), box=agent.id
    )
    assert forced.ok, forced.error
    result = box.updater.run_queued()
    assert result is not None and result.outcome is Outcome.COMMITTED and box.links()[0] == "1.5"


def test_bad_update_arguments_are_refused_naming_the_argument(agent, broker, box, web):
    args = update_args(box, web, "2.0")
    for bad, words in (
        ({**args, "url": "file:///etc/shadow"}, "args.url must be an http"),
        ({**args, "force": "yes"}, "args.force must be true or false"),
        ({**args, "signature": "¡no!"}, "update refused, nothing changed"),
        ({k: v for k, v in args.items() if k != "sha256"}, "args.sha256 is required"),
    ):
        reply = command_request(broker.port, signed(f"b-{words[:8]}", bad), box=agent.id)
        assert not reply.ok and words in reply.error, reply.error
    assert not box.layout.request_file.exists()


def test_a_downgrade_installed_by_hand_is_refused_unless_allowed(box):
    assert box.install(box.artifact("2.0")).outcome is Outcome.COMMITTED
    old = box.artifact("1.9")
    with pytest.raises(UpdateRejected, match=r"older than the committed 2\.0"):
        box.install(old)
    assert box.links()[:2] == ("2.0", "2.0")
    result = box.updater.install(Source(file=old.file), old.sha256, old.signature, allow_downgrade=True)
    assert result.outcome is Outcome.COMMITTED and box.links()[0] == "1.9"


def test_release_names_are_ordered_as_people_read_them():
    ordered = ["0.9", "1.0rc1", "1.0", "1.0.1", "1.2", "1.10", "2.0b", "2.0", "10.0"]
    assert sorted(ordered, key=version_key) == ordered
