"""Faults with real processes: the broker killed or stopped mid-drain, the box killed with SIGKILL mid-drain,
the cloud's acks lost. Whatever happens every journal entry reaches the cloud; the only duplicates are
redeliveries of the same seq with the same content (the cloud peer asserts that on every arrival)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from typing import Any

import pytest

from devices.readings import ScanRead
from simulators.broker import Broker
from tests.mqtt_helpers import (
    CloudPeer,
    broker,
    command_request,
    journal_seqs,
    new_box_id,
    running_box,
    seed_journal,
    settle,
    spawn_box,
)
from tests.store_helpers import open_store
from wire import Command, State

__all__ = ["broker"]

MILK = "8410000000023"


@pytest.fixture
def own_broker(tmp_path):
    """A broker this test may kill: persistence on, as in production."""
    with Broker(tmp_path / "broker") as running:
        yield running


def durable_cloud(broker: Broker, box: str, **kw) -> CloudPeer:
    """A cloud worker with a persistent session, so its queue survives its own reconnects."""
    return CloudPeer(broker.port, box=box, client_id=f"cloud-{box}", clean=False, **kw)


def every_seq_once_at_least(cloud: CloudPeer, total: int) -> Counter[int]:
    counts = Counter(cloud.seen.arrivals)
    assert sorted(counts) == list(range(1, total + 1))
    return counts


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_the_broker_going_away_mid_drain_loses_nothing(tmp_path, own_broker, how):
    box_id, backlog, sold_while_down = new_box_id(), 3000, 40
    store = open_store(tmp_path / "box")
    seed_journal(store, backlog)
    store.close()
    cloud = durable_cloud(own_broker, box_id)
    try:
        # A killed broker may also lose the cloud's session: what the box resent before the cloud was back
        # is then lost, and the ack timeout is what brings it over again.
        options: dict[str, Any] = {"batch_entries": 50, "inflight_batches": 2, "ack_timeout_s": 1.0}
        with running_box(tmp_path / "box", own_broker.url, box_id, **options) as box:
            cloud.wait_applied(500)
            own_broker.kill() if how == "kill" else own_broker.stop()
            for _ in range(sold_while_down):  # the shop keeps selling through the outage
                box.core.post(ScanRead("front", MILK))
            settle(box, lambda: journal_seqs(tmp_path / "box")[-1] == backlog + sold_while_down)
            own_broker.start()  # same port; mosquitto restores what it had saved
            total = backlog + sold_while_down
            cloud.wait_applied(total, timeout=60)
            settle(box, lambda: journal_seqs(tmp_path / "box") == [], what="an empty journal")
        every_seq_once_at_least(cloud, total)
    finally:
        cloud.close()


def test_lost_acks_make_the_box_send_again_until_the_cloud_acks(tmp_path, broker):
    box_id = new_box_id()
    cloud = CloudPeer(broker.port, box=box_id, auto_ack=False)
    try:
        with running_box(tmp_path, broker.url, box_id, ack_timeout_s=0.3) as box:
            for _ in range(10):
                box.core.post(ScanRead("front", MILK))
            cloud.wait(lambda s: len(s.arrivals) >= 20, what="the batch sent again")  # acks lost twice
            assert journal_seqs(tmp_path) == list(range(1, 11))
            cloud.auto_ack = True
            cloud.ack(cloud.seen.applied)
            settle(box, lambda: journal_seqs(tmp_path) == [], what="an empty journal")
        counts = every_seq_once_at_least(cloud, 10)
        assert min(counts.values()) >= 2 and box.link.drain.resends >= 1
    finally:
        cloud.close()


def test_a_box_killed_mid_drain_sends_everything_after_its_restart(tmp_path, own_broker):
    box_id, backlog = new_box_id(), 3000
    cloud = durable_cloud(own_broker, box_id)
    options = {"batch_entries": 50, "inflight_batches": 2}
    process = spawn_box(tmp_path, own_broker.port, box_id, seed=backlog, **options)
    try:
        cloud.wait_applied(800)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        will = cloud.wait(lambda s: any(isinstance(m, State) and not m.online for _, m, _ in s.messages))
        assert [m for _, m, _ in will.messages if isinstance(m, State)][-1] == State(False, boot=1)
        process = spawn_box(tmp_path, own_broker.port, box_id, **options)
        cloud.wait_applied(backlog, timeout=60)
        status, result = Command("s1", "status"), {}
        for _attempt in range(200):  # every reply is a fresh look at the box's store
            result = command_request(own_broker.port, status, box=box_id).result
            if result["journal_entries"] == 0:
                break
        assert result["boot"] == 2 and result["acked_seq"] == backlog
        every_seq_once_at_least(cloud, backlog)
    finally:
        process.kill()
        process.wait(timeout=10)
        cloud.close()


def test_a_box_killed_just_after_deleting_acked_entries_keeps_its_stream_and_loses_nothing(
    tmp_path, own_broker
):
    """The link deletes what the cloud acknowledged on a connection of its own, off the core loop
    (store/outbox.py). Killed right after such a delete, the box comes back on the same journal stream (its
    side mark agrees with its store: no `store_recovered`, no new epoch) and sends all it still holds."""
    box_id, backlog = new_box_id(), 20_000  # more than the first delete takes away (a second's acks)
    cloud = durable_cloud(own_broker, box_id)
    options = {"batch_entries": 50, "inflight_batches": 2}
    process = spawn_box(tmp_path, own_broker.port, box_id, seed=backlog, **options)
    try:
        deadline = time.monotonic() + 60
        while (seqs := journal_seqs(tmp_path)) and seqs[0] == 1:
            assert time.monotonic() < deadline, "the box deleted no acknowledged entry"
        assert seqs, "the whole backlog went before the kill: nothing left to test"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process = spawn_box(tmp_path, own_broker.port, box_id, **options)
        cloud.wait_applied(backlog, timeout=60)
        births = cloud.wait(
            lambda s: sum(isinstance(m, State) and m.online for _, m, _ in s.messages) >= 2
        ).messages
        epochs = {m.epoch for _, m, _ in births if isinstance(m, State) and m.online}
        assert len(epochs) == 1, f"the box started a new journal stream after the kill: {epochs}"
        assert all(e.get("kind") != "store_recovered" for e in cloud.seen.entries.values())
        every_seq_once_at_least(cloud, backlog)
    finally:
        process.kill()
        process.wait(timeout=10)
        cloud.close()
