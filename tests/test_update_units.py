"""The update units in a Debian trixie root, checked with its own systemd (as tests/test_systemd_lint.py
does for every *.service): the path unit verifies, the right units are enabled, and the wrapper runs the
updater from the committed release, never from the one on trial."""

from __future__ import annotations

from pathlib import Path

from tests.systemd_helpers import clean, in_root, root

__all__ = ["root"]  # fixtures

ECHO = '#!/bin/sh\necho "{who}: $*"\n'


def test_the_path_unit_passes_systemd_analyze_verify(root):
    unit = "/usr/lib/systemd/system/tillbridge-update.path"
    clean(in_root(root, "systemd-analyze", "verify", "--man=no", unit), unit)


def test_the_watcher_and_the_boot_resume_are_enabled_the_updater_only_triggered(root):
    def enabled(unit: str) -> str:
        return in_root(root, "systemctl", "is-enabled", unit).stdout.strip()

    assert enabled("tillbridge-update.path") == "enabled"
    assert enabled("tillbridge-update-resume.service") == "enabled"
    assert enabled("tillbridge-update.service") == "static"


def fake_tillbridge(path: Path, who: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ECHO.format(who=who))
    path.chmod(0o755)


def test_the_updater_runs_from_the_committed_release_not_the_one_on_trial(root):
    releases = root / "opt/tillbridge"
    fake_tillbridge(root / "usr/local/bin/tillbridge", "image")
    script = ("sh", "/usr/lib/tillbridge/tillbridge-update.sh", "resume", "--no-restart")
    args = "update resume --root /opt/tillbridge --data-dir /var/lib/tillbridge --no-restart\n"
    assert in_root(root, *script).stdout == f"image: {args}"
    for version in ("1.0", "2.0"):
        fake_tillbridge(releases / "releases" / version / "bin/tillbridge", version)
    (releases / "committed").symlink_to("releases/1.0")
    (releases / "current").symlink_to("releases/2.0")
    assert in_root(root, *script).stdout == f"1.0: {args}"
