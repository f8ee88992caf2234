"""Broker security with a real mosquitto: the accounts and ACLs `tillbridge broker accounts` generates
(dynamic security), passwords, client ids bound to accounts, TLS, and the shipped mosquitto.conf. Denials of
publishes are proved by ordering: a client's packets are handled in order, so once a later message of the
same client has arrived, an earlier one that did not arrive was refused; subscriptions by their SUBACK."""

from __future__ import annotations

import os
import pwd
import re
import threading
import tomllib
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from simulators.broker import Broker, free_port, make_certs
from tests.mqtt_helpers import SHOP, WAIT_S, CloudPeer, LogWatch, running_box
from tillbridge.cli import main
from wire import Ack, Command, Kind, build_topic, encode

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "systemd" / "mosquitto" / "mosquitto.conf"
WORKER_ID = "w1"
WORKER = f"bridge_{WORKER_ID}"
JOURNALS = "tillbridge/v1/+/+/journal"
JOURNAL_OF_A = build_topic(SHOP, "box-a", Kind.JOURNAL)
FLEET_TOML = f"""
[bridge]
worker_id = "{WORKER_ID}"
[broker]
url = "mqtt://127.0.0.1:1883"
[[shop]]
id = "{SHOP}"
platform = "woocommerce"
base_url = "https://shop.example.com"
boxes = ["box-a", "box-b"]
credentials = {{ consumer_key = "ck", consumer_secret = "cs" }}
[[shop]]
id = "other-shop"
platform = "woocommerce"
base_url = "https://other.example.com"
boxes = ["box-c"]
credentials = {{ consumer_key = "ck", consumer_secret = "cs" }}
"""
USERS: dict[str, str] = {}  # filled from what `tillbridge broker accounts` generated


