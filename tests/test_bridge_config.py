"""The bridge's config file and its command line: every problem named by key, secrets never shown."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cloud_bridge import models as m
from cloud_bridge.config import load_config, parse_config
from cloud_bridge.db import Database
from cloud_bridge.errors import BridgeConfigError
from cloud_bridge.parking import park
from tillbridge.cli import main

SAMPLE = Path(__file__).parents[1] / "cloud_bridge" / "bridge.sample.toml"


def problems(text: str) -> list[str]:
    import tomllib

    with pytest.raises(BridgeConfigError) as caught:
        parse_config(tomllib.loads(text), "b.toml")
    return list(caught.value.problems)


def test_the_sample_is_valid_and_the_smallest_file_is_empty(tmp_path: Path) -> None:
    sample = load_config(SAMPLE)
    assert sample.shops[0].platform == "woocommerce" and sample.timing.orders_s == 10.0
    (tmp_path / "empty.toml").write_text("")
    empty = load_config(tmp_path / "empty.toml")
    assert empty.database_url.reveal().startswith("sqlite:///") and empty.shops == () and empty.worker_id


def test_every_problem_is_reported_at_once_with_its_key() -> None:
    found = problems(
        """
        [broker]
        url = "http://x"
        [timing]
        pol_s = 2
        orders_s = -1
        [[shop]]
        id = "a"
        platform = "shopware"
        base_url = "https://a.example"
        boxes = ["t1", "t1"]
        [[shop]]
        platform = "shopify"
        base_url = "ftp://b"
        boxes = ["t2"]
        orders_box = "t9"
        orders_failover_s = 1
        [[shop]]
        id = "a"
        platform = "prestashop"
        base_url = "https://c.example"
        boxes = ["t2"]
        """
    )
    assert found == [
        "b.toml: broker.url: 'http://x' must be mqtt://host[:port] or mqtts://host[:port]",
        "b.toml: timing.pol_s: unknown key (did you mean poll_s?)",
        "b.toml: timing.orders_s: -1.0 must be greater than 0",
        "b.toml: shop[2].id: 'a' is already used by shop[0]",
        "b.toml: shop[0].platform: 'shopware' is not one of woocommerce, prestashop, shopify, oscar, magento",
        "b.toml: shop[1].id: missing (required)",
        "b.toml: shop[1].base_url: 'ftp://b' is not an http(s) URL",
        "b.toml: shop[1].orders_failover_s: 1.0 must be at least 5",
    ]
    # checks across two keys of a table run once its keys are valid (as in the box's config)
    assert problems(
        """
        [[shop]]
        id = "a"
        platform = "woocommerce"
        base_url = "https://a.example"
        boxes = ["t1", "t1"]
        orders_box = "t9"
        """
    ) == [
        "b.toml: shop[0].boxes: lists 't1' twice",
        "b.toml: shop[0].orders_box: 't9' is not one of this shop's boxes",
    ]
    two_shops = '[[shop]]\nid = "{}"\nplatform = "shopify"\nbase_url = "https://b.example"\nboxes = ["t1"]\n'
    assert problems(two_shops.format("a") + two_shops.format("b")) == [
        "b.toml: shop[1].boxes: box 't1' is already listed for shop 'a'"
    ]


def test_secrets_stay_out_of_messages_and_reprs(tmp_path: Path) -> None:
    found = problems(
        """
        [broker]
        password = 12345
        [database]
        url = "mysql://u:hunter2@h/db"
        """
    )
    assert found == [
        "b.toml: database.url: 'mysql://***@h/db' is not sqlite:///PATH or "
        "postgresql://[user@]host[:port]/database",
        "b.toml: broker.password: expected a string, got an integer",
    ]
    config = parse_config(
        {"database": {"url": "postgresql://u:hunter2@h/db"}, "broker": {"password": "pw-secret"}}, "b.toml"
    )
    assert config.database_shown == "postgresql://u:***@h/db"
    assert "hunter2" not in repr(config) and "pw-secret" not in repr(config)
    password = config.broker.password
    assert password is not None and password.reveal() == "pw-secret"  # for the broker only
    # a message built from the value (a log line, an f-string) shows *** and not the password
    assert "pw-secret" not in f"{password} {password!r} {config.broker} {[config.broker.password]}"


def test_broken_toml_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bridge.toml"
    bad.write_text("[bridge\n")
    assert main(["bridge", "check-config", "--config", str(bad)]) == 2
    assert f"{bad}: invalid TOML" in capsys.readouterr().err


def test_status_shows_the_fleet_and_retry_clears_parked_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    path = tmp_path / "bridge.toml"
    path.write_text(
        f'[database]\nurl = "{url}"\n[[shop]]\nid = "corner"\nplatform = "shopify"\n'
        'base_url = "https://corner.example"\nboxes = ["till-1"]\n'
        '[shop.credentials]\naccess_token = "shpat_x"\nlocation_id = "1"\n'
    )
    db = Database(url).open()
    with db.write():
        m.Box.create(
            shop="corner", box="till-1", last_seq=42, online=True, version="0.1.0", seen_at=time.time()
        )
        park("corner", "sku/NOPE", "sku", "shop 'corner': no product with sku 'NOPE'", time.time())
    db.close()
    assert main(["bridge", "status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "shop corner (shopify)" in out and "box till-1: online, v0.1.0, journal applied to seq 42" in out
    assert "corner sku/NOPE: shop 'corner': no product with sku 'NOPE' (×1" in out
    assert main(["bridge", "retry", "corner", "sku/NOPE", "--config", str(path)]) == 0
    assert main(["bridge", "status", "--json", "--config", str(path)]) == 0
    assert '"parked": []' in capsys.readouterr().out
    assert main(["bridge", "check-config", "--config", str(path)]) == 0
    path.write_text(path.read_text().replace('location_id = "1"\n', ""))
    assert main(["bridge", "check-config", "--config", str(path)]) == 2
    assert "corner.location_id: required for shopify" in capsys.readouterr().err


def test_check_config_fails_where_bridge_run_could_not_open_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample names /var/lib/tillbridge/bridge.db: a check that passes must mean `bridge run` starts."""
    missing = tmp_path / "nowhere" / "bridge.db"
    path = tmp_path / "bridge.toml"
    path.write_text(SAMPLE.read_text().replace("/var/lib/tillbridge/bridge.db", str(missing)))
    assert main(["bridge", "check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{missing.parent}" in err and "does not exist" in err
    assert not missing.parent.exists()  # a check creates nothing

    (tmp_path / "nowhere").mkdir()
    assert main(["bridge", "check-config", "--config", str(path)]) == 0
    assert "OK" in capsys.readouterr().out and not missing.exists()


def test_check_config_reaches_postgresql_or_names_what_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as unused:  # a port with nobody listening
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    path = tmp_path / "bridge.toml"
    path.write_text(f'[database]\nurl = "postgresql://postgres:s3cret@127.0.0.1:{port}/bridge"\n')
    assert main(["bridge", "check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "cannot connect" in err and "s3cret" not in err


def test_check_config_fails_where_bridge_run_could_not_open_its_tls_files_or_webhook_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bridge run` loads the broker's TLS files and binds the webhook address at start: a check that
    passes must mean both work (a missing CA file used to pass the check, then stop the service)."""
    import socket

    path = tmp_path / "bridge.toml"
    database = f'[database]\nurl = "sqlite:///{tmp_path / "b.db"}"\n'
    not_a_cert = tmp_path / "ca.crt"
    not_a_cert.write_text("this is not a certificate\n")
    path.write_text(
        database + f'[broker]\nurl = "mqtts://broker.example"\nca_file = "{tmp_path / "missing.crt"}"\n'
    )
    assert main(["bridge", "check-config", "--config", str(path)]) == 2
    assert f"broker.ca_file: {tmp_path / 'missing.crt'}: cannot read" in capsys.readouterr().err

    path.write_text(database + f'[broker]\nurl = "mqtts://broker.example"\nca_file = "{not_a_cert}"\n')
    assert main(["bridge", "check-config", "--config", str(path)]) == 2
    assert f"broker.ca_file: {not_a_cert}: not a CA certificate" in capsys.readouterr().err

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path.write_text(database + f'[bridge]\nwebhook_listen = "127.0.0.1:{port}"\n')
        assert main(["bridge", "check-config", "--config", str(path)]) == 2
        assert f"{path}: bridge.webhook_listen: cannot listen there" in capsys.readouterr().err
    assert main(["bridge", "check-config", "--config", str(path)]) == 0  # free again: OK
    assert "OK" in capsys.readouterr().out
