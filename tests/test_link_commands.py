"""Remote commands against a real mosquitto: the allow-list, replies (v5 and 3.1.1), signing, audit,
config.set with its automatic revert, mosquitto_rr and `tillbridge support`."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devices.printers.decode import decode_tickets
from devices.readings import ScanRead
from firmware_agent.config.tomlfile import dumps
from firmware_agent.link import AUDIT_NAME
from tests.mqtt_helpers import (
    FAST,
    SHOP,
    CloudPeer,
    LogWatch,
    broker,
    command_request,
    journal_seqs,
    new_box_id,
    rows,
    running_box,
)
from tests.store_helpers import SAMPLE
from tillbridge.cli import main
from wire import CatalogRequest, Command, Kind, build_topic, sign_command

__all__ = ["broker"]

KEY = "a support key of 32 bytes, shh!!"


@pytest.fixture
def box(tmp_path, broker):
    with running_box(tmp_path, broker.url, new_box_id()) as running:
        yield running


def ask(broker, box, cmd: str, args=None, id: str = "c-1", **kw):
    return command_request(broker.port, Command(id, cmd, args or {}), box=box.id, **kw)


def audit(tmp_path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / AUDIT_NAME).read_text().splitlines()]


# ---- the allow-list ----------------------------------------------------------------------------------------


def test_status_answers_on_the_v5_response_topic_with_the_correlation_data(broker, box):
    reply = ask(broker, box, "status")
    assert reply.ok and reply.id == "c-1"
    result = reply.result
    assert result["box"] == box.id and result["shop"] == SHOP and result["connected"] is True
    assert result["mode"] == "sale" and result["boot"] == 1 and result["products"] == len(SAMPLE)
    assert {"backlog", "last_seq", "journal_bytes", "journal_level", "config_hash", "uptime_s"} <= set(result)


def test_a_311_client_gets_its_reply_on_cmd_reply_with_its_id(broker, box):
    reply = ask(broker, box, "devices", id="old-client-7", v311=True)
    assert reply.ok and reply.id == "old-client-7"
    assert reply.result["mqtt"]["state"] == "ok"  # the link itself is a device with a status


def test_mosquitto_rr_works_and_read_only_commands_may_repeat_their_id(broker, box):
    rr = shutil.which("mosquitto_rr")
    assert rr, "mosquitto_rr is part of mosquitto-clients, which ./dev installs"
    topic = build_topic(SHOP, box.id, Kind.CMD)
    for _ in range(2):
        done = subprocess.run(
            [rr, "-V", "5", "-p", str(broker.port), "-t", topic, "-e", "support/reply", "-W", "10",
             "-m", '{"v":1,"id":"1","cmd":"status"}'],
            capture_output=True, text=True, timeout=20, check=True,
        )  # fmt: skip
        reply = json.loads(done.stdout)
        assert reply["ok"] is True and reply["result"]["box"] == box.id


def test_unknown_malformed_and_badly_argued_commands_get_errors_never_a_crash(broker, box):
    unknown = command_request(
        broker.port, b'{"v":1,"id":"x1","cmd":"shell","args":{"c":"rm -rf /"}}', box=box.id
    )
    assert not unknown.ok and "unknown command 'shell'" in unknown.error
    no_version = command_request(broker.port, b'{"id":"x0","cmd":"status"}', box=box.id)  # hand-written
    assert not no_version.ok and "v" in no_version.error and no_version.id == "x0"
    bad_args = ask(broker, box, "logs", {"lines": 0}, id="x2")
    assert not bad_args.ok and "args.lines" in bad_args.error
    no_mode = ask(broker, box, "mode.set", {"mode": "party"}, id="x3")
    assert not no_mode.ok and "args.mode must be one of count, lookup, receive, sale" in no_mode.error
    peer = CloudPeer(broker.port, box=box.id)
    with LogWatch("not valid UTF-8", "tillbridge.audit") as audited:
        peer.send_raw(Kind.CMD, b"\xff\xfe not even text")  # no readable id: nobody to answer, a log line
        audited.wait()
    peer.close()
    assert ask(broker, box, "status", id="x4").ok  # still answering


def test_logs_returns_the_last_lines_filtered_by_level(broker, box):
    logging.getLogger("firmware_agent.test").warning("the printer is on fire")
    logging.getLogger("firmware_agent.test").info("all quiet")
    warnings = ask(broker, box, "logs", {"level": "warning", "lines": 5}).result
    assert any("the printer is on fire" in line for line in warnings)
    assert not any("all quiet" in line for line in warnings)
    assert len(ask(broker, box, "logs", {"lines": 2}, id="c-2").result) == 2


def test_mode_set_switches_the_mode_once_per_command_id(broker, box, tmp_path):
    assert ask(broker, box, "mode.set", {"mode": "receive"}, id="m-1").result == {"mode": "receive"}
    again = ask(broker, box, "mode.set", {"mode": "receive"}, id="m-1")
    assert not again.ok and "already ran" in again.error
    [(kind, data)] = rows(tmp_path, "SELECT kind, data FROM journal")
    assert kind == "mode_changed" and json.loads(data)["source"] == "remote"


def test_print_test_and_reprint_queue_print_jobs(broker, box, tmp_path):
    job = ask(broker, box, "print.test", id="p-1").result["job"]
    [(kind, payload)] = rows(tmp_path, "SELECT kind, payload FROM print_job WHERE id = ?", (job,))
    (ticket,) = decode_tickets(payload)
    assert kind == "selftest" and "SELF-TEST" in ticket.text and box.id in ticket.text
    assert ask(broker, box, "print.reprint", {"job": job}, id="p-2").ok
    assert rows(tmp_path, "SELECT reprint FROM print_job WHERE id = ?", (job,)) == [(1,)]
    missing = ask(broker, box, "print.reprint", {"order_id": "nope"}, id="p-3")
    assert not missing.ok and "not on this box" in missing.error


def test_catalog_resync_and_journal_resend(broker, tmp_path):
    box_id = new_box_id()
    cloud = CloudPeer(broker.port, box=box_id, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, box_id) as running:
            cloud.wait_for(Kind.CATALOG_REQUEST)  # the boot request
            assert ask(broker, running, "catalog.resync", id="r-1").result == {
                "requested": True,
                "have_version": None,
            }
            assert cloud.wait_for(Kind.CATALOG_REQUEST, 2)[-1] == CatalogRequest(None, "command")
            running.core.post(ScanRead("front", "8410000000023"))
            cloud.wait(lambda s: len(s.arrivals) == 1)
            assert ask(broker, running, "journal.resend", id="r-2").result == {"from_seq": 1, "backlog": 1}
            cloud.wait(lambda s: s.arrivals == [1, 1], what="the entry sent again")
    finally:
        cloud.close()


def test_restart_replies_first_then_asks_for_a_restart(broker, box):
    restarted = threading.Event()
    box.link.on_restart = restarted.set
    assert ask(broker, box, "restart", id="boom").result == {"restarting": True}
    assert restarted.wait(10)


def test_a_retained_command_is_never_run(broker, tmp_path, caplog):
    """A retained command would run again at every reconnect: the box refuses what arrives retained."""
    box_id = new_box_id()
    peer = CloudPeer(broker.port, box=box_id)
    try:
        peer.send(Command("ret-1", "print.test"), retain=True)
        with (
            caplog.at_level(logging.WARNING, "firmware_agent.link"),
            running_box(tmp_path, broker.url, box_id) as running,
        ):
            assert ask(broker, running, "status", id="after").ok
        assert "retained command" in caplog.text and rows(tmp_path, "SELECT 1 FROM print_job") == []
    finally:
        peer.client.publish(build_topic(SHOP, box_id, Kind.CMD), b"", 1, retain=True)
        peer.close()


# ---- signing and audit -------------------------------------------------------------------------------------


def test_a_box_that_requires_signatures_refuses_unsigned_forged_replayed_and_stale_commands(tmp_path, broker):
    box_id, key = new_box_id(), KEY.encode()
    with running_box(tmp_path, broker.url, box_id, command_key=KEY, require_signed_commands=True) as running:
        now = datetime.now(UTC)
        unsigned = ask(broker, running, "status", id="u-1")
        assert not unsigned.ok and "only signed commands" in unsigned.error
        signed = sign_command(Command("s-1", "status"), key, now)
        assert command_request(broker.port, signed, box=box_id).ok
        replay = command_request(broker.port, signed, box=box_id)
        assert not replay.ok and "already used" in replay.error
        forged = sign_command(Command("s-2", "restart"), b"another key of sixteen+ bytes", now)
        assert "does not match" in command_request(broker.port, forged, box=box_id).error
        stale = sign_command(Command("s-3", "status"), key, now - timedelta(hours=1))
        assert "outside the 300 s window" in command_request(broker.port, stale, box=box_id).error
    lines = audit(tmp_path)
    assert [(line["id"], line["ok"], line["signed"]) for line in lines] == [
        ("u-1", False, False), ("s-1", True, True), ("s-1", False, True),
        ("s-2", False, True), ("s-3", False, True),
    ]  # fmt: skip


# ---- config.set --------------------------------------------------------------------------------------------


def config_file(tmp_path, box_id, url, **mqtt):
    path = tmp_path / "agent.toml"
    table = {"url": url, **FAST, **mqtt}
    path.write_text(dumps({"box": {"id": box_id, "shop": SHOP, "data_dir": str(tmp_path)}, "mqtt": table}))
    return path


@pytest.fixture
def configured(tmp_path, broker):
    box_id = new_box_id()
    path = config_file(tmp_path, box_id, broker.url, config_revert_s=1.5, command_key=KEY)
    options: dict[str, Any] = {"config_revert_s": 1.5, "command_key": KEY}
    with running_box(tmp_path, broker.url, box_id, config_path=path, **options) as running:
        yield running


def ask_signed(broker, box, cmd: str, args, id: str):
    """A command signed with the box's key: config.set needs one for the broker's settings."""
    signed = sign_command(Command(id, cmd, args), KEY.encode(), datetime.now(UTC))
    return command_request(broker.port, signed, box=box.id)


def test_config_set_validates_applies_reconnects_and_audits_without_secrets(broker, configured, tmp_path):
    values = {"mqtt": {"telemetry_s": 30.0, "password": "hunter2-but-long"}}
    # mosquitto here is anonymous: a password does no harm, and shows it never reaches the audit trail
    reply = ask_signed(broker, configured, "config.set", {"values": values}, id="cfg-1")
    assert reply.ok and reply.result == {"applied": True, "changed": ["mqtt"], "restart_needed": []}
    on_disk = tomllib.loads(configured.path.read_text())
    assert on_disk["mqtt"]["telemetry_s"] == 30.0 and not (tmp_path / "agent.toml.previous").exists()
    view = ask(broker, configured, "config.get", id="cfg-2").result
    assert view["mqtt"]["password"] == "***" and view["mqtt"]["telemetry_s"] == 30.0
    trail = (tmp_path / AUDIT_NAME).read_text()
    assert "hunter2" not in trail and '"password":"***"' in trail


def test_an_invalid_config_set_changes_nothing_and_says_why(broker, configured):
    before = configured.path.read_text()
    reply = ask(broker, configured, "config.set", {"values": {"mqtt": {"keepalive_s": 300}}}, id="bad-1")
    assert not reply.ok and "mqtt.keepalive_s: 300 must be from 5 to 30" in reply.error
    fixed = ask(broker, configured, "config.set", {"values": {"box": {"id": "someone-else"}}}, id="bad-2")
    assert not fixed.ok and "box.id cannot be changed remotely" in fixed.error
    assert configured.path.read_text() == before


def test_a_config_that_cannot_reach_the_broker_is_reverted_automatically(broker, configured, tmp_path):
    before = configured.path.read_text()
    values = {"mqtt": {"url": "mqtt://127.0.0.1:9"}}
    reply = ask_signed(broker, configured, "config.set", {"values": values}, id="cut")
    assert not reply.ok and "reverted" in reply.error
    assert configured.path.read_text() == before and not (tmp_path / "agent.toml.previous").exists()
    assert ask(broker, configured, "status", id="back").result["connected"] is True


# ---- the support client ------------------------------------------------------------------------------------


def test_tillbridge_support_prints_the_reply_and_signs_with_a_key_file(tmp_path, broker, capsys):
    box_id = new_box_id()
    key_file = tmp_path / "box.key"
    key_file.write_text(KEY + "\n")
    with running_box(tmp_path, broker.url, box_id, command_key=KEY, require_signed_commands=True) as running:
        common = ["--shop", SHOP, "--url", broker.url, "--timeout", "10", "--key-file", str(key_file)]
        assert main(["support", "status", box_id, *common]) == 0
        assert json.loads(capsys.readouterr().out)["result"]["box"] == box_id
        assert main(["support", "call", box_id, "mode.set", "mode=count", *common]) == 0
        assert json.loads(capsys.readouterr().out)["result"] == {"mode": "count"}
        assert main(["support", "logs", box_id, "--lines", "3", *common]) == 0
        assert len(json.loads(capsys.readouterr().out)["result"]) == 3
        unsigned = ["--shop", SHOP, "--url", broker.url, "--timeout", "10"]
        assert main(["support", "devices", box_id, *unsigned]) == 1
        assert "only signed commands" in json.loads(capsys.readouterr().out)["error"]
        assert running.link.connected
    assert main(["support", "status", "nobody-here", *unsigned[:4], "--timeout", "0.5"]) == 2
    assert journal_seqs(tmp_path) == [1]  # the mode change


def test_labels_print_needs_a_printer(broker, box):
    reply = ask(broker, box, "labels.print", id="l-1")  # this box has no printer service
    assert not reply.ok and reply.error == "labels.print: this box has no printer configured"
