"""The wire contract (v1): topics, message types and validation shared by the box and the cloud bridge.

Sans-IO: bytes and topic names in, frozen dataclasses out, and back. No MQTT client lives here. See
docs/protocol.md for every topic and message with an example.
"""

from wire._fields import JSON
from wire.batching import pack_journal
from wire.catalog import UNITS, CatalogDelta, CatalogRequest, CatalogSnapshotChunk, Product
from wire.codec import (
    DECODERS,
    MAX_MESSAGE_BYTES,
    VERSION,
    Message,
    Publication,
    decode,
    encode,
    publication,
)
from wire.commands import COMMANDS, Command, CommandReply
from wire.errors import (
    BadSignature,
    BadTopic,
    CommandExpired,
    CommandReplayed,
    MalformedMessage,
    MessageTooLarge,
    SignatureError,
    UnknownCommand,
    UnsupportedVersion,
    WireError,
)
from wire.health import State, Telemetry
from wire.journal import ENTRY_FIELDS, MAX_BATCH_ENTRIES, STOCK_KINDS, Ack, JournalBatch, JournalEntry
from wire.levels import MAX_LEVELS, Levels, SkuLevel
from wire.orders import (
    ORDER_KINDS,
    ORDER_STATES,
    Order,
    OrderAck,
    OrderLine,
    PickupKey,
    pickup_hash,
    pickup_matches,
)
from wire.signing import RecentNonces, canonical, new_nonce, sign_command, verify_command
from wire.timestamps import format_ts, now_ts, parse_ts
from wire.topics import (
    ROOT,
    ROUTES,
    Direction,
    Kind,
    Route,
    Topic,
    box_subscriptions,
    build_topic,
    check_id,
    cloud_subscriptions,
    parse_topic,
    topic_filter,
)

__all__ = [
    "COMMANDS",
    "DECODERS",
    "ENTRY_FIELDS",
    "JSON",
    "MAX_BATCH_ENTRIES",
    "MAX_LEVELS",
    "MAX_MESSAGE_BYTES",
    "ORDER_KINDS",
    "ORDER_STATES",
    "ROOT",
    "ROUTES",
    "STOCK_KINDS",
    "UNITS",
    "VERSION",
    "Ack",
    "BadSignature",
    "BadTopic",
    "CatalogDelta",
    "CatalogRequest",
    "CatalogSnapshotChunk",
    "Command",
    "CommandExpired",
    "CommandReplayed",
    "CommandReply",
    "Direction",
    "JournalBatch",
    "JournalEntry",
    "Kind",
    "Levels",
    "MalformedMessage",
    "Message",
    "MessageTooLarge",
    "Order",
    "OrderAck",
    "OrderLine",
    "PickupKey",
    "Product",
    "Publication",
    "RecentNonces",
    "Route",
    "SignatureError",
    "SkuLevel",
    "State",
    "Telemetry",
    "Topic",
    "UnknownCommand",
    "UnsupportedVersion",
    "WireError",
    "box_subscriptions",
    "build_topic",
    "canonical",
    "check_id",
    "cloud_subscriptions",
    "decode",
    "encode",
    "format_ts",
    "new_nonce",
    "now_ts",
    "pack_journal",
    "parse_topic",
    "parse_ts",
    "pickup_hash",
    "pickup_matches",
    "publication",
    "sign_command",
    "topic_filter",
    "verify_command",
]
