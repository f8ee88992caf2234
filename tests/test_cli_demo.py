"""`tillbridge demo` options a newcomer may get wrong are refused at once, naming the option."""

from __future__ import annotations

import pytest

from tillbridge.cli import main


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--scans", "-3", "is not a number of scans, 1 or more"),  # ran until killed
        ("--scans", "0", "is not a number of scans, 1 or more"),
        ("--interval", "-1", "is not a number of seconds from 0 to 3600"),
        ("--mqtt-port", "99999", "is not a port number 0-65535"),
    ],
)
def test_a_bad_demo_option_is_named_before_anything_starts(
    capsys: pytest.CaptureFixture[str], option: str, value: str, says: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", option, value])
    assert exited.value.code == 2
    assert f"argument {option}: '{value}' {says}" in capsys.readouterr().err
