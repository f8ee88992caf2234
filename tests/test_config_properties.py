"""Properties: no input makes the validator do anything but return a config or raise ConfigError; the TOML
writer round-trips; the config hash ignores formatting and follows content."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_agent.config import AgentConfig, config_hash, sample_text, validate
from firmware_agent.config.problems import InvalidConfig
from firmware_agent.config.provisioning import deep_merge
from firmware_agent.config.tomlfile import dumps, merged_text
from firmware_agent.errors import ConfigError

SECTIONS = ["box", "store", "scanner", "scale", "printer", "gpio", "forward", "barcodes", "provisioning"]
KEYS = [
    *("id", "shop", "data_dir", "log_level", "watchdog", "journal_max_mb", "journal_warn_ratio", "name"),
    *("type", "device", "name_match", "layout", "terminators", "port", "baudrate", "bytesize", "parity"),
    *("stopbits", "terminator", "barcodes", "interval_s", "protocol", "poll_interval_s", "url", "paper_mm"),
    *("codepage", "profile", "led_pin", "button_pin", "buzzer_pin", "hold_time_s", "enabled", "path"),
    "variable_measure_layouts",
]
WORDS = [
    "evdev",
    "serial",
    "sim",
    "es",
    "enter",
    "tab",
    "N",
    "E",
    "toledo8217",
    "CP858",
    "tcp://p:9100",
    "/dev/x",
]

scalars = st.one_of(
    st.text(max_size=12),
    st.sampled_from(WORDS),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.times(),
)
keys = st.one_of(st.sampled_from(SECTIONS + KEYS), st.text(max_size=6))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def assert_total(data: dict[str, Any]) -> None:
    try:
        config = validate(data, "fuzz.toml")
    except InvalidConfig as exc:
        assert exc.problems and all(p.file == "fuzz.toml" and p.message for p in exc.problems)
    else:
        assert isinstance(config, AgentConfig)
        config_hash(config)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=6))
def test_random_data_gives_a_config_or_a_config_error(data):
    assert_total(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_edits_of_a_valid_config_give_a_config_or_a_config_error(draw):
    data = tomllib.loads(sample_text())
    for _ in range(draw.draw(st.integers(1, 4))):
        section = draw.draw(st.sampled_from(SECTIONS))
        table = data.get(section)
        if isinstance(table, list) and table and isinstance(table[0], dict):
            table = table[0]
        if not isinstance(table, dict) or draw.draw(st.integers(0, 9)) == 0:
            data[section] = draw.draw(values)
            continue
        key = draw.draw(st.sampled_from(KEYS + sorted(map(str, table))))
        if draw.draw(st.booleans()):
            table[key] = draw.draw(values)
        else:
            table.pop(key, None)
    assert_total(data)


@pytest.mark.parametrize("value", [None, 1, "x", [], [{"id": "a"}]])
def test_a_section_of_the_wrong_kind_is_a_config_error(value):
    with pytest.raises(ConfigError) as caught:
        validate({"box": value}, "x.toml")
    assert caught.value.key == "box" and "expected a table" in str(caught.value)


toml_scalars = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=10),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.times(),
)
toml_keys = st.text(st.characters(codec="utf-8"), max_size=6)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(toml_keys, inner, max_size=3),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(toml_keys, toml_values, max_size=5))
def test_written_toml_reads_back_the_same(data):
    assert tomllib.loads(dumps(data)) == data


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(toml_keys, toml_values, max_size=5),
    st.dictionaries(toml_keys, toml_values, max_size=5),
)
def test_an_edited_file_reads_back_as_the_merge(base, over):
    # config.set and provisioning edit agent.toml in place: what the agent reads next is the merge
    assert tomllib.loads(merged_text(dumps(base), over, file="agent.toml")) == deep_merge(base, over)


TABLES = [section for section in SECTIONS if section != "scanner"]  # tables, not an array of them


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.sampled_from(TABLES), st.dictionaries(st.sampled_from(KEYS), toml_scalars, max_size=3))
)
def test_the_sample_edited_keeps_every_comment(over):
    sample = sample_text()
    edited = merged_text(sample, over, file="agent.toml")
    assert tomllib.loads(edited) == deep_merge(tomllib.loads(sample), over)
    kept = [line for line in edited.splitlines() if line.startswith("#")]
    assert kept == [line for line in sample.splitlines() if line.startswith("#")]


def test_writing_the_sample_keeps_its_content():
    data = tomllib.loads(sample_text())
    assert tomllib.loads(dumps(data)) == data
    assert "[[scanner]]" in dumps(data) and '\nterminator = "\\r"' not in dumps(data)


def test_the_hash_ignores_formatting_and_follows_content():
    base = '[box]\nid = "a"\nshop = "s"\n[store]\njournal_max_mb = 64\n'
    reordered = '# a comment\n[store]\njournal_max_mb   =   64\n\n[box]\nshop = "s"\nid = "a"\n'
    explicit_default = base + "journal_warn_ratio = 0.8\n"
    changed = base.replace("64", "65")
    hashes = [
        config_hash(validate(tomllib.loads(t), "x")) for t in (base, reordered, explicit_default, changed)
    ]
    assert hashes[0] == hashes[1] == hashes[2] != hashes[3]
    assert len(hashes[0]) == 64 and int(hashes[0], 16) >= 0


def test_the_hash_is_stable_across_releases():
    """A fixed value: if this changes, every box reports a new config hash after an update (expected when
    a release adds a config key, since the hash covers the effective config, defaults included)."""
    config = validate({"box": {"id": "shop1-till1", "shop": "shop1"}}, "x")
    assert config_hash(config) == "4adb92d2fa5fa68caf89b2c4150c23f56f5428cda1cae132f37d899605991e58"
