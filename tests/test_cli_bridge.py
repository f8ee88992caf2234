"""`tillbridge bridge retry/import/login` as an installer types them: a shop id the config does not have
is named, with the ids it does have, instead of "0 parked problems cleared" or a usage line that hides it.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tillbridge.cli import main


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "b.db"}"\n[[shop]]\nid = "corner"\nplatform = "shopify"\n'
        'base_url = "https://corner.example"\nboxes = ["till-1"]\n'
        '[shop.credentials]\naccess_token = "shpat_x"\nlocation_id = "1"\n'
    )
    return path


@pytest.mark.parametrize(
    "action",
    [
        ["retry", "cornr"],
        ["retry", "cornr", "sku/X"],
        ["import", "cornr", "x.csv"],
        ["login", "cornr", "ana"],
    ],
)
def test_a_mistyped_shop_is_named_with_the_shops_the_config_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: list[str]
) -> None:
    path = _config(tmp_path)
    assert main(["bridge", *action, "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert f"no shop 'cornr' in {path} (it has: corner)" in err
    assert "cleared" not in out  # a retry of nothing is not reported as done


def test_retry_without_a_shop_says_what_to_give(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bridge", "retry", "--config", str(_config(tmp_path))]) == 2
    assert "give the shop id and optionally the parked key" in capsys.readouterr().err


def test_retry_of_a_known_shop_still_clears(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bridge", "retry", "corner", "--config", str(_config(tmp_path))]) == 0
    assert "0 parked problems cleared" in capsys.readouterr().out


@pytest.mark.parametrize("listen", ["nonsense", "127.0.0.1:99999", "127.0.0.1:", ":8480"])
def test_web_with_a_bad_listen_address_says_so_before_opening_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listen: str
) -> None:
    """`nonsense` was a ValueError traceback; 99999 served the page on whatever port it wrapped round to."""
    with pytest.raises(SystemExit) as exited:
        main(["bridge", "web", "--listen", listen, "--config", str(_config(tmp_path))])
    assert exited.value.code == 2
    assert f"--listen: {listen!r} is not HOST:PORT" in capsys.readouterr().err


def test_web_on_a_port_already_taken_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        assert main(["bridge", "web", "--listen", listen, "--config", str(_config(tmp_path))]) == 2
    assert f"web: cannot listen on {listen}: Address already in use" in capsys.readouterr().err
