"""`tillbridge labels` pointed at the wrong folder: it says there is no store there, and creates none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tillbridge.cli import main


@pytest.mark.parametrize("preview", [["--preview"], []])
def test_a_folder_without_a_store_is_named_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], preview: list[str]
) -> None:
    """It made an empty store in the mistyped folder and said "no shelf labels to change"."""
    wrong = tmp_path / "var-lib-tilbridge"
    assert main(["labels", "--data-dir", str(wrong), *preview]) == 2
    out, err = capsys.readouterr()
    assert f"no store at {wrong / 'tillbridge.db'}" in err and "no shelf labels" not in out
    assert not wrong.exists()
