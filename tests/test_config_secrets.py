"""Secrets (any key named password, secret, key or token) never show in a repr, a log line or an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from configspec import build
from firmware_agent.config import BoxConfig, Secret, config_hash, validate
from firmware_agent.config.rules import Section, absolute_path, rule
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


# --- every secret of both configs, the box's and the bridge's ------------------------------------------

BOX_SECRETS = {
    "mqtt.password": "box-broker-pw-7Q",
    "mqtt.command_key": "box-command-key-0123456789",
    "web.pin": "97531864",
}
BRIDGE_SECRETS = {
    "bridge.pickup_secret": "pickup-secret-5R",
    "database.url": "db-pass-9Z",  # the password inside the URL
    "broker.password": "bridge-broker-pw-3K",
    "shop.credentials": "shpat-token-8M",
}


def box_data(**changes: object) -> dict[str, Any]:
    s = BOX_SECRETS
    data: dict[str, Any] = {
        "box": {"id": "b", "shop": "s"},
        "mqtt": {"url": "mqtt://h", "password": s["mqtt.password"], "command_key": s["mqtt.command_key"]},
        "web": {"listen": "127.0.0.1:8080", "pin": s["web.pin"]},
    }
    for key, value in changes.items():
        table, name = key.split("__")
        data[table][name] = value
    return data


def bridge_data(**changes: object) -> dict[str, Any]:
    s = BRIDGE_SECRETS
    data: dict[str, Any] = {
        "bridge": {"pickup_secret": s["bridge.pickup_secret"]},
        "database": {"url": f"postgresql://bridge:{s['database.url']}@db.example/bridge"},
        "broker": {"password": s["broker.password"], "username": "bridge_w1"},
        "shop": [
            {
                "id": "corner",
                "platform": "shopify",
                "base_url": "https://corner.example",
                "credentials": {"access_token": s["shop.credentials"], "location_id": "1"},
            }
        ],
    }
    for key, value in changes.items():
        table, name = key.split("__")
        data[table][name] = value
    return data


def test_every_secret_field_of_both_configs_is_in_this_test() -> None:
    """A new secret key fails here until the test below puts it through every way it could be shown."""
    from cloud_bridge.config import BridgeFile
    from configspec import keys
    from firmware_agent.config import AgentConfig

    assert {f"{k.table}.{k.name}" for k in keys(AgentConfig) if k.secret} == set(BOX_SECRETS)
    assert {f"{k.table}.{k.name}" for k in keys(BridgeFile) if k.secret} == set(BRIDGE_SECRETS)


def _never_shown(secrets: dict[str, str], *texts: str) -> None:
    for text in texts:
        for key, value in secrets.items():
            assert value not in text, f"{key} shown in: {text}"


def test_no_secret_of_either_config_shows_in_repr_str_format_logs_or_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from cloud_bridge.config import parse_config
    from cloud_bridge.errors import BridgeConfigError

    box = validate(box_data(), "agent.toml")
    bridge = parse_config(bridge_data(), "bridge.toml")
    assert box.mqtt is not None and box.web is not None and bridge.pickup_secret is not None
    box_values = [box.mqtt.password, box.mqtt.command_key, box.web.pin]
    bridge_values = [
        bridge.pickup_secret,
        bridge.database_url,
        bridge.broker.password,
        bridge.shops[0].credentials,
    ]
    # the values are there for the code that needs them
    assert [v.reveal() for v in box_values if isinstance(v, Secret)] == list(BOX_SECRETS.values())
    assert bridge.shops[0].connector_settings()["access_token"] == BRIDGE_SECRETS["shop.credentials"]
    assert BRIDGE_SECRETS["database.url"] in bridge.database_url.reveal()
    assert bridge.database_shown == "postgresql://bridge:***@db.example/bridge"  # which server, still

    for config, values, secrets in ((box, box_values, BOX_SECRETS), (bridge, bridge_values, BRIDGE_SECRETS)):
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("test").info("config %s %r", config, config)
            for value in values:
                logging.getLogger("test").info("value %s %r", value, value)
                logging.getLogger("test").info("value %s", f"{value} {value!r} {value:>20} {[value]}")
        _never_shown(secrets, repr(config), str(config), f"{config}", caplog.text)
        _never_shown(secrets, *(f"{v} {v!r} {v:>30} {[v]} {(v,)} {v!s}" for v in values))

    # a bad config beside the secrets: the error lists what is wrong, and no secret
    with pytest.raises(ConfigError) as box_error:
        validate(box_data(box__log_level="loud"), "agent.toml")
    with pytest.raises(BridgeConfigError) as bridge_error:
        parse_config(bridge_data(broker__keepalive_s=0), "bridge.toml")
    _never_shown(BOX_SECRETS, str(box_error.value), repr(box_error.value))
    _never_shown(BRIDGE_SECRETS, str(bridge_error.value), repr(bridge_error.value))
    assert "agent.toml: box.log_level" in str(box_error.value)
    assert "bridge.toml: broker.keepalive_s" in str(bridge_error.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"mqtt__password": [BOX_SECRETS["mqtt.password"]]}, "agent.toml: mqtt.password: expected a string"),
        (
            {"mqtt__command_key": "short-" + "k"},
            "agent.toml: mqtt.command_key: *** must be at least 16 bytes",
        ),
        ({"web__pin": BOX_SECRETS["web.pin"] + "x"}, "agent.toml: web.pin: *** must be 6 to 12 digits"),
    ],
)
def test_a_bad_box_secret_is_named_but_not_shown(changes: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate(box_data(**changes), "agent.toml")
    assert expected in str(caught.value)
    _never_shown({**BOX_SECRETS, "x": "short-k"}, str(caught.value))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"bridge__pickup_secret": 4711},
            "bridge.toml: bridge.pickup_secret: expected a string, got an integer",
        ),
        ({"bridge__pickup_secret": ""}, "bridge.toml: bridge.pickup_secret: *** must not be empty"),
        ({"broker__password": [BRIDGE_SECRETS["broker.password"]]}, "broker.password: expected a string"),
        (
            {"database__url": f"mysql://u:{BRIDGE_SECRETS['database.url']}@h/db"},
            "bridge.toml: database.url: 'mysql://***@h/db' is not sqlite:///PATH",
        ),
        (
            {"shop__credentials": "oops-" + BRIDGE_SECRETS["shop.credentials"]},
            "credentials: expected a table",
        ),
    ],
)
def test_a_bad_bridge_secret_is_named_but_not_shown(changes: dict[str, object], expected: str) -> None:
    from cloud_bridge.config import parse_config
    from cloud_bridge.errors import BridgeConfigError

    data = bridge_data(**{k: v for k, v in changes.items() if not k.startswith("shop__")})
    for key, value in changes.items():
        if key.startswith("shop__"):
            data["shop"][0][key.removeprefix("shop__")] = value
    with pytest.raises(BridgeConfigError) as caught:
        parse_config(data, "bridge.toml")
    assert expected in str(caught.value)
    _never_shown({**BRIDGE_SECRETS, "int": "4711"}, str(caught.value))
