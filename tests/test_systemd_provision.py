"""First-boot provisioning: `tillbridge provision` and systemd/firstboot.sh against a boot partition, an /etc
and a data folder in temporary folders."""

from __future__ import annotations

import grp
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_agent.config.provisioning import REMOVED, scrub
from tests.systemd_helpers import SYSTEMD
from tillbridge.cli import main
from tillbridge.firstboot import REJECTED_MARKER
from tillbridge.hostsetup import WIFI_KEYFILE, Wifi, nm_keyfile, set_wifi_country

OLD_CONFIG = '[box]\nid = "old-box"\nshop = "shop1"\n'
GOOD = """\
[box]
id = "shop7-till2"
shop = "shop7"

[wifi]
ssid = "Shop 7"
password = "correct horse"

[system]
timezone = "Europe/Madrid"
"""


@dataclass
class Box:
    """The places provisioning touches, laid out like a real box under one temporary folder."""

    base: Path

    @property
    def config(self) -> Path:
        return self.base / "etc/tillbridge/agent.toml"

    @property
    def boot(self) -> Path:
        return self.base / "boot/firmware/tillbridge.toml"

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def marker(self) -> Path:
        return self.data / REJECTED_MARKER

    def args(self) -> list[str]:
        return ["--config", str(self.config), "--provisioning", str(self.boot), *self.extra()]

    def extra(self) -> list[str]:
        return ["--root", str(self.root), "--data-dir", str(self.data)]


@pytest.fixture
def box(tmp_path: Path) -> Box:
    box = Box(tmp_path)
    for folder in (box.config.parent, box.boot.parent, box.data):
        folder.mkdir(parents=True)
    box.config.write_text(OLD_CONFIG)
    zone = box.root / "usr/share/zoneinfo/Europe/Madrid"
    zone.parent.mkdir(parents=True)
    zone.write_bytes(b"TZif2")
    return box


def provision(box: Box) -> int:
    return main(["provision", *box.args()])


def test_a_good_file_configures_agent_wifi_and_time_zone(box: Box) -> None:
    box.boot.write_text(GOOD)
    assert provision(box) == 0
    config = tomllib.loads(box.config.read_text())
    assert config["box"] == {"id": "shop7-till2", "shop": "shop7"}
    assert "wifi" not in config and "system" not in config
    keyfile = box.root / WIFI_KEYFILE
    assert "ssid=Shop 7\n" in keyfile.read_text() and "psk=correct horse\n" in keyfile.read_text()
    assert keyfile.stat().st_mode & 0o777 == 0o600  # NetworkManager ignores a keyfile others can read
    assert (box.root / "etc/localtime").readlink() == Path("/usr/share/zoneinfo/Europe/Madrid")
    assert (box.root / "etc/timezone").read_text() == "Europe/Madrid\n"


def test_the_boot_partition_keeps_a_copy_without_secrets(box: Box) -> None:
    box.boot.write_text(GOOD)
    assert provision(box) == 0
    assert not box.boot.exists()
    applied = box.boot.with_name("tillbridge.toml.applied").read_text()
    assert "correct horse" not in applied
    assert tomllib.loads(applied)["wifi"] == {"ssid": "Shop 7", "password": REMOVED}


