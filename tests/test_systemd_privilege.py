"""Nothing root runs may live where the agent can write (issue 13, High 3).

The units and folders are installed by systemd/install.sh into a Debian trixie root, a release is seeded as
the image seeds it (by root), and then the agent's own user, `tillbridge`, is asked by the kernel (runuser,
`test -w`) whether it can write any file root executes or any folder on the way to one, symlinks followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from firmware_agent.updates import Layout, UpdateRejected
from firmware_agent.updates.request import take_request
from tests.systemd_helpers import SYSTEMD, in_root, scratch_root

VERSION = "1.0"
UPDATE_SCRIPT = SYSTEMD / "tillbridge-update.sh"
RELEASES = PurePosixPath(re.search(r"ROOT=\$\{TILLBRIDGE_ROOT:-([^}]+)\}", UPDATE_SCRIPT.read_text())[1])  # type: ignore[index]


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    with scratch_root() as scratch:
        installed = in_root(scratch, "sh", "/src/systemd/install.sh", "--enable")
        assert installed.returncode == 0, installed.stdout
        made = in_root(scratch, "systemd-tmpfiles", "--create", "/usr/lib/tmpfiles.d/tillbridge.conf")
        assert made.returncode == 0, made.stdout
        seed_release(scratch)
        yield scratch


def seed_release(root: Path) -> None:
    """What `tillbridge update install --no-restart` leaves, run by root (image build, the updater)."""
    release = RELEASES / "releases" / VERSION
    script = f"""set -e
install -d -m 0755 {release}/bin {release}/lib {RELEASES}/update
printf '#!/bin/sh\\n' > {release}/bin/tillbridge
chmod 0755 {release}/bin/tillbridge
for link in current committed previous; do ln -sfn releases/{VERSION} {RELEASES}/$link; done
ln -sfn {RELEASES}/current/bin/tillbridge /usr/local/bin/tillbridge
"""
    done = in_root(root, "sh", "-c", script)
    assert done.returncode == 0, done.stdout


def root_units() -> list[str]:
    return [
        unit.name
        for unit in sorted(SYSTEMD.glob("*.service"))
        if not re.search(r"^User=(?!root$)", unit.read_text(), re.M)
    ]


def executed_by_root() -> list[PurePosixPath]:
    """Every program a root unit starts, and what its scripts run in turn."""
    found = {
        PurePosixPath(match)
        for unit in root_units()
        for match in re.findall(r"^Exec\w+=[-@:+!]*(/\S+)", (SYSTEMD / unit).read_text(), re.M)
    }
    return sorted(
        found
        | {
            PurePosixPath("/usr/local/bin/tillbridge"),  # firstboot.sh, and tillbridge-update.sh's fallback
            RELEASES / "committed/bin/tillbridge",  # tillbridge-update.sh
            RELEASES / "current/bin/tillbridge",
            RELEASES / "releases" / VERSION / "lib",  # the Python code the wrapper imports
        }
    )


def on_the_way(root: Path, path: PurePosixPath, depth: int = 0) -> set[PurePosixPath]:
    """`path`, each folder above it, and the same for every symlink followed on the way (inside `root`)."""
    assert depth < 20, f"symlink loop at {path}"
    seen: set[PurePosixPath] = set()
    current = PurePosixPath("/")
    for part in path.parts[1:]:
        seen.add(current)
        current = current / part
        host = root / str(current).lstrip("/")
        if host.is_symlink():
            seen.add(current)  # whoever can replace the link decides where it leads
            target = PurePosixPath(str(host.readlink()))
            resolved = target if target.is_absolute() else current.parent / target
            seen |= on_the_way(root, PurePosixPath(_normal(resolved)), depth + 1)
            current = PurePosixPath(_normal(resolved))
    seen.add(current)
    return seen


def _normal(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts[1:]:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def writable_by_agent(root: Path, paths: list[PurePosixPath]) -> list[str]:
    check = 'for p; do if [ -e "$p" ] || [ -L "$p" ]; then test -w "$p" && echo "$p"; fi; done; true'
    result = in_root(root, "runuser", "-u", "tillbridge", "--", "sh", "-c", check, "sh", *map(str, paths))
    assert result.returncode == 0, result.stdout
    return result.stdout.split()


def test_the_root_units_are_the_ones_expected() -> None:
    assert {
        "tillbridge-update.service",
        "tillbridge-update-resume.service",
        "tillbridge-firstboot.service",
    } <= set(root_units())


def test_the_agent_user_cannot_write_anything_root_executes_nor_a_folder_on_the_way(root: Path) -> None:
    paths = sorted({p for program in executed_by_root() for p in on_the_way(root, program)})
    assert RELEASES / "releases" / VERSION / "bin/tillbridge" in paths  # the links were followed
    assert writable_by_agent(root, paths) == []


def test_the_agent_user_cannot_point_the_committed_release_elsewhere(root: Path) -> None:
    attempt = in_root(
        root, "runuser", "-u", "tillbridge", "--", "ln", "-sfn", "/tmp", str(RELEASES / "committed")
    )
    assert attempt.returncode != 0 and "Permission denied" in attempt.stdout
    assert (root / str(RELEASES / "committed").lstrip("/")).readlink() == Path("releases") / VERSION


def test_the_agent_still_owns_its_store_folder_and_can_queue_an_update(root: Path) -> None:
    queued = in_root(
        root, "runuser", "-u", "tillbridge", "--", "touch", "/var/lib/tillbridge/update-request.json"
    )
    assert queued.returncode == 0, queued.stdout


def test_the_updater_does_not_follow_a_request_the_agent_pointed_at_a_secret(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text('{"id": "root:$6$secret"}')
    layout = Layout(tmp_path / "opt", tmp_path / "data")
    layout.data.mkdir()
    layout.request_file.symlink_to(secret)
    with pytest.raises(UpdateRejected, match="not an update request") as refused:
        take_request(layout)
    assert "secret" not in str(refused.value).replace(str(tmp_path), "")
    assert not layout.request_file.is_symlink()  # taken away, so the path unit does not fire again
