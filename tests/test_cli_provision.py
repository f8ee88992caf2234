"""`tillbridge provision` refusing a file names every problem in it at once, the agent's tables' too, so the
installer fixes the card once rather than once per reboot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tillbridge.cli import main


def test_a_bad_wifi_table_does_not_hide_a_bad_box_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the [wifi] problem was reported; the bad box.id came out at the next boot."""
    config = tmp_path / "agent.toml"
    config.write_text('[box]\nid = "shop1-till1"\nshop = "shop1"\n')
    prov = tmp_path / "tillbridge.toml"
    prov.write_text('[box]\nid = "Till 2"\n[wifi]\nssid = "Shop"\npassword = "short"\n')
    argv = ["provision", "--config", str(config), "--provisioning", str(prov), "--root", str(tmp_path)]
    assert main([*argv, "--data-dir", str(tmp_path)]) == 3
    out = capsys.readouterr().err
    assert f"{prov}: wifi.password: must be 8 to 63" in out and f"{prov}: box.id: 'Till 2'" in out
    problems = json.loads((tmp_path / "provisioning-rejected.json").read_text())["problems"]
    assert any("wifi.password" in line for line in problems) and any("box.id" in line for line in problems)
    assert config.read_text() == '[box]\nid = "shop1-till1"\nshop = "shop1"\n' and prov.exists()
