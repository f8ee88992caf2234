"""`tillbridge order add` as a shop types it: what went wrong is said under the command the user ran."""

from __future__ import annotations

import pytest

from tests.mqtt_helpers import broker, new_box_id
from tillbridge.cli import main

__all__ = ["broker"]


def test_a_box_that_does_not_answer_is_reported_by_the_order_command(
    broker, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said `tillbridge support: box … did not answer`: a shop taking a phone order never ran support."""
    box = new_box_id()
    argv = ["order", "add", box, "--shop", "pizza", "--url", broker.url, "--timeout", "0.5"]
    assert main([*argv, "--customer", "Ana", "--line", "CANA"]) == 2
    err = capsys.readouterr().err
    assert f"tillbridge order: box {box} did not answer" in err and "tillbridge support" not in err
