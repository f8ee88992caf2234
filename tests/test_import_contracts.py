"""The deployable boundaries hold: import-linter, configured in pyproject.toml, passes on the tree as it is
and fails, naming the contract, when a package imports across a boundary (docs/architecture.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("wire", "configspec", "devices", "firmware_agent", "cloud_bridge", "simulators", "tillbridge")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_the_tree(to: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", to / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, to / package, ignore=shutil.ignore_patterns("__pycache__"))
    return to


def test_the_packages_keep_their_boundaries() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "firmware_agent/selftest.py",
            "import cloud_bridge.errors",
            "the box agent never imports the bridge, the simulators or the CLI",
        ),
        ("firmware_agent/selftest.py", "import tillbridge", "the box agent never imports the bridge"),
        ("devices/scanners/registry.py", "import simulators.scanner", "devices drive hardware only"),
        ("cloud_bridge/errors.py", "import firmware_agent.errors", "the cloud bridge never imports the box"),
        ("wire/errors.py", "import paho.mqtt.client", "wire is the shared contract"),
        ("cloud_bridge/core/shopstate.py", "import cloud_bridge.models", "the bridge's core decides"),
        ("cloud_bridge/sync.py", "import peewee", "the shop driver holds no SQL"),
        ("configspec/rules.py", "import firmware_agent.errors", "configspec declares and validates"),
    ],
)
def test_an_import_across_a_boundary_fails_the_check(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = copy_of_the_tree(tmp_path)
    target = tree / module
    target.write_text(target.read_text() + f"\n{line}  # planted by the test\n")
    result = lint_imports(tree)
    assert result.returncode != 0, result.stdout
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout, result.stdout
