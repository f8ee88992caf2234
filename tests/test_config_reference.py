"""Both config files are documented from their schema: every key `configspec.keys()` finds in the box's
`AgentConfig` and the bridge's `BridgeFile` has a line in its sample file and a mention in its table's part
of the reference in docs/configuration.md, so a new key cannot ship undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloud_bridge.config import BridgeFile
from configspec import keys
from firmware_agent.config import AgentConfig

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "configuration.md"
SCHEMAS = {
    "agent.toml": (AgentConfig, "## Reference\n", ROOT / "firmware_agent" / "agent.sample.toml"),
    "bridge.toml": (BridgeFile, "## Reference: the bridge's", ROOT / "cloud_bridge" / "bridge.sample.toml"),
}
_HEADING = re.compile(r"^### `\[\[?([a-z_.]+)\]\]?`", re.M)
_SAMPLE_TABLE = re.compile(r"^#?\s*\[\[?([a-z_.]+)\]\]?\s*$")
_SAMPLE_KEY = re.compile(r"^#?\s*([a-z_]+)\s*=")


def reference(start: str) -> dict[str, str]:
    """The text of each `### [table]` part of one reference section."""
    text = DOC.read_text(encoding="utf-8")
    part = text[text.index(start) :]
    part = part[: part.index("\n## ", 1)] if "\n## " in part[1:] else part
    headings = list(_HEADING.finditer(part))
    return {
        h.group(1): part[h.end() : nxt.start() if nxt else len(part)]
        for h, nxt in zip(headings, [*headings[1:], None], strict=True)
    }


def sample_keys(path: Path) -> set[str]:
    """`table.key` for every key set or shown commented out ("# name_match = ..."), and every table."""
    found, table = set(), ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if header := _SAMPLE_TABLE.match(line):
            table = header.group(1)
            found.add(table)  # [shop.credentials]: the free-form table `credentials` of [[shop]]
        elif key := _SAMPLE_KEY.match(line):
            found.add(f"{table}.{key.group(1)}")
    return found


@pytest.mark.parametrize("file", SCHEMAS)
def test_every_key_is_in_the_reference(file: str) -> None:
    schema, start, _ = SCHEMAS[file]
    parts = reference(start)
    missing = [
        f"{key.table}.{key.name}"
        for key in keys(schema)
        if key.table.split(".")[0] not in parts or f"`{key.name}`" not in parts[key.table.split(".")[0]]
    ]
    assert not missing, f"docs/configuration.md, {file} reference: no row for {missing}"


@pytest.mark.parametrize("file", SCHEMAS)
def test_every_key_is_in_the_sample(file: str) -> None:
    schema, _, sample = SCHEMAS[file]
    documented = sample_keys(sample)
    missing = [
        f"{key.table}.{key.name}" for key in keys(schema) if f"{key.table}.{key.name}" not in documented
    ]
    assert not missing, f"{sample.name}: no line for {missing}"
