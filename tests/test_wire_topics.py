"""Topics: every kind builds and parses back, and no id can inject a wildcard or an extra level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.wire_helpers import node_ids
from wire import (
    ROUTES,
    BadTopic,
    Direction,
    Kind,
    Topic,
    box_subscriptions,
    build_topic,
    cloud_subscriptions,
    decode,
    parse_topic,
    topic_filter,
)


@given(node_ids, node_ids, st.sampled_from(Kind))
def test_every_topic_parses_back_to_what_built_it(shop: str, box: str, kind: Kind) -> None:
    assert parse_topic(build_topic(shop, box, kind)) == Topic(shop, box, kind)


def test_topic_names_follow_the_contract() -> None:
    assert build_topic("deli-1", "till-2", Kind.JOURNAL) == "tillbridge/v1/deli-1/till-2/journal"
    assert build_topic("deli-1", "till-2", Kind.CMD_REPLY) == "tillbridge/v1/deli-1/till-2/cmd/reply"
    assert parse_topic("tillbridge/v1/deli-1/till-2/catalog/request").kind is Kind.CATALOG_REQUEST


def test_qos_and_retain_follow_the_contract() -> None:
    table = {kind.value: (route.qos, route.retain) for kind, route in ROUTES.items()}
    assert table == {
        "state": (1, True),
        "journal": (1, False),
        "ack": (1, False),
        "catalog": (1, False),
        "catalog/request": (1, False),
        "orders": (1, False),
        "cmd": (1, False),
        "cmd/reply": (1, False),
        "telemetry": (0, False),
        "levels": (1, False),
        "orders/ack": (1, False),
    }


BAD_IDS = ["", "+", "#", "a/b", "a+", "#/x", "Shop", "shop 1", "shop_1", "ä", "x" * 65, "a\x00b", "$share"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_id_that_could_inject_a_wildcard_or_a_level_is_refused(bad: str) -> None:
    with pytest.raises(BadTopic, match="shop id"):
        build_topic(bad, "box-1", Kind.JOURNAL)
    with pytest.raises(BadTopic, match="box id"):
        build_topic("shop-1", bad, Kind.CMD)
    with pytest.raises(BadTopic, match="group id"):
        topic_filter(Kind.JOURNAL, group=bad)


BAD_TOPICS = [
    "",
    "tillbridge/v1",
    "tillbridge/v1/",
    "tillbridge/v1/shop-1/box-1",
    "tillbridge/v1/shop-1/box-1/",
    "tillbridge/v1/shop-1/box-1/journal/",
    "tillbridge/v1/shop-1/box-1/journal/extra",
    "tillbridge/v1/shop-1/box-1/cmd/replies",
    "tillbridge/v1/shop-1/box-1/Journal",
    "tillbridge/v1/+/box-1/journal",
    "tillbridge/v1/shop-1/#",
    "tillbridge/v1/shop-1/+/journal",
    "tillbridge/v1//box-1/journal",
    "tillbridge/v1/shop-1/box/1/journal",
    "tillbridge/v2/shop-1/box-1/journal",
    "/tillbridge/v1/shop-1/box-1/journal",
    "$share/g/tillbridge/v1/shop-1/box-1/journal",
    "x" * 70_000,
]


@pytest.mark.parametrize("topic", BAD_TOPICS, ids=[t[:60] for t in BAD_TOPICS])
def test_a_topic_that_is_not_exactly_ours_is_refused(topic: str) -> None:
    with pytest.raises(BadTopic) as caught:
        parse_topic(topic)
    assert len(str(caught.value)) < 300  # a huge topic does not make a huge log line
    with pytest.raises(BadTopic):
        decode(topic, b'{"v":1,"upto":1}')


def test_the_cloud_subscribes_to_everything_boxes_send_and_shares_all_but_state() -> None:
    assert topic_filter(Kind.JOURNAL) == "tillbridge/v1/+/+/journal"
    assert topic_filter(Kind.JOURNAL, shop="deli-1") == "tillbridge/v1/deli-1/+/journal"
    assert cloud_subscriptions("workers") == [
        ("tillbridge/v1/+/+/state", 1),  # retained births never reach a shared subscription
        ("$share/workers/tillbridge/v1/+/+/journal", 1),
        ("$share/workers/tillbridge/v1/+/+/catalog/request", 1),
        ("$share/workers/tillbridge/v1/+/+/cmd/reply", 1),
        ("$share/workers/tillbridge/v1/+/+/telemetry", 0),
        ("$share/workers/tillbridge/v1/+/+/orders/ack", 1),
    ]
    assert {f for f, _ in cloud_subscriptions()} == {f"tillbridge/v1/+/+/{k}" for k in _kinds(Direction.UP)}


def test_a_box_subscribes_to_its_own_topics_only() -> None:
    subscriptions = box_subscriptions("deli-1", "till-2")
    assert {topic for topic, _ in subscriptions} == {
        f"tillbridge/v1/deli-1/till-2/{kind}" for kind in ("ack", "catalog", "orders", "cmd", "levels")
    }
    assert all("+" not in topic and "#" not in topic for topic, _ in subscriptions)
    assert {parse_topic(topic).kind for topic, _ in subscriptions} == _kinds(Direction.DOWN)


def _kinds(direction: Direction) -> set[Kind]:
    return {kind for kind, route in ROUTES.items() if route.direction is direction}
