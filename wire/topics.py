"""Topics of the v1 contract: names, direction, QoS and retain in one table, builders and a strict parser.

Shop and box ids are restricted to `[a-z0-9-]{1,64}` so that no id can smuggle a wildcard (`+`, `#`) or an
extra level (`/`) into a topic, which would let one box publish or subscribe as another.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from wire._text import show
from wire.errors import BadTopic

ROOT: Final = "tillbridge/v1"
ID_PATTERN: Final = re.compile(r"[a-z0-9-]{1,64}")


class Kind(enum.StrEnum):
    """The last level(s) of a topic: what a message on it is."""

    STATE = "state"
    JOURNAL = "journal"
    ACK = "ack"
    CATALOG = "catalog"
    CATALOG_REQUEST = "catalog/request"
    ORDERS = "orders"
    CMD = "cmd"
    CMD_REPLY = "cmd/reply"
    TELEMETRY = "telemetry"
    LEVELS = "levels"
    ORDERS_ACK = "orders/ack"


class Direction(enum.Enum):
    UP = "box → cloud"
    DOWN = "cloud → box"


@dataclass(frozen=True, slots=True)
class Route:
    direction: Direction
    qos: int
    retain: bool


ROUTES: Final[Mapping[Kind, Route]] = {
    Kind.STATE: Route(Direction.UP, 1, retain=True),
    Kind.JOURNAL: Route(Direction.UP, 1, retain=False),
    Kind.ACK: Route(Direction.DOWN, 1, retain=False),
    Kind.CATALOG: Route(Direction.DOWN, 1, retain=False),
    Kind.CATALOG_REQUEST: Route(Direction.UP, 1, retain=False),
    Kind.ORDERS: Route(Direction.DOWN, 1, retain=False),
    Kind.CMD: Route(Direction.DOWN, 1, retain=False),
    Kind.CMD_REPLY: Route(Direction.UP, 1, retain=False),
    Kind.TELEMETRY: Route(Direction.UP, 0, retain=False),
    Kind.LEVELS: Route(Direction.DOWN, 1, retain=False),
    Kind.ORDERS_ACK: Route(Direction.UP, 1, retain=False),
}


def check_id(what: str, value: str) -> str:
    """Returns `value` if it is a valid shop, box or group id, else raises `BadTopic` naming `what`."""
    if type(value) is not str or not ID_PATTERN.fullmatch(value):
        raise BadTopic(f"{what} id {show(value)}: expected 1-64 characters of a-z, 0-9 and '-'")
    return value


@dataclass(frozen=True, slots=True)
class Topic:
    """One box's topic of one kind; `str(topic)` is the MQTT topic name."""

    shop: str
    box: str
    kind: Kind

    def __post_init__(self) -> None:
        check_id("shop", self.shop)
        check_id("box", self.box)
        if not isinstance(self.kind, Kind):
            raise BadTopic(f"topic kind {show(self.kind)}: expected one of {_kinds()}")

    def __str__(self) -> str:
        return f"{ROOT}/{self.shop}/{self.box}/{self.kind}"


def build_topic(shop: str, box: str, kind: Kind) -> str:
    return str(Topic(shop, box, kind))


def parse_topic(topic: str) -> Topic:
    """Splits an incoming topic name; anything that is not exactly one of ours raises `BadTopic`."""
    if type(topic) is not str:
        raise BadTopic(f"topic {show(topic)}: expected a string")
    if not topic.startswith(f"{ROOT}/"):
        raise BadTopic(f"topic {show(topic)}: does not start with {ROOT}/")
    parts = topic[len(ROOT) + 1 :].split("/", 2)
    if len(parts) < 3:
        raise BadTopic(f"topic {show(topic)}: expected {ROOT}/<shop>/<box>/<kind>")
    shop, box, kind = parts
    if kind not in _KINDS:
        raise BadTopic(f"topic {show(topic)}: unknown kind {show(kind)}, expected one of {_kinds()}")
    return Topic(check_id("shop", shop), check_id("box", box), Kind(kind))


def topic_filter(kind: Kind, *, shop: str | None = None, group: str | None = None) -> str:
    """A filter for `kind` from every box (of every shop, or of `shop`), optionally as a shared subscription.

    Shared subscriptions (`$share/<group>/…`) let any number of cloud workers split the load; paho delivers
    their messages under the real topic name, so match callbacks on the un-prefixed filter.
    """
    shop_level = "+" if shop is None else check_id("shop", shop)
    base = f"{ROOT}/{shop_level}/+/{Kind(kind)}"
    return base if group is None else f"$share/{check_id('group', group)}/{base}"


def cloud_subscriptions(group: str | None = None) -> list[tuple[str, int]]:
    """(filter, qos) for everything boxes publish.

    `state` is never shared: brokers do not send retained messages to a new shared subscription, and the
    retained births are how a starting worker learns which boxes are online.
    """
    return [
        (topic_filter(kind, group=None if kind is Kind.STATE else group), route.qos)
        for kind, route in ROUTES.items()
        if route.direction is Direction.UP
    ]


def box_subscriptions(shop: str, box: str) -> list[tuple[str, int]]:
    """(topic, qos) for everything addressed to one box: its own topics only, no wildcards."""
    return [
        (build_topic(shop, box, kind), route.qos)
        for kind, route in ROUTES.items()
        if route.direction is Direction.DOWN
    ]


_KINDS: Final = frozenset(kind.value for kind in Kind)


def _kinds() -> str:
    return ", ".join(sorted(_KINDS))
