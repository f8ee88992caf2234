"""Hostile input into a running box over a real mosquitto: whatever arrives on the box's topics is
acknowledged to the broker and answered or logged with the reason, so nothing fills the broker's in-flight
window and later commands keep being answered."""

from __future__ import annotations

import json
import sqlite3

from firmware_agent.link import AUDIT_NAME, service
from tests.mqtt_helpers import CloudPeer, LogWatch, broker, command_request, new_box_id, running_box
from tests.test_link_e2e import order
from wire import Command, Kind

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

    monkeypatch.setattr(service, "store_order", disk_full)
    monkeypatch.setattr(service, "RETRY_EVERY_S", 0.05)
    monkeypatch.setattr(service, "MAX_ATTEMPTS", 3)
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
