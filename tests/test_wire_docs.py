"""The examples in docs/protocol.md are real: each decodes on the topic it is shown for."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wire import ENTRY_FIELDS, Command, JournalBatch, Kind, Message, canonical, decode, verify_command

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = re.findall(r"<!-- decode: (\S+) -->\n```json\n(.*?)\n```", TEXT, flags=re.DOTALL)
EXAMPLE_KEY = b"example key - never use in production"


def _decoded() -> list[Message]:
    return [decode(kind, block.encode()) for kind, block in EXAMPLES]


def test_every_json_block_says_which_topic_it_is_for() -> None:
    assert len(EXAMPLES) == TEXT.count("```json") > 0


@pytest.mark.parametrize(("kind", "block"), EXAMPLES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(EXAMPLES)])
def test_each_example_decodes_on_its_topic(kind: str, block: str) -> None:
    assert decode(kind, block.encode()).KIND is Kind(kind)


def test_every_topic_every_message_type_and_every_journal_kind_has_an_example() -> None:
    messages = _decoded()
    assert {msg.KIND for msg in messages} == set(Kind)
    assert {type(msg).__name__ for msg in messages} >= {"CatalogSnapshotChunk", "CatalogDelta"}
    journal = [msg for msg in messages if isinstance(msg, JournalBatch)]
    assert {entry.kind for batch in journal for entry in batch.entries} == set(ENTRY_FIELDS)
    for kind in Kind:
        assert f"| `{kind}` |" in TEXT, f"topic {kind} missing from the table"


def test_the_signed_example_verifies_with_the_documented_key_and_canonical_form() -> None:
    signed = [msg for msg in _decoded() if isinstance(msg, Command) and msg.sig]
    assert len(signed) == 1
    assert f"`{EXAMPLE_KEY.decode()}`" in TEXT
    assert f"```text\n{canonical(signed[0]).decode()}\n```" in TEXT
    verify_command(
        signed[0], EXAMPLE_KEY, datetime(2024, 5, 1, 9, 15, 30, tzinfo=UTC), 300, lambda nonce: False
    )