def test_without_a_file_nothing_happens(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    assert provision(box) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert box.config.read_text() == OLD_CONFIG


def test_a_bad_file_changes_nothing_and_says_why(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    box.boot.write_text(GOOD.replace('id = "shop7-till2"', 'id = "Shop 7!"'))
    assert provision(box) == 3
    err = capsys.readouterr().err
    assert "REJECTED" in err and f"{box.boot}: box.id" in err
    assert box.config.read_text() == OLD_CONFIG
    assert box.boot.read_text().startswith("[box]")  # left for the installer to fix
    assert not (box.root / WIFI_KEYFILE).exists()  # the valid Wi-Fi table is not applied either
    marker = json.loads(box.marker.read_text())
    assert marker["file"] == str(box.boot)
    assert any(line.startswith(f"{box.boot}: box.id") for line in marker["problems"])


def test_host_tables_are_checked_without_showing_the_password(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = GOOD.replace('"correct horse"', '"short"').replace("Europe/Madrid", "Mars/Olympus")
    box.boot.write_text(bad + 'country = "es"\n')
    assert provision(box) == 3
    err = capsys.readouterr().err
    assert "wifi.password: must be 8 to 63" in err and "short" not in err
    assert "system.timezone: unknown time zone 'Mars/Olympus'" in err
    assert "system.country: unknown key" in err
    assert box.config.read_text() == OLD_CONFIG


def test_invalid_toml_is_rejected_with_the_line(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    box.boot.write_text("[box\nid = 1\n")
    assert provision(box) == 3
    assert f"{box.boot}: invalid TOML" in capsys.readouterr().err
    assert box.marker.exists()


def test_a_fixed_file_clears_the_rejection(box: Box) -> None:
    box.boot.write_text("[box]\nid = 7\n")
    assert provision(box) == 3 and box.marker.exists()
    box.boot.write_text(GOOD)
    assert provision(box) == 0
    assert not box.marker.exists()


def test_an_open_network_and_awkward_names_in_the_keyfile() -> None:
    text = nm_keyfile(Wifi(ssid=" café\\bar", hidden=True))
    assert "ssid=\\scafé\\\\bar\n" in text and "hidden=true\n" in text
    assert "[wifi-security]" not in text
    assert "secret" not in repr(Wifi(ssid="x", password="secret123"))


def test_scrub_reaches_nested_tables_and_lists() -> None:
    data = {"mqtt": {"broker_password": "p", "url": "mqtts://h"}, "scanner": [{"name": "a", "token": "t"}]}
    assert scrub(data) == {
        "mqtt": {"broker_password": REMOVED, "url": "mqtts://h"},
        "scanner": [{"name": "a", "token": REMOVED}],
    }


def run_firstboot(box: Box, command: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PROVISIONING": str(box.boot),
        "CONFIG": str(box.config),
        "CONFIG_GROUP": grp.getgrgid(os.getgid()).gr_name,
        "TILLBRIDGE": str(command),
        "PROVISION_ARGS": " ".join(box.extra()),
    }
    script = SYSTEMD / "firstboot.sh"
    return subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def tillbridge(tmp_path: Path) -> Path:
    """The real command, run by this interpreter (the console script may not be on PATH)."""
    wrapper = tmp_path / "tillbridge"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tillbridge "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_firstboot_applies_and_leaves_the_config_readable_by_the_agent(box: Box, tillbridge: Path) -> None:
    box.boot.write_text(GOOD)
    box.config.unlink()  # a fresh image: the config is created by provisioning, private to root at first
    result = run_firstboot(box, tillbridge)
    assert result.returncode == 0, result.stderr
    assert "provisioning applied" in result.stderr
    assert box.config.stat().st_mode & 0o777 == 0o640
    assert box.config.stat().st_gid == os.getgid()


def test_firstboot_exits_0_on_a_rejected_file_but_says_so_loudly(box: Box, tillbridge: Path) -> None:
    box.boot.write_text("[box]\nid = 7\n")
    result = run_firstboot(box, tillbridge)
    assert result.returncode == 0
    assert "PROVISIONING FILE REJECTED" in result.stderr
    assert f"{box.boot}: box.id" in result.stderr
    assert box.config.read_text() == OLD_CONFIG and box.marker.exists()


def test_firstboot_fails_when_the_command_is_missing(box: Box, tmp_path: Path) -> None:
    box.boot.write_text(GOOD)
    result = run_firstboot(box, tmp_path / "nowhere")
    assert result.returncode == 127
    assert "tried again at the next boot" in result.stderr
    assert box.boot.exists()


def test_firstboot_without_a_file_does_nothing(box: Box, tmp_path: Path) -> None:
    result = run_firstboot(box, tmp_path / "nowhere")
    assert result.returncode == 0 and "nothing to do" in result.stderr


def test_the_wifi_country_goes_through_raspi_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "raspi-config"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n[ "$3" != XX ]\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    assert set_wifi_country("ES", Path("/")) == "Wi-Fi country set to ES"
    assert calls.read_text() == "nonint do_wifi_country ES\n"
    assert set_wifi_country("XX", Path("/")).endswith("raspi-config exited with 1")
    assert "not set: no raspi-config" in set_wifi_country("ES", tmp_path)  # never on a test root
