"""What boxes send, as the bridge takes it in: no box changes another shop's fleet view, box-supplied text
cannot drive the terminal that shows `bridge status`, and no payload of any kind makes the worker raise or
stall; every rejection names what was wrong. The intake's limits are checked as properties.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig
from cloud_bridge.intake import Inbound, Intake
from cloud_bridge.limits import BoxLimits, Rate
from cloud_bridge.status import fleet_view, render
from cloud_bridge.worker import Worker
from simulators.broker import Broker
from tests.bridge_helpers import (
    Simulator,
    bridge_config,
    broker,
    seed,
    shop_config,
    start_simulator,
    wait_for,
)
from tests.wire_helpers import (
    command_replies,
    journal_batches,
    json_values,
    order_acks,
    replace_one,
    states,
    telemetry,
)
from wire import CatalogRequest, Kind, Message, State, build_topic, encode, now_ts

from .test_bridge_service import publish

__all__ = ["broker"]  # fixtures

UP = st.one_of(
    states,
    journal_batches(),
    st.builds(
        CatalogRequest, have_version=st.none() | st.integers(0, 2**40), reason=st.text(min_size=1, max_size=9)
    ),
    order_acks,
    command_replies,
    telemetry,
)


@pytest.fixture
def sims() -> Iterator[list[Simulator]]:
    made = [start_simulator("woocommerce", seed(2, 5)), start_simulator("woocommerce", seed(2, 5))]
    yield made
    for sim in made:
        sim.stop()


@pytest.fixture
def config(tmp_path: Path, broker: Broker, sims: list[Simulator]) -> BridgeConfig:
    shops = [shop_config("corner", sims[0], ["till-1"]), shop_config("uptown", sims[1], ["till-5"])]
    return bridge_config(f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, shops)


@pytest.fixture
def worker(config: BridgeConfig) -> Iterator[Worker]:
    w = Worker(config).start()
    assert w.ready(10)
    yield w
    w.stop()


def birth(version: str) -> bytes:
    return encode(State(True, version, 1, "cafe", now_ts()))


def test_a_box_cannot_change_another_shops_fleet_view(worker: Worker, broker: Broker, config: BridgeConfig):
    publish(broker, build_topic("uptown", "till-1", Kind.STATE), birth("6.6.6"))  # corner's till-1
    publish(broker, build_topic("uptown", "till-5", Kind.STATE), birth("1.0.0"))
    wait_for(lambda: m.Box.get_or_none(m.Box.box == "till-5", m.Box.online == True) is not None)  # noqa: E712
    uptown = next(shop for shop in fleet_view(config).shops if shop.shop == "uptown")
    assert [box.box for box in uptown.boxes] == ["till-5"]
    assert "6.6.6" not in render(fleet_view(config))


def test_escape_sequences_from_a_box_are_shown_not_obeyed_in_bridge_status(
    worker: Worker, broker: Broker, config: BridgeConfig
):
    hostile = "1.0\x1b[2J\x1b]0;owned\x07\u202e"
    publish(broker, build_topic("corner", "till-1", Kind.STATE), birth(hostile))
    wait_for(lambda: m.Box.get_or_none(m.Box.box == "till-1", m.Box.online == True) is not None)  # noqa: E712
    for text in (render(fleet_view(config)), fleet_view(config).to_json()):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "v1.0\\x1b[2J\\x1b]0;owned\\x07\\u202e" in render(fleet_view(config))


# --- every payload kind from a box, into a worker on a real SQLite database ---------------------------------


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    folder = tmp_path_factory.mktemp("fuzz")
    sim = start_simulator("woocommerce", seed(2, 5))
    config = bridge_config(
        f"sqlite:///{folder / 'bridge.db'}", "mqtt://127.0.0.1:9", [shop_config("corner", sim, ["till-1"])]
    )
    worker = Worker(config)
    worker.db.open()
    yield worker
    worker.db.close()
    sim.stop()


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _mutated(msg: Message, data: Any) -> bytes:
    """The message with one value anywhere in it replaced by any JSON value, or cut, or not JSON at all."""
    obj = json.loads(encode(msg))
    how = data.draw(st.sampled_from(["replace", "cut", "bytes", "as is"]))
    if how == "bytes":
        return bytes(data.draw(st.binary(max_size=200)))
    if how == "cut":
        text = encode(msg)
        return text[: data.draw(st.integers(0, max(0, len(text) - 1)))]
    if how == "replace":
        replace_one(data.draw, obj, json_values)
    return json.dumps(obj).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=UP, data=st.data())
def test_no_payload_from_a_box_makes_the_worker_raise_or_stall(fuzzed: Worker, msg: Message, data: Any):
    payload = _mutated(msg, data)
    records = Records()
    logging.getLogger("cloud_bridge").addHandler(records)
    try:
        started = time.monotonic()
        fuzzed.handle(Inbound(build_topic("corner", "till-1", msg.KIND), payload))
        assert time.monotonic() - started < 2.0
    finally:
        logging.getLogger("cloud_bridge").removeHandler(records)
    assert not [r for r in records.records if r.exc_info], "an unexpected exception was logged"
    for record in records.records:
        if record.getMessage().startswith("dropped a message on"):
            assert record.getMessage().split(": ", 1)[1].strip(), "a rejection that does not say why"


# --- the intake's limits, as properties --------------------------------------------------------------------


@settings(max_examples=200)
@given(
    topics=st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from([build_topic("s", b, k) for b in ("a", "b") for k in (Kind.JOURNAL, Kind.STATE)]),
        ),
        max_size=60,
    ),
    capacity=st.integers(1, 10),
)
def test_the_intake_never_raises_never_holds_more_than_its_capacity_and_counts_every_drop(topics, capacity):
    intake = Intake(capacity=capacity, limits=BoxLimits(default=Rate(1.0, 3.0)), clock=lambda: 0.0)
    for topic in topics:
        intake.offer(Inbound(topic, b"{}"))
    report = intake.report()
    assert report["queued"] <= capacity
    limited = sum(n for kinds in report["limited"].values() for n in kinds.values())
    assert report["queued"] + sum(report["dropped"].values()) + limited == len(topics)


@settings(max_examples=200)
@given(
    gaps=st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=200),
    per_s=st.floats(0.01, 50),
    burst=st.integers(1, 20),
)
def test_a_box_gets_no_more_than_its_burst_plus_its_rate_over_any_time(gaps, per_s, burst):
    limits = BoxLimits(rates={"journal": Rate(per_s, burst)}, volume=Rate(1e12, 1e12))
    now, admitted = 0.0, 0
    for gap in gaps:
        now += gap
        admitted += limits.admit("s", "a", "journal", 10, now) is None
    assert admitted <= burst + per_s * now + 1e-6
