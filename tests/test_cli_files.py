"""A file or folder the user named that is not there is one line naming it, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tillbridge.cli import main


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["update", "pack", "{missing}", "--version", "1", "--out", "{tmp}/r.tar"], "{missing}/release.json"),
        (["update", "keygen", "--out", "{missing}/key"], "{missing}/key"),
    ],
)
def test_a_missing_folder_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    """Both were FileNotFoundError tracebacks."""
    where = {"missing": str(tmp_path / "nowhere"), "tmp": str(tmp_path)}
    assert main([part.format(**where) for part in argv]) == 2
    err = capsys.readouterr().err
    assert err == f"tillbridge update: {named.format(**where)}: No such file or directory\n"


def test_signing_with_a_key_file_that_is_not_there_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed openssl's own lines ("unregistered scheme", "Error initializing context")."""
    artifact = tmp_path / "release.tar"
    artifact.write_bytes(b"release")
    assert main(["update", "sign", "--key", str(tmp_path / "signing.key"), str(artifact)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'signing.key'}: no such key file" in err and "pkeyutl" not in err
