"""The shipped sample config is valid and documents every key the schema knows."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing

from firmware_agent.config import AgentConfig, ScannerConfig, sample_text, validate

_HEADER = re.compile(r"#?\s*\[\[?([a-z_.]+)\]\]?\s*$")
_KEY = re.compile(r"#?\s*([a-z_]+)\s*=")


def documented_keys() -> dict[str, set[str]]:
    """Keys per section, set or shown commented out ("# name_match = ...")."""
    keys: dict[str, set[str]] = {}
    section = ""
    for line in sample_text().splitlines():
        if header := _HEADER.match(line):
            section = header.group(1)
            parent, _, child = section.rpartition(".")
            if parent:  # [[orders.station]] documents the key `station` of [orders]
                keys.setdefault(parent, set()).add(child)
        elif key := _KEY.match(line):
            keys.setdefault(section, set()).add(key.group(1))
    return keys


def schema_keys() -> dict[str, set[str]]:
    hints = typing.get_type_hints(AgentConfig)
    keys = {}
    for top in dataclasses.fields(AgentConfig):
        hint = hints[top.name]
        members = (
            typing.get_args(ScannerConfig) if top.name == "scanner" else typing.get_args(hint) or (hint,)
        )
        keys[top.name] = {
            f.name for m in members if dataclasses.is_dataclass(m) for f in dataclasses.fields(m)
        }
    return keys


def test_the_sample_is_a_valid_config():
    config = validate(tomllib.loads(sample_text()), "agent.sample.toml")
    assert config.box.id == "shop1-till1" and config.scanner[0].name == "front"


def test_the_sample_documents_every_section_and_key():
    documented = documented_keys()
    for section, keys in schema_keys().items():
        assert keys <= documented.get(section, set()), (
            f"[{section}] lacks {keys - documented.get(section, set())}"
        )


def test_the_sample_shows_the_defaults():
    """Values set in the sample equal the defaults, except the examples of what must be set per box."""
    data = tomllib.loads(sample_text())
    assert data["store"] == {"journal_max_mb": 256, "journal_warn_ratio": 0.8}
    assert data["box"] | {"id": "x", "shop": "x"} == {
        "id": "x",
        "shop": "x",
        "data_dir": "/var/lib/tillbridge",
        "log_level": "info",
        "watchdog": True,
    }
    config = validate(data, "sample")
    defaults = validate({"box": {"id": "x", "shop": "x"}}, "defaults")
    same = ("store", "forward", "barcodes", "provisioning")
    assert all(getattr(config, name) == getattr(defaults, name) for name in same)
