"""Secrets in config and provisioning files stay secret: never echoed in an error (which may travel back to
support in a config.set reply), never left readable in the applied provisioning file on the boot partition."""

from __future__ import annotations

import stat
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_agent.config import InvalidConfig, ProvisioningStatus, apply_provisioning, load_config, validate
from firmware_agent.config.tomlfile import dumps
from tests.config_helpers import BOX, write

PASSWORD, KEY = "S3cret-broker-PW", "a command key of 32 bytes, hush!!"
PROVISIONING = (
    BOX + f'[mqtt]\nurl = "mqtts://broker.example"\npassword = "{PASSWORD}"\ncommand_key = "{KEY}"\n'
)


def test_the_applied_provisioning_file_keeps_no_secret(tmp_path):
    main = write(tmp_path, BOX)
    prov = write(tmp_path, PROVISIONING, name="tillbridge.toml")
    assert apply_provisioning(main, prov).status is ProvisioningStatus.APPLIED
    config = load_config(main)
    assert config.mqtt is not None and config.mqtt.password is not None
    assert config.mqtt.password.reveal() == PASSWORD  # the config has them
    applied = tmp_path / "tillbridge.toml.applied"
    text = applied.read_text()
    assert PASSWORD not in text and KEY not in text and not prov.exists()
    assert tomllib.loads(text)["mqtt"]["url"] == "mqtts://broker.example"  # the rest documents what was done
    assert stat.S_IMODE(applied.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "url",
    [
        f"mqtt://alice:{PASSWORD}@broker:1883",
        f"mqtts://{PASSWORD}@broker",
        f"mqtt://broker?password={PASSWORD}",
        f"mqtt://broker/#token={PASSWORD}",
    ],
)
def test_credentials_written_into_a_url_are_refused_without_being_echoed(url):
    with pytest.raises(InvalidConfig) as refused:
        validate({"box": {"id": "b1", "shop": "s1"}, "mqtt": {"url": url}}, "agent.toml")
    assert "mqtt.url" in str(refused.value) and PASSWORD not in str(refused.value)


# ---- any provisioning file: applied, or refused naming the file, the main config untouched ----------------

TOML_KEYS = st.sampled_from(["box", "mqtt", "printer", "scanner", "id", "shop", "url", "password", "x"])
TOML_VALUES = st.recursive(
    st.none().map(lambda _: "") | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TOML_KEYS, inner, max_size=3),
    max_leaves=8,
)


@given(
    st.one_of(
        st.binary(max_size=200),
        st.dictionaries(TOML_KEYS, TOML_VALUES, max_size=4).map(lambda d: dumps(d).encode()),
    )
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_provisioning_file_is_applied_or_refused_by_name_and_nothing_else_changes(tmp_path, content):
    main = write(tmp_path, BOX)
    before = main.read_bytes()
    prov = tmp_path / "tillbridge.toml"
    prov.write_bytes(content)
    result = apply_provisioning(main, prov)
    if result.status is ProvisioningStatus.REJECTED:
        assert result.error is not None and str(prov) in str(result.error), result.error
        assert main.read_bytes() == before and prov.read_bytes() == content
    else:
        assert result.status is ProvisioningStatus.APPLIED and load_config(main) == result.config
        (tmp_path / "tillbridge.toml.applied").unlink()