def generate_accounts(folder: Path) -> Path:
    """The broker's accounts as `tillbridge broker accounts` makes them; their passwords go into USERS."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bridge.toml").write_text(FLEET_TOML)
    dynsec, passwords = folder / "dynamic-security.json", folder / "new-passwords.toml"
    argv = ["broker", "accounts", "--config", str(folder / "bridge.toml"), "--workers", WORKER_ID]
    assert main([*argv, "--support", "demo", "--out", str(dynsec), "--passwords", str(passwords)]) == 0
    USERS.update(tomllib.loads(passwords.read_text()))
    return dynsec


@pytest.fixture(scope="module")
def dynsec(tmp_path_factory) -> Path:
    return generate_accounts(tmp_path_factory.mktemp("accounts"))


@pytest.fixture(scope="module")
def secured(tmp_path_factory, dynsec):
    with Broker(tmp_path_factory.mktemp("acl-broker"), dynsec_file=dynsec) as running:
        yield running


class Peer:
    """A plain MQTT v5 client logged in as `user`, recording what it receives and its PUBACK reason codes."""

    def __init__(
        self, broker: Broker, user: str, password: str | None = None, client_id: str | None = None
    ) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.acks: dict[int, str] = {}
        self.granted: list[list[str]] = []
        self.cond = threading.Condition()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or user, protocol=paho.MQTTv5
        )
        self.client.username_pw_set(user, USERS.get(user) if password is None else password)
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self._note(f"connect:{rc}")
        self.client.connect("127.0.0.1", broker.port, 10)
        self.client.loop_start()

    def _note(self, what: str) -> None:
        with self.cond:
            self.got.append((what, b""))
            self.cond.notify_all()

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        with self.cond:
            self.granted.append([str(code) for code in reasons])
        self._note("subscribed")

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with self.cond:
            self.got.append((msg.topic, bytes(msg.payload)))
            self.cond.notify_all()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self.cond:
            self.acks[mid] = str(reason)
            self.cond.notify_all()

    def wait(self, predicate, what: str) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, WAIT_S), f"timed out waiting for {what}: {self.got}"

    def connect_result(self) -> str:
        self.wait(lambda: any(t.startswith("connect:") for t, _ in self.got), "CONNACK")
        return next(t for t, _ in self.got if t.startswith("connect:")).removeprefix("connect:")

    def subscribe(self, *topics: str) -> list[str]:
        """Subscribes at QoS 1 and returns the broker's SUBACK reason per topic ("Granted QoS 1", "Not
        authorized")."""
        count = sum(t == "subscribed" for t, _ in self.got)
        self.client.subscribe([(t, 1) for t in topics])
        self.wait(lambda: sum(t == "subscribed" for t, _ in self.got) > count, "SUBACK")
        return self.granted[-1]

    def disconnected(self) -> bool:
        return not self.client.is_connected()

    def publish(self, topic: str, payload: bytes) -> str:
        """Publishes at QoS 1 and returns the broker's PUBACK reason ("Success" or "Not authorized")."""
        mid = self.client.publish(topic, payload, 1).mid
        self.wait(lambda: mid in self.acks, f"PUBACK {mid}")
        return self.acks[mid]

    def received(self, topic: str) -> list[bytes]:
        with self.cond:
            return [p for t, p in self.got if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def topic(box: str, kind: Kind) -> str:
    return build_topic(SHOP, box, kind)


@pytest.fixture
def peers(secured):
    made: list[Peer] = []

    def make(user: str, password: str | None = None, client_id: str | None = None) -> Peer:
        made.append(Peer(secured, user, password, client_id))
        return made[-1]

    yield make
    for peer in made:
        peer.close()


# ---- credentials -------------------------------------------------------------------------------------------


def test_wrong_or_missing_credentials_are_refused(secured, peers):
    assert peers("box-a", "wrong").connect_result() in ("Bad user name or password", "Not authorized")
    anonymous = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    result: list[str] = []
    done = threading.Event()

    def on_connect(_c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        result.append(str(rc))
        done.set()

    anonymous.on_connect = on_connect
    anonymous.connect("127.0.0.1", secured.port, 10)
    anonymous.loop_start()
    try:
        assert done.wait(WAIT_S) and result[0] != "Success"
    finally:
        anonymous.loop_stop()


def test_a_box_with_the_wrong_password_stays_offline_and_says_why(tmp_path, secured):
    refused = LogWatch("broker refused the connection")
    with refused, running_box(tmp_path, secured.url, "box-a", password="wrong-password", online=False) as box:
        refused.wait()
        assert not box.link.online.is_set()


# ---- the ACL -----------------------------------------------------------------------------------------------


def test_a_box_drains_and_gets_acks_through_the_acl(tmp_path, secured):
    cloud = CloudPeer(
        secured.port,
        box="box-a",
        username=WORKER,
        password=USERS[WORKER],
        client_id=f"tillbridge-{WORKER_ID}",
    )
    try:
        with running_box(tmp_path, secured.url, "box-a", password=USERS["box-a"]) as box:
            box.core.post(__import__("devices.readings").readings.ScanRead("front", "8410000000023"))
            cloud.wait_applied(1)
            reply = command_request_as_support(secured, "box-a")
            assert reply.ok and reply.result["box"] == "box-a"
    finally:
        cloud.close()


def command_request_as_support(broker: Broker, box: str):
    """`tillbridge support` as support_demo: its reply topic is under support/reply/support_demo/."""
    password_file = broker.folder / "support.pw"
    password_file.write_text(USERS["support_demo"])
    import contextlib
    import io
    import json

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        args = ["--username", "support_demo", "--password-file", str(password_file), "--timeout", "10"]
        code = main(["support", "status", box, "--shop", SHOP, "--url", broker.url, *args])
    assert code == 0, out.getvalue()
    from wire import CommandReply

    return CommandReply.from_json(json.loads(out.getvalue()))


def test_a_box_cannot_write_another_boxs_topics_nor_its_own_cmd(secured, peers):
    cloud, box_a = peers(WORKER, client_id=f"tillbridge-{WORKER_ID}"), peers("box-a")
    cloud.subscribe(topic("box-b", Kind.JOURNAL), topic("box-a", Kind.JOURNAL))
    box_a.subscribe(topic("box-a", Kind.CMD))
    assert box_a.publish(topic("box-b", Kind.JOURNAL), b"forged") == "Not authorized"
    assert box_a.publish(topic("box-a", Kind.CMD), b"self-command") == "Not authorized"
    assert box_a.publish(topic("box-b", Kind.ACK), encode(Ack(10**6))) == "Not authorized"
    assert box_a.publish(topic("box-a", Kind.JOURNAL), b"own") == "Success"
    cloud.wait(lambda: cloud.received(topic("box-a", Kind.JOURNAL)) == [b"own"], "box-a's own journal")
    assert cloud.received(topic("box-b", Kind.JOURNAL)) == []
    assert box_a.received(topic("box-a", Kind.CMD)) == []


def test_a_box_cannot_read_another_boxs_topics(secured, peers):
    cloud, box_a, box_b = peers(WORKER, client_id=f"tillbridge-{WORKER_ID}"), peers("box-a"), peers("box-b")
    granted = box_a.subscribe(
        topic("box-b", Kind.JOURNAL),
        topic("box-b", Kind.ORDERS),
        "tillbridge/v1/+/+/cmd",
        topic("box-a", Kind.ACK),
    )
    assert granted == ["Not authorized"] * 3 + ["Granted QoS 1"]
    box_b.subscribe(topic("box-b", Kind.ORDERS))
    assert box_b.publish(topic("box-b", Kind.JOURNAL), b"secret sales") != "Not authorized"
    assert cloud.publish(topic("box-b", Kind.ORDERS), b"secret order") == "Success"
    box_b.wait(lambda: box_b.received(topic("box-b", Kind.ORDERS)) == [b"secret order"], "box-b's order")
    assert cloud.publish(topic("box-a", Kind.ACK), b"marker") == "Success"  # routed after the two above
    box_a.wait(lambda: box_a.received(topic("box-a", Kind.ACK)) == [b"marker"], "the marker")
    assert [t for t, _ in box_a.got if t.startswith("tillbridge/")] == [topic("box-a", Kind.ACK)]


def test_support_commands_but_cannot_pose_as_the_cloud(secured, peers):
    support, box_a = peers("support_demo"), peers("box-a")
    box_a.subscribe(topic("box-a", Kind.ACK), topic("box-a", Kind.CMD))
    assert support.publish(topic("box-a", Kind.ACK), encode(Ack(5))) == "Not authorized"
    assert support.publish(topic("box-a", Kind.CMD), encode(Command("s-1", "status"))) == "Success"
    box_a.wait(lambda: box_a.received(topic("box-a", Kind.CMD)) != [], "the command")
    assert box_a.received(topic("box-a", Kind.ACK)) == []
    other = peers("support_demo")
    assert other.subscribe("support/reply/box-a/#") == ["Not authorized"]  # another user's replies
    assert box_a.publish("support/reply/box-a/x", b"reply") != "Not authorized"
    other.subscribe("support/reply/support_demo/#")
    assert box_a.publish("support/reply/support_demo/y", b"mine") == "Success"
    other.wait(lambda: other.received("support/reply/support_demo/y") == [b"mine"], "own reply")
    assert other.received("support/reply/box-a/x") == []


def test_a_box_cannot_join_the_bridges_shared_journal_subscription(secured, peers):
    """Issue 13, finding 6: mosquitto 2.0's ACL file checks reads at delivery, so a box that joined the
    shared subscription was handed half of another box's journal, which it could not read: dropped."""
    bridge, box_a, box_b = peers(WORKER, client_id=f"tillbridge-{WORKER_ID}"), peers("box-a"), peers("box-b")
    assert bridge.subscribe(f"$share/bridge/{JOURNALS}") == ["Granted QoS 1"]
    assert box_a.subscribe(f"$share/bridge/{JOURNALS}") == ["Not authorized"]
    for n in range(10):
        assert box_b.publish(topic("box-b", Kind.JOURNAL), b"batch %d" % n) == "Success"
    bridge.wait(lambda: len(bridge.received(topic("box-b", Kind.JOURNAL))) == 10, "all ten batches")
    assert box_a.received(topic("box-b", Kind.JOURNAL)) == []


def test_a_box_cannot_subscribe_to_another_boxs_topics_nor_to_wildcards(secured, peers):
    box_a = peers("box-a")
    refused = box_a.subscribe(
        topic("box-b", Kind.ORDERS), topic("box-b", Kind.JOURNAL), "tillbridge/v1/+/+/cmd", JOURNALS, "#"
    )
    assert refused == ["Not authorized"] * 5
    assert box_a.subscribe(topic("box-a", Kind.ORDERS)) == ["Granted QoS 1"]


def test_a_box_cannot_publish_as_the_same_box_id_in_another_shop(secured, peers):
    box_a = peers("box-a")
    assert box_a.publish(build_topic("other-shop", "box-a", Kind.STATE), b"x") == "Not authorized"
    assert box_a.publish(build_topic("other-shop", "box-a", Kind.JOURNAL), b"x") == "Not authorized"


@pytest.mark.parametrize("victim", ["box-b", f"tillbridge-{WORKER_ID}"])
def test_a_box_cannot_take_over_another_clients_id(secured, peers, victim):
    """Issue 13, finding 7: box-a's password with box-b's (or a bridge worker's) client id disconnected the
    real client and wiped its session."""
    owner = peers("box-b" if victim == "box-b" else WORKER, client_id=victim)
    assert owner.connect_result() == "Success"
    thief = peers("box-a", client_id=victim)
    assert thief.connect_result() == "Not authorized"
    alive = topic("box-b", Kind.JOURNAL) if victim == "box-b" else topic("box-a", Kind.ACK)
    assert owner.publish(alive, b"still connected") in ("Success", "No matching subscribers")
    assert not owner.disconnected()


def test_the_cloud_bridge_reads_every_boxs_journal_through_a_shared_subscription(secured, peers):
    cloud, box_b = peers(WORKER, client_id=f"tillbridge-{WORKER_ID}"), peers("box-b")
    cloud.subscribe(f"$share/bridge/{JOURNALS}")
    assert box_b.publish(topic("box-b", Kind.JOURNAL), b"batch") == "Success"
    cloud.wait(lambda: cloud.received(topic("box-b", Kind.JOURNAL)) == [b"batch"], "the shared delivery")


# ---- TLS ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory, dynsec):
    folder = tmp_path_factory.mktemp("tls-broker")
    certs = make_certs(folder / "certs", client_name="box-a")
    broker = Broker(folder, dynsec_file=dynsec, tls=certs, require_certificate=True)
    with broker:
        yield broker


def test_a_box_connects_over_tls_with_a_client_certificate_and_a_password(tmp_path, tls_broker):
    certs = tls_broker.tls
    options: dict[str, Any] = {
        "password": USERS["box-a"],
        "ca_file": str(certs.ca),
        "cert_file": str(certs.client_cert),
        "key_file": str(certs.client_key),
    }
    assert tls_broker.url.startswith("mqtts://localhost:")
    with running_box(tmp_path, tls_broker.url, "box-a", **options) as box:
        assert box.link.connected


def test_a_box_refuses_a_broker_it_cannot_verify(tmp_path, tls_broker):
    failed = LogWatch("TLS handshake")  # the test CA is not among the system's CAs
    with failed, running_box(tmp_path, tls_broker.url, "box-a", password=USERS["box-a"], online=False) as box:
        failed.wait()
        assert not box.link.online.is_set()


# ---- the shipped broker config -----------------------------------------------------------------------------


def test_the_shipped_mosquitto_conf_starts_and_enforces_the_generated_accounts(tmp_path, dynsec):
    certs = make_certs(tmp_path / "certs")
    tls_port, plain_port = free_port(), free_port()
    text = CONF.read_text()
    for old, new in {
        "/etc/mosquitto/tillbridge-accounts.json": str(dynsec),
        "/etc/mosquitto/certs/ca.crt": str(certs.ca),
        "/etc/mosquitto/certs/broker.crt": str(certs.server_cert),
        "/etc/mosquitto/certs/broker.key": str(certs.server_key),
        "/var/lib/mosquitto/": f"{tmp_path}/",
        "listener 8883": f"listener {tls_port} 127.0.0.1",
        "listener 1883 127.0.0.1": f"listener {plain_port} 127.0.0.1",
        "log_dest syslog": "log_dest stderr",
    }.items():
        assert old in text, old
        text = text.replace(old, new)
    if os.getuid() == 0:
        text += f"user {pwd.getpwuid(0).pw_name}\n"
    assert not re.search(r"^\s*allow_anonymous\s+true", text, re.M)
    broker = Broker(tmp_path, port=plain_port, config=text)
    with broker:
        box_a, thief = Peer(broker, "box-a"), Peer(broker, "box-b", client_id="box-a")
        try:
            assert box_a.connect_result() == "Success"
            assert box_a.publish(topic("box-b", Kind.JOURNAL), b"x") == "Not authorized"
            assert box_a.subscribe(f"$share/bridge/{JOURNALS}") == ["Not authorized"]
            assert thief.connect_result() == "Not authorized"
            assert box_a.publish(topic("box-a", Kind.JOURNAL), b"x") != "Not authorized"
        finally:
            box_a.close()
            thief.close()
