"""The MQTT link: journal drain throughput, commit-to-ack latency and box memory, through a real mosquitto.

Baselines, measured in the same run against the same broker:
- drain: raw paho publishing one QoS 1 message per journal entry (the same JSON) to a subscriber that
  only counts them — what a link without batching could do at best;
- latency: a raw QoS 1 publish-to-receive hop through the broker, the floor of any box-to-cloud latency;
- memory: the same box process idle with the same backlog, before the broker is there.
"""

from __future__ import annotations

import json
import queue
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import Result, duration, percentile, throughput
from devices.readings import ScanRead
from firmware_agent.core import Applied
from firmware_agent.link import Link
from simulators.broker import Broker, free_port
from tests.core_helpers import running_core
from tests.mqtt_helpers import SHOP, link_config, spawn_box
from wire import Ack, Kind, build_topic, encode

BACKLOG = 100_000  # entries, as in the issue: an outage of hours at a busy till
RAW = 100_000  # raw QoS 1 messages, one per entry
LATENCY_SAMPLES = 300
BOX = "bench-box"
ENTRY = b'{"seq":1,"kind":"sale","ts":"2024-05-01T09:00:00.000Z","sku":"MILK-1L","delta":-1,"stock_after":47}'


def _client(port: int, name: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=paho.MQTTv5)
    client.connect("127.0.0.1", port, 30)
    client.loop_start()
    return client


def _subscribe(client: paho.Client, topic: str) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_a: done.set()
    client.subscribe(topic, 1)
    done.wait(10)


class LightCloud:
    """Applies a box's journal in seq order and acks each batch: JSON parsing only, as a busy cloud would."""

    def __init__(self, port: int, box: str) -> None:
        self.applied = 0
        self.target = 0
        self.first_at: float | None = None
        self.acked_at: dict[int, float] = {}
        self.done = threading.Event()
        self.client = _client(port, f"cloud-{box}")
        self.ack_topic = build_topic(SHOP, box, Kind.ACK)
        self.client.on_message = self._on_message
        _subscribe(self.client, build_topic(SHOP, box, Kind.JOURNAL))

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        self.first_at = self.first_at or time.perf_counter()
        for entry in json.loads(msg.payload)["entries"]:
            if entry["seq"] == self.applied + 1:
                self.applied += 1
        self.client.publish(self.ack_topic, encode(Ack(self.applied)), 1)
        self.acked_at[self.applied] = time.perf_counter()
        if self.target and self.applied >= self.target:
            self.done.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def raw_publish_rate(port: int, count: int) -> float:
    received, done = [0], threading.Event()

    def on_message(*_a: Any) -> None:
        received[0] += 1
        if received[0] == count:
            done.set()

    sub, pub = _client(port, "raw-sub"), _client(port, "raw-pub")
    sub.on_message = on_message
    _subscribe(sub, "raw/journal")
    window = threading.Semaphore(5000)  # paho's message ids wrap at 65535: keep fewer than that outstanding
    pub.on_publish = lambda *_a: window.release()
    started = time.perf_counter()
    for _ in range(count):
        window.acquire()
        pub.publish("raw/journal", ENTRY, 1)
    done.wait(120)
    elapsed = time.perf_counter() - started
    for client in (sub, pub):
        client.disconnect()
        client.loop_stop()
    return count / elapsed


def drain_and_memory(folder: Path) -> tuple[float, float, float]:
    """(entries/s from the first batch to the last ack, peak RSS MB while draining, idle RSS MB).

    The box runs in a process of its own, so its memory is its own: first with no broker to reach (idle,
    the backlog in its store), then again on the same store with the broker up.
    """
    port = free_port()
    options = {"batch_entries": 500, "batch_kb": 128, "inflight_batches": 8}
    box = spawn_box(folder / "box", port, BOX, seed=BACKLOG, **options)
    idle = _rss_mb(box.pid)
    box.kill()
    box.wait()
    with Broker(folder / "broker", port=port, persistence=False):
        cloud = LightCloud(port, BOX)
        cloud.target = BACKLOG
        box = spawn_box(folder / "box", port, BOX, **options)
        peak, stop = [idle], threading.Event()
        sampler = threading.Thread(target=_sample, args=(box.pid, peak, stop), daemon=True)
        sampler.start()
        try:
            cloud.done.wait(120)
        finally:
            stop.set()
            sampler.join()
            box.kill()
            box.wait()
            cloud.close()
        assert cloud.first_at is not None and cloud.applied == BACKLOG, "the drain did not finish"
    return BACKLOG / (cloud.acked_at[BACKLOG] - cloud.first_at), max(peak), idle


def _sample(pid: int, peak: list[float], stop: threading.Event) -> None:
    while not stop.wait(0.02):
        peak.append(_rss_mb(pid))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def commit_to_ack(folder: Path, port: int) -> list[float]:
    """Seconds from a scan's commit on the box to the cloud's ack of it, one cashier scanning."""
    committed: dict[int, float] = {}
    done: queue.Queue[Applied] = queue.Queue()

    def note(applied: Applied) -> None:
        for record in applied.records:
            committed[record.seq] = time.perf_counter() - (time.monotonic() - applied.committed_at)

    cloud = LightCloud(port, "latency-box")
    with running_core(folder, note) as running:
        running.core.listeners.append(done.put)
        link = Link(link_config(folder, f"mqtt://127.0.0.1:{port}", "latency-box"))
        link.start(running.core)
        link.online.wait(10)
        for seq in range(1, LATENCY_SAMPLES + 1):
            cloud.target = seq
            cloud.done.clear()
            running.core.post(ScanRead("bench", "8410000000023"))
            cloud.done.wait(10)
        link.stop()
    cloud.close()
    return [cloud.acked_at[s] - committed[s] for s in range(1, LATENCY_SAMPLES + 1) if s in cloud.acked_at]


def raw_hop(port: int, count: int) -> list[float]:
    """Seconds from a raw QoS 1 publish to its delivery to a subscriber through the broker."""
    arrived: queue.Queue[float] = queue.Queue()
    sub, pub = _client(port, "hop-sub"), _client(port, "hop-pub")
    sub.on_message = lambda *_a: arrived.put(time.perf_counter())
    _subscribe(sub, "raw/hop")
    samples = []
    for _ in range(count):
        sent = time.perf_counter()
        pub.publish("raw/hop", ENTRY, 1)
        samples.append(arrived.get(timeout=10) - sent)
    for client in (sub, pub):
        client.disconnect()
        client.loop_stop()
    return samples


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rate, peak, idle = drain_and_memory(folder)
        with Broker(folder / "broker2", persistence=False) as broker:
            raw_rate = raw_publish_rate(broker.port, RAW)
            latencies = commit_to_ack(folder / "latency", broker.port)
            hops = raw_hop(broker.port, LATENCY_SAMPLES)
    return [
        throughput("link_drain_entries_per_s", rate, raw_rate, "entries/s"),
        duration(
            "link_commit_to_ack_p50", percentile(latencies, 50) * 1000, percentile(hops, 50) * 1000, "ms"
        ),
        duration(
            "link_commit_to_ack_p99", percentile(latencies, 99) * 1000, percentile(hops, 99) * 1000, "ms"
        ),
        duration("link_box_rss_draining", peak, idle, "MB"),
    ]
