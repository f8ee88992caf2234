"""First-start provisioning: merged once, validated as a whole, written atomically, or nothing changes."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from firmware_agent.config import (
    ProvisioningStatus,
    apply_provisioning,
    check_config,
    deep_merge,
    load_config,
    provisioning_path_for,
)
from firmware_agent.config.atomic import atomic_write
from tests.config_helpers import BOX, write

MAIN = BOX + '[store]\njournal_max_mb = 128\n[[scanner]]\nname = "old"\ntype = "sim"\n'
PROVISIONING = (
    '[box]\nid = "shop7-till2"\nshop = "shop7"\n'
    '[[scanner]]\nname = "front"\ntype = "evdev"\nname_match = "Datalogic"\nlayout = "es"\n'
    '[printer]\nurl = "tcp://192.168.1.50:9100"\n'
)


def test_provisioning_is_merged_over_the_config_and_applied_once(tmp_path):
    main = write(tmp_path, MAIN)
    prov = write(tmp_path, PROVISIONING, name="tillbridge.toml")
    result = apply_provisioning(main, prov)
    assert result.status is ProvisioningStatus.APPLIED and result.error is None and result.warning == ""
    config = load_config(main)
    assert result.config == config
    assert (config.box.id, config.box.shop) == ("shop7-till2", "shop7")  # provisioning wins
    assert config.store.journal_max_mb == 128  # kept from the main config
    assert [s.name for s in config.scanner] == ["front"]  # an array is replaced, not appended to
    assert config.printer is not None and config.printer.url == "tcp://192.168.1.50:9100"
    assert not prov.exists()
    applied = (tmp_path / "tillbridge.toml.applied").read_text()
    assert tomllib.loads(applied) == tomllib.loads(PROVISIONING)  # no secret in it to remove
    again = apply_provisioning(main, prov)
    assert again.status is ProvisioningStatus.ABSENT and load_config(main) == config


def test_first_start_without_a_config_writes_a_private_one(tmp_path):
    main = tmp_path / "etc" / "tillbridge" / "agent.toml"
    prov = write(tmp_path, PROVISIONING, name="tillbridge.toml")
    assert apply_provisioning(main, prov).status is ProvisioningStatus.APPLIED
    assert load_config(main).box.id == "shop7-till2"
    assert stat.S_IMODE(main.stat().st_mode) == 0o600


def test_the_config_keeps_its_file_mode(tmp_path):
    main = write(tmp_path, MAIN)
    main.chmod(0o640)
    apply_provisioning(main, write(tmp_path, PROVISIONING, name="tillbridge.toml"))
    assert stat.S_IMODE(main.stat().st_mode) == 0o640


def test_invalid_provisioning_leaves_the_config_byte_identical_and_names_its_key(tmp_path):
    main = write(tmp_path, MAIN)
    before = main.read_bytes()
    prov = write(tmp_path, '[box]\nid = "Till 2"\n[scale]\nprotocol = "toledo8217"\n', name="tillbridge.toml")
    result = apply_provisioning(main, prov)
    assert result.status is ProvisioningStatus.REJECTED and result.config is None
    assert str(result.error).splitlines() == [
        f"{prov}: box.id: 'Till 2' must be 1 to 64 characters of a-z, 0-9 and -",
        f"{prov}: scale.port: missing (required)",
    ]
    assert result.error is not None and (result.error.file, result.error.key) == (str(prov), "box.id")
    assert main.read_bytes() == before
    assert prov.exists() and not (tmp_path / "tillbridge.toml.applied").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.toml", "tillbridge.toml"]  # no temp file


def test_a_problem_left_in_the_main_config_names_the_main_config(tmp_path):
    main = write(tmp_path, BOX + "[gpio]\nled_pin = 40\n")
    prov = write(tmp_path, '[box]\nid = "till-2"\n', name="tillbridge.toml")
    result = apply_provisioning(main, prov)
    assert result.status is ProvisioningStatus.REJECTED
    assert str(result.error) == f"{main}: gpio.led_pin: 40 is not a BCM GPIO pin (0..27)"


def test_a_provisioning_file_with_a_syntax_error_is_rejected_by_name(tmp_path):
    main = write(tmp_path, MAIN)
    prov = write(tmp_path, "[box\n", name="tillbridge.toml")
    result = apply_provisioning(main, prov)
    assert result.status is ProvisioningStatus.REJECTED
    assert str(result.error).startswith(f"{prov}: invalid TOML: ") and "line 1" in str(result.error)
    assert main.read_text() == MAIN


def test_the_provisioning_path_comes_from_the_config_when_not_given(tmp_path):
    prov = tmp_path / "boot" / "tillbridge.toml"
    prov.parent.mkdir()
    main = write(tmp_path, MAIN + f'[provisioning]\npath = "{prov}"\n')
    assert provisioning_path_for(main) == prov
    assert apply_provisioning(main).status is ProvisioningStatus.ABSENT
    prov.write_text('[box]\nid = "till-9"\n')
    assert apply_provisioning(main).status is ProvisioningStatus.APPLIED
    assert load_config(main).box.id == "till-9"
    assert provisioning_path_for(tmp_path / "missing.toml") == Path("/boot/firmware/tillbridge.toml")


def test_an_applied_file_that_cannot_be_renamed_is_reported(tmp_path, monkeypatch):
    """A boot partition mounted read-only; there is no such partition here, so the rename is made to fail."""

    def read_only(prov: Path) -> Path:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("firmware_agent.config.provisioning.replace_applied", read_only)
    main = write(tmp_path, MAIN)
    prov = write(tmp_path, PROVISIONING, name="tillbridge.toml")
    result = apply_provisioning(main, prov)
    assert result.status is ProvisioningStatus.APPLIED and load_config(main).box.id == "shop7-till2"
    assert "cannot replace it by tillbridge.toml.applied (Read-only file system)" in result.warning
    assert apply_provisioning(main, prov).config == result.config  # applying it again changes nothing


def test_check_config_checks_a_pending_provisioning_merged_without_applying_it(tmp_path):
    main = write(tmp_path, MAIN)
    prov = write(tmp_path, '[store]\njournal_max_mb = "lots"\n', name="tillbridge.toml")
    assert check_config(main, prov) == [
        f"{prov}: store.journal_max_mb: expected an integer, got a string ('lots')"
    ]
    prov.write_text('[scale]\nprotocol = "enq"\nport = "/dev/ttyUSB9"\n')
    assert check_config(main, prov) == [f"{prov}: scale.port: /dev/ttyUSB9 does not exist"]
    assert main.read_text() == MAIN and prov.exists()


def test_deep_merge_merges_tables_and_replaces_everything_else():
    base = {"box": {"id": "a", "shop": "s"}, "scanner": [{"name": "x"}], "gpio": {"led_pin": 1}}
    over = {"box": {"id": "b"}, "scanner": [], "gpio": 5}
    assert deep_merge(base, over) == {"box": {"id": "b", "shop": "s"}, "scanner": [], "gpio": 5}
    assert deep_merge(deep_merge(base, over), over) == deep_merge(base, over)
    assert base["box"] == {"id": "a", "shop": "s"}  # inputs untouched


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_write_that_fails_before_the_rename_leaves_the_old_file(tmp_path, monkeypatch, failing):
    """Disk errors cannot be caused here on demand, so the failing call is replaced."""
    path = write(tmp_path, "old = 1\n")

    def boom(*args: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", boom) if failing == "fsync" else monkeypatch.setattr(
        Path, "replace", boom
    )
    with pytest.raises(OSError):
        atomic_write(path, "new = 2\n")
    assert path.read_text() == "old = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["agent.toml"]


def test_a_process_killed_before_the_rename_leaves_the_old_file(tmp_path):
    path = write(tmp_path, "old = 1\n")
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from firmware_agent.config.atomic import atomic_write
        Path.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        atomic_write(Path({str(path)!r}), "new = 2\\n")
    """)
    done = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert path.read_text() == "old = 1\n"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "agent.toml"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".agent.toml.")
    atomic_write(path, "new = 2\n")  # the next write clears what the killed one left
    assert path.read_text() == "new = 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["agent.toml"]


