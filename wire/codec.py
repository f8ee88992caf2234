"""Bytes ↔ messages: one registry from topic kind to decoder, one `encode`, one `decode`.

`decode` refuses oversized payloads before parsing, then invalid UTF-8, invalid JSON (including NaN and
Infinity, which JSON does not have), non-objects and other versions, and only then looks at fields. Fields a
message class does not know are ignored, so a v1 peer may add optional fields without breaking older ones.
`encode` runs the same checks on what it is about to send: a box never publishes what the cloud would refuse.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from wire._fields import ID_LEN, MISSING, Obj, as_choice, fail, req
from wire.catalog import CatalogDelta, CatalogRequest, CatalogSnapshotChunk
from wire.commands import Command, CommandReply
from wire.errors import BadTopic, MalformedMessage, MessageTooLarge, UnsupportedVersion, WireError
from wire.health import State, Telemetry
from wire.journal import Ack, JournalBatch
from wire.levels import Levels
from wire.orders import Order, OrderAck, PickupKey, decode_orders_message
from wire.topics import ROUTES, Kind, build_topic, parse_topic

VERSION: Final = 1
MAX_MESSAGE_BYTES: Final = 256 * 1024

Message = (
    State
    | JournalBatch
    | Ack
    | CatalogSnapshotChunk
    | CatalogDelta
    | CatalogRequest
    | Order
    | PickupKey
    | OrderAck
    | Command
    | CommandReply
    | Telemetry
    | Levels
)
Decoder = Callable[[Obj], Message]


def _by_type(*classes: type[CatalogSnapshotChunk] | type[CatalogDelta]) -> Decoder:
    """A decoder for a topic that carries several message types, told apart by their `"type"` field."""
    table: dict[str, Decoder] = {cls.TYPE: cls.from_json for cls in classes}
    choices = frozenset(table)
    return lambda obj: table[req(obj, "type", as_choice, choices=choices)](obj)


DECODERS: Final[Mapping[Kind, Decoder]] = {
    Kind.STATE: State.from_json,
    Kind.JOURNAL: JournalBatch.from_json,
    Kind.ACK: Ack.from_json,
    Kind.CATALOG: _by_type(CatalogSnapshotChunk, CatalogDelta),
    Kind.CATALOG_REQUEST: CatalogRequest.from_json,
    Kind.ORDERS: decode_orders_message,
    Kind.CMD: Command.from_json,
    Kind.CMD_REPLY: CommandReply.from_json,
    Kind.TELEMETRY: Telemetry.from_json,
    Kind.LEVELS: Levels.from_json,
    Kind.ORDERS_ACK: OrderAck.from_json,
}


def decode(kind_or_topic: Kind | str, payload: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """The message in `payload`, received on a topic of `kind_or_topic` (a `Kind` or a full topic name).

    Raises only `WireError`s: `BadTopic`, `MessageTooLarge`, `MalformedMessage`, `UnsupportedVersion`,
    `UnknownCommand`.
    """
    kind = _kind(kind_or_topic)
    obj = _load(kind, payload, max_bytes)
    try:
        _valid_unicode(obj, payload)
        return DECODERS[kind](obj)
    except MalformedMessage as exc:
        exc.at(kind.value)
        raise


def decode_journal(payload: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> JournalBatch:
    """A journal batch as the cloud reads it: like `decode`, except that an entry whose own fields break the
    contract comes back with `problem` set (the cloud parks it and goes on) instead of refusing the batch.
    What makes the batch itself unreadable (the envelope, an entry's `seq`, the order of seqs) still raises.
    """
    obj = _load(Kind.JOURNAL, payload, max_bytes)
    try:
        return JournalBatch.from_json(obj, lenient=True)
    except MalformedMessage as exc:
        exc.at(Kind.JOURNAL.value)
        raise


def encode(msg: Message, *, max_bytes: int = MAX_MESSAGE_BYTES) -> bytes:
    """Compact UTF-8 JSON for `msg`, checked as `decode` would check it on the other side."""
    try:
        obj = {"v": VERSION, **msg.to_json()}
        DECODERS[msg.KIND](obj)
        payload = to_json_bytes(obj)
    except MalformedMessage as exc:
        exc.at(msg.KIND.value)
        raise
    except WireError:  # UnknownCommand is a ValueError too, and must keep its type
        raise
    except (TypeError, ValueError, RecursionError) as exc:  # open data (args, journal data) that is not JSON
        raise MalformedMessage(msg.KIND.value, f"cannot be sent as JSON: {exc}") from exc
    if len(payload) > max_bytes:
        raise MessageTooLarge(msg.KIND.value, len(payload), max_bytes)
    return payload


def to_json_bytes(obj: Obj) -> bytes:
    """The wire's JSON spelling: compact, UTF-8, no NaN; TypeError or ValueError if `obj` is not JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@dataclass(frozen=True, slots=True)
class Publication:
    """Everything `client.publish()` needs, with QoS and retain taken from the one routing table."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


def publication(shop: str, box: str, msg: Message) -> Publication:
    route = ROUTES[msg.KIND]
    return Publication(build_topic(shop, box, msg.KIND), encode(msg), route.qos, route.retain)


def _kind(kind_or_topic: Kind | str) -> Kind:
    if isinstance(kind_or_topic, Kind):
        return kind_or_topic
    if type(kind_or_topic) is not str:
        raise BadTopic(f"expected a topic kind or a topic name, got {type(kind_or_topic).__name__}")
    if kind_or_topic in _KIND_NAMES:
        return Kind(kind_or_topic)
    return parse_topic(kind_or_topic).kind


_KIND_NAMES: Final = frozenset(Kind)


def _load(kind: Kind, payload: bytes, max_bytes: int) -> Obj:
    if len(payload) > max_bytes:
        raise MessageTooLarge(kind.value, len(payload), max_bytes)
    if not payload:
        raise MalformedMessage(
            kind.value, "empty payload (on a retained topic it clears the retained message)"
        )
    try:
        obj = json.loads(str(payload, "utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError as exc:
        raise MalformedMessage(kind.value, f"not valid UTF-8 (byte {exc.start}: {exc.reason})") from exc
    except RecursionError as exc:
        raise MalformedMessage(kind.value, "not valid JSON: nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, an integer of thousands of digits
        raise MalformedMessage(kind.value, f"not valid JSON: {exc}") from exc
    if type(obj) is not dict:
        fail(obj, kind.value, "a JSON object")
    version = obj.get("v", MISSING)
    if type(version) is int and version != VERSION:
        raise UnsupportedVersion(kind.value, version)
    if version is MISSING or type(version) is not int:
        fail(version, f"{kind.value}.v", "the integer 1")
    return obj


_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def _valid_unicode(obj: Obj, payload: bytes) -> None:
    """Refuses a string holding a lone surrogate (`"\\ud800"`): JSON can spell one, UTF-8 cannot carry it,
    so it could never be stored, logged to a file or sent back, and the box would fail on it for ever.

    Only an escape can make one (the payload is valid UTF-8), so the walk runs only when the payload has an
    escape of that range; a command keeps a readable id (the surrogate spelled out) to be answered with.
    """
    if not _SURROGATE_ESCAPE.search(payload):
        return
    path = _lone_surrogate(obj, "")
    if path is None:
        return
    exc = MalformedMessage(path, "not valid Unicode: a lone surrogate (\\ud800-\\udfff) cannot be sent")
    command_id = obj.get("id")
    if type(command_id) is str and command_id:
        exc.command_id = _spelled_out(command_id)
    raise exc


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The path of the first string (key or value) that is not valid Unicode, or None."""
    if type(value) is str:
        return None if _encodable(value) else path
    items: Any = ()
    if type(value) is dict:
        for key in value:
            if not _encodable(key):
                return f"{path}[{_spelled_out(key)!r}]"
        items = ((f"{path}.{k}" if path else k, v) for k, v in value.items())
    elif type(value) is list:
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    for where, item in items:
        if (found := _lone_surrogate(item, where)) is not None:
            return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _spelled_out(text: str) -> str:
    """`text` with each lone surrogate written as `\\udXXX`, clipped to an id's length."""
    return text.encode("utf-8", "backslashreplace").decode()[:ID_LEN]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is out of range for a number")
    return number
