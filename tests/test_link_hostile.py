"""Hostile input into a running box over a real mosquitto: whatever arrives on the box's topics is
acknowledged to the broker and answered or logged with the reason, so nothing fills the broker's in-flight
window and later commands keep being answered."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import tomllib
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_agent.link import AUDIT_NAME
from firmware_agent.link.inbound import dispatch, orders
from simulators.broker import Broker
from tests.mqtt_helpers import CloudPeer, LogWatch, broker, command_request, new_box_id, running_box
from tests.test_link_commands import config_file
from tests.test_link_e2e import order
from tests.test_wire_fuzz import ANY_TEXT
from tests.wire_helpers import json_objects, json_values, messages, replace_one
from wire import JSON, Command, Kind, encode, sign_command

__all__ = ["broker"]

IN_FLIGHT = 20  # mosquitto's max_inflight_messages default: unacknowledged QoS 1 messages per client


def test_commands_with_a_lone_surrogate_in_their_id_are_answered_and_do_not_block_later_ones(
    tmp_path, broker
):
    with running_box(tmp_path, broker.url, new_box_id()) as box:
        support = CloudPeer(broker.port, box=box.id)
        try:
            for n in range(IN_FLIGHT + 5):
                support.send_raw(
                    Kind.CMD,
                    b'{"v":1,"id":"\\ud800-%d","cmd":"status"}' % n,
                    ResponseTopic=support.topic(Kind.CMD_REPLY),
                )
            replies = support.wait_for(Kind.CMD_REPLY, IN_FLIGHT + 5)
            assert all(not r.ok and "surrogate" in (r.error or "") for r in replies)
            reply = command_request(broker.port, Command("after-1", "status"), box=box.id)
            assert reply.ok and reply.result["box"] == box.id
        finally:
            support.close()
        audit = [json.loads(line) for line in (tmp_path / AUDIT_NAME).read_text().splitlines()]
        assert sum("surrogate" in str(entry.get("error")) for entry in audit) == IN_FLIGHT + 5


def test_orders_the_store_keeps_refusing_are_dropped_with_a_reason_and_commands_still_get_through(
    tmp_path, broker, monkeypatch
):
    def disk_full(*_args: object) -> None:  # what SQLite says when the data partition is full
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(orders, "store_order", disk_full)
    monkeypatch.setattr(dispatch, "RETRY_EVERY_S", 0.05)
    monkeypatch.setattr(dispatch, "MAX_ATTEMPTS", 3)
    dropped = LogWatch("dropped after 3 attempt(s)")
    with dropped, running_box(tmp_path, broker.url, new_box_id()) as box:
        cloud = CloudPeer(broker.port, box=box.id)
        try:
            for n in range(IN_FLIGHT + 5):
                cloud.send(order(f"wc-{n}"))
            dropped.wait()
            reply = command_request(broker.port, Command("after-orders", "status"), box=box.id)
            assert reply.ok
        finally:
            cloud.close()


# ---- config.set: whom the box trusts changes only with a signed command -----------------------------------

KEY = "a support key of 32 bytes, shh!!"


def test_an_unsigned_config_set_cannot_move_the_box_to_another_broker(tmp_path, broker, tmp_path_factory):
    box_id = new_box_id()
    path = config_file(tmp_path, box_id, broker.url, command_key=KEY)
    before = path.read_text()
    with (
        Broker(tmp_path_factory.mktemp("rogue")) as rogue,
        running_box(tmp_path, broker.url, box_id, config_path=path, command_key=KEY) as box,
    ):
        values: dict[str, JSON] = {"mqtt": {"url": rogue.url, "username": "x", "password": "rogue-password"}}
        reply = command_request(broker.port, Command("move-1", "config.set", {"values": values}), box=box_id)
        assert not reply.ok
        assert "mqtt.url, mqtt.username, mqtt.password" in reply.error and "signed" in reply.error
        assert path.read_text() == before and not box.link.on_trial
        assert command_request(broker.port, Command("still-here", "status"), box=box_id).result["connected"]


def test_a_signed_config_set_may_change_the_broker_settings(tmp_path, broker):
    box_id = new_box_id()
    path = config_file(tmp_path, box_id, broker.url, command_key=KEY, config_revert_s=1.5)
    with running_box(tmp_path, broker.url, box_id, config_path=path, command_key=KEY, config_revert_s=1.5):
        values: dict[str, JSON] = {"mqtt": {"client_id": f"{box_id}-2"}}
        signed = sign_command(
            Command("move-2", "config.set", {"values": values}), KEY.encode(), datetime.now(UTC)
        )
        reply = command_request(broker.port, signed, box=box_id)
        assert reply.ok and reply.result["changed"] == ["mqtt"]
        assert tomllib.loads(path.read_text())["mqtt"]["client_id"] == f"{box_id}-2"


def test_an_unsigned_config_set_still_changes_everyday_settings(tmp_path, broker):
    box_id = new_box_id()
    path = config_file(tmp_path, box_id, broker.url, config_revert_s=1.5)
    with running_box(tmp_path, broker.url, box_id, config_path=path, config_revert_s=1.5):
        values: dict[str, JSON] = {"mqtt": {"telemetry_s": 30.0}}
        reply = command_request(broker.port, Command("tele-1", "config.set", {"values": values}), box=box_id)
        assert reply.ok and reply.result["changed"] == ["mqtt"]


# ---- anything on the box's topics: no exception escapes, nothing stalls, every drop says why --------------

INBOUND = (Kind.ACK, Kind.CATALOG, Kind.ORDERS, Kind.CMD, Kind.LEVELS)
DISRUPTIVE = {"restart", "config.set", "update"}  # valid ones would restart or move this very box


def _inbound(message: Any) -> bool:
    return message.KIND in INBOUND and getattr(message, "cmd", None) not in DISRUPTIVE


@st.composite
def hostile_payloads(draw: st.DrawFn) -> tuple[Kind, bytes]:
    how = draw(st.sampled_from(["valid", "mutated", "bytes", "object"]))
    if how == "bytes":
        return draw(st.sampled_from(INBOUND)), draw(st.binary(max_size=300))
    if how == "object":
        return draw(st.sampled_from(INBOUND)), json.dumps({"v": 1, **draw(json_objects)}).encode()
    message = draw(messages.filter(_inbound))
    obj = json.loads(encode(message))
    if how == "mutated":
        replace_one(draw, obj, json_values | ANY_TEXT)
    kind = message.KIND if draw(st.booleans()) else draw(st.sampled_from(INBOUND))
    return kind, json.dumps(obj).encode()


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_no_payload_on_the_boxs_topics_raises_stalls_or_goes_unexplained(tmp_path, broker):
    records = Records()
    logging.getLogger("firmware_agent").addHandler(records)
    try:
        with running_box(tmp_path, broker.url, new_box_id()) as box:
            cloud = CloudPeer(broker.port, box=box.id)
            try:

                @given(hostile_payloads())
                @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
                def publish(sent: tuple[Kind, bytes]) -> None:
                    cloud.send_raw(*sent)

                publish()
                reply = command_request(broker.port, Command("after-fuzz", "status"), box=box.id)
                assert reply.ok and reply.result["connected"]  # answered, so everything before was handled
            finally:
                cloud.close()
    finally:
        logging.getLogger("firmware_agent").removeHandler(records)
    crashes = [r for r in records.records if r.exc_info]
    assert not crashes, [r.getMessage() for r in crashes]
    drops = [r.getMessage() for r in records.records if "dropped a bad message" in r.getMessage()]
    assert all(re.search(r"bytes\): \S", line) for line in drops), drops  # each names what was wrong