def test_a_config_that_cannot_be_written_rejects_provisioning_and_keeps_the_file(tmp_path):
    blocker = write(tmp_path, "not a directory\n", name="etc")
    prov = write(tmp_path, PROVISIONING, name="tillbridge.toml")
    result = apply_provisioning(blocker / "agent.toml", prov)
    assert result.status is ProvisioningStatus.REJECTED
    assert str(result.error).startswith(f"{blocker / 'agent.toml'}: cannot write: ")
    assert prov.read_text() == PROVISIONING


SAMPLE = Path(__file__).resolve().parent.parent / "firmware_agent" / "agent.sample.toml"


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_provisioning_keeps_the_installers_comments_and_layout(tmp_path):
    sample = SAMPLE.read_text()
    main = write(tmp_path, sample)
    prov = write(tmp_path, PROVISIONING, name="tillbridge.toml")
    assert apply_provisioning(main, prov).status is ProvisioningStatus.APPLIED
    text = main.read_text()
    assert comments(text) == comments(sample)  # every comment, in its order
    section = slice(sample.index("[store]"), sample.index("[[scanner]]"))
    assert sample[section] in text  # a table provisioning does not touch stays as it was, byte for byte
    config = load_config(main)
    assert (config.box.id, config.printer and config.printer.url) == (
        "shop7-till2",
        "tcp://192.168.1.50:9100",
    )
    assert [getattr(s, "name_match", None) for s in config.scanner] == ["Datalogic"]
