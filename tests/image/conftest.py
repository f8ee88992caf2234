"""The boot test builds a whole Debian image and boots it twice under qemu: minutes, not seconds. It runs
only when its folder is named on the command line (`./dev image-test`, or `pytest tests/image`); the
default run (`./dev test`, testpaths = tests) deselects it, and says so in its summary ("N deselected")."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _asked_for(config: pytest.Config) -> bool:
    base = config.invocation_params.dir
    for arg in config.invocation_params.args:
        path = (base / str(arg).split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _asked_for(config):
        return
    slow = [item for item in items if HERE in item.path.parents]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if HERE not in item.path.parents]
