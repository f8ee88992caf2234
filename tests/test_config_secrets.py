"""Secrets (any key named password, secret, key or token) never show in a repr, a log line or an error."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from firmware_agent.config import BoxConfig, Secret, config_hash, validate
from firmware_agent.config.rules import Section, absolute_path, rule
from firmware_agent.config.validator import build
from firmware_agent.errors import ConfigError

SECRET = "hunter2-0xDEADBEEF"


@dataclass(frozen=True, kw_only=True)
class MqttLike(Section):
    """The shape the [mqtt] section will have: how a later section with secrets is declared."""

    url: str
    username: str = ""
    password: Secret | None = None
    key: str | None = field(default=None, metadata=rule(absolute_path))


@dataclass(frozen=True, kw_only=True)
class ConfigWithMqtt(Section):
    box: BoxConfig
    mqtt: MqttLike


def config_data(**mqtt: object) -> dict[str, object]:
    return {"box": {"id": "b", "shop": "s"}, "mqtt": {"url": "mqtts://broker:8883", **mqtt}}


def problems_text(data: dict[str, object]) -> str:
    built, problems = build(ConfigWithMqtt, data)
    assert built is None
    return "\n".join(map(str, problems))


def test_secret_values_are_masked_in_repr_but_usable():
    built, problems = build(ConfigWithMqtt, config_data(password=SECRET))
    assert problems == [] and built is not None
    assert built.mqtt.password is not None and built.mqtt.password.reveal() == SECRET
    assert SECRET not in repr(built) and SECRET not in str(built)
    assert "password='***'" in repr(built)
    assert Secret(SECRET) == Secret(SECRET) and Secret(SECRET) != Secret("other")


@pytest.mark.parametrize(
    ("mqtt", "expected"),
    [
        ({"password": 20240101}, "mqtt.password: expected a string, got an integer"),
        ({"password": [SECRET]}, "mqtt.password: expected a string, got an array"),
        ({"key": f"relative/{SECRET}"}, "mqtt.key: *** must be an absolute path"),
        ({"key": 5}, "mqtt.key: expected a string, got an integer"),
        ({"pasword": SECRET}, "mqtt.pasword: unknown key (did you mean password?)"),
        ({"tls_secret": SECRET}, "mqtt.tls_secret: unknown key"),
    ],
)
def test_errors_about_secrets_never_show_the_value(mqtt, expected):
    text = problems_text(config_data(**mqtt))
    assert expected in text
    assert SECRET not in text and "20240101" not in text


def test_a_secret_in_the_wrong_place_of_the_real_config_is_not_shown():
    with pytest.raises(ConfigError) as caught:
        validate({"box": {"id": "b", "shop": "s", "password": SECRET}}, "agent.toml")
    assert (
        str(caught.value)
        == "agent.toml: box.password: unknown key (known: id, shop, data_dir, log_level, watchdog)"
    )


def test_the_config_hash_covers_secrets_without_revealing_them():
    first, _ = build(ConfigWithMqtt, config_data(password=SECRET))
    same, _ = build(ConfigWithMqtt, config_data(password=SECRET))
    other, _ = build(ConfigWithMqtt, config_data(password=SECRET + "!"))
    assert first is not None and same is not None and other is not None
    assert config_hash(first) == config_hash(same) != config_hash(other)
    assert SECRET not in config_hash(first)
