"""`tillbridge agent --check-config` on a provisioning file as docs/installation.md shows it: the `[wifi]`
and `[system]` tables are checked as first boot checks them, not refused as unknown agent keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tillbridge.cli import main

ROOT = Path(__file__).resolve().parents[1]
IMAGE_CONFIG = ROOT / "image" / "files" / "agent.toml"
BOOT_EXAMPLE = ROOT / "image" / "files" / "boot" / "tillbridge.toml.example"


def test_the_shipped_boot_example_passes_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    """It printed `wifi: unknown key` and `system: unknown key` and exited 2."""
    argv = ["agent", "--config", str(IMAGE_CONFIG), "--provisioning", str(BOOT_EXAMPLE), "--check-config"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == f"{IMAGE_CONFIG}: OK"


def test_bad_host_and_agent_keys_are_all_named_with_the_installers_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('[box]\nid = "shop1-till1"\nshop = "shop1"\n')
    prov = tmp_path / "tillbridge.toml"
    prov.write_text(
        '[box]\nid = "Till 2"\n[wifi]\nssid = "Shop"\npassword = "short"\n[system]\ntimezone = "Mars/Base"\n'
    )
    assert main(["agent", "--config", str(config), "--provisioning", str(prov), "--check-config"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert f"{prov}: wifi.password: must be 8 to 63 printable ASCII characters, or 64 hex digits" in out
    assert f"{prov}: system.timezone: unknown time zone 'Mars/Base'" in out
    assert any(line.startswith(f"{prov}: box.id: 'Till 2'") for line in out)
    assert "short" not in "\n".join(out)  # the password is not echoed
    assert config.read_text() == '[box]\nid = "shop1-till1"\nshop = "shop1"\n' and prov.exists()
