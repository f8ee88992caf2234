"""`tillbridge broker accounts`: the broker's accounts for the fleet in a bridge config. Passwords are never
defaults and survive a re-run; removed boxes lose their account; the bridge's own MQTT link gets every
subscription it needs from a real mosquitto running the generated file.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cloud_bridge.accounts import AccountsError, Fleet, accounts, password_matches
from cloud_bridge.config import BrokerConfig
from cloud_bridge.intake import Intake
from cloud_bridge.mqtt import MqttLink
from configspec import Secret
from simulators.broker import Broker
from tests.mqtt_helpers import WAIT_S
from tillbridge.cli import main

CONFIG = """
[bridge]
worker_id = "w1"
[[shop]]
id = "corner"
platform = "woocommerce"
base_url = "https://shop.example.com"
boxes = {boxes}
credentials = {{ consumer_key = "ck", consumer_secret = "cs" }}
"""


def generate(
    tmp: Path, boxes: list[str], *extra: str, passwords: str = "new.toml"
) -> tuple[int, dict[str, Any]]:
    (tmp / "bridge.toml").write_text(CONFIG.format(boxes=json.dumps(boxes)))
    argv = ["broker", "accounts", "--config", str(tmp / "bridge.toml"), "--workers", "w1,w2"]
    code = main([*argv, "--out", str(tmp / "accounts.json"), "--passwords", str(tmp / passwords), *extra])
    return code, json.loads((tmp / "accounts.json").read_text()) if code == 0 else {}


def clients(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["username"]: c for c in doc["clients"]}


def test_every_account_gets_a_random_password_written_once_to_a_private_file(tmp_path):
    code, doc = generate(tmp_path, ["till-1", "till-2"])
    assert code == 0
    made = tomllib.loads((tmp_path / "new.toml").read_text())
    assert set(made) == {"till-1", "till-2", "bridge_w1", "bridge_w2"}
    assert len(set(made.values())) == 4 and all(len(p) >= 24 for p in made.values())
    assert (tmp_path / "new.toml").stat().st_mode & 0o077 == 0
    assert (tmp_path / "accounts.json").stat().st_mode & 0o077 == 0
    for name, entry in clients(doc).items():
        assert password_matches(entry, made[name]) and not password_matches(entry, "")
    assert clients(doc)["till-1"]["clientid"] == "till-1"
    assert clients(doc)["bridge_w2"]["clientid"] == "tillbridge-w2"
    assert doc["defaultACLAccess"] == {
        "publishClientSend": False, "publishClientReceive": False, "subscribe": False, "unsubscribe": True
    }  # fmt: skip


def test_a_rerun_keeps_passwords_adds_new_boxes_and_drops_removed_ones(tmp_path, capsys):
    generate(tmp_path, ["till-1", "till-2"])
    first = clients(json.loads((tmp_path / "accounts.json").read_text()))
    code, doc = generate(tmp_path, ["till-1", "till-3"], passwords="second.toml")
    assert code == 0 and "removed till-2" in capsys.readouterr().out
    again = clients(doc)
    assert again["till-1"]["password"] == first["till-1"]["password"]
    assert "till-2" not in again
    assert set(tomllib.loads((tmp_path / "second.toml").read_text())) == {"till-3"}


def test_rotate_gives_one_account_a_new_password(tmp_path):
    generate(tmp_path, ["till-1"])
    before = clients(json.loads((tmp_path / "accounts.json").read_text()))
    code, doc = generate(tmp_path, ["till-1"], "--rotate", "till-1", passwords="rotated.toml")
    assert code == 0 and clients(doc)["till-1"]["password"] != before["till-1"]["password"]
    assert password_matches(
        clients(doc)["till-1"], tomllib.loads((tmp_path / "rotated.toml").read_text())["till-1"]
    )


def test_an_existing_passwords_file_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "new.toml").write_text("keep me")
    code, _ = generate(tmp_path, ["till-1"])
    assert code == 2 and "exists" in capsys.readouterr().err
    assert (tmp_path / "new.toml").read_text() == "keep me"


def test_a_box_id_that_is_also_a_service_account_or_invalid_is_refused():
    with pytest.raises(AccountsError, match="two accounts"):
        accounts(Fleet({"a": ("till-1",), "b": ("till-1",)}, workers=("w1",)))
    with pytest.raises(AccountsError, match="worker id"):
        accounts(Fleet({}, workers=("W 1",)))


def test_the_bridge_worker_gets_every_subscription_it_needs(tmp_path):
    assert generate(tmp_path, ["till-1"])[0] == 0
    password = tomllib.loads((tmp_path / "new.toml").read_text())["bridge_w1"]
    with Broker(tmp_path / "broker", dynsec_file=tmp_path / "accounts.json") as broker:
        config = BrokerConfig(url=broker.url, username="bridge_w1", password=Secret(password))
        link = MqttLink(config, "tillbridge-w1", "bridge", Intake())
        link.start()
        try:
            assert link.subscribed.wait(WAIT_S)
            assert link.refused == []
        finally:
            link.stop()
