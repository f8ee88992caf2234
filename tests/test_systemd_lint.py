"""The units, users, folders, udev rules and scripts, installed by systemd/install.sh into a Debian trixie
root and checked there with trixie's own systemd 257, udev and shellcheck (see systemd_helpers)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.systemd_helpers import SYSTEMD, clean, in_root, lint_root, root, scripts

__all__ = ["root"]  # fixtures

UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))
RULES = "/usr/lib/udev/rules.d/70-tillbridge.rules"
MAX_EXPOSURE = 2.0  # `systemd-analyze security` scale 0-10; the unit measured 1.5 with systemd 257


@pytest.mark.parametrize("unit", UNITS)
def test_every_unit_passes_systemd_analyze_verify(root: Path, unit: str) -> None:
    clean(in_root(root, "systemd-analyze", "verify", "--man=no", f"/usr/lib/systemd/system/{unit}"), unit)


def test_the_whole_boot_has_no_ordering_cycle(root: Path) -> None:
    """With every unit enabled, beside NetworkManager and timesyncd as on the image."""
    clean(in_root(root, "systemd-analyze", "verify", "--man=no", "multi-user.target"), "multi-user.target")


def test_a_typo_in_a_directive_fails_although_verify_exits_0(root: Path) -> None:
    broken = root / "usr/lib/systemd/system/broken.service"
    text = (SYSTEMD / "tillbridge-agent.service").read_text()
    broken.write_text(text.replace("WatchdogSec=30", "WatchdogSec=thirty"))
    result = in_root(root, "systemd-analyze", "verify", "--man=no", "/usr/lib/systemd/system/broken.service")
    assert result.returncode == 0  # why `clean` also demands silence
    assert "Failed to parse WatchdogSec=thirty" in result.stdout
    with pytest.raises(AssertionError, match="WatchdogSec"):
        clean(result, "broken.service")


# Units that must keep privileges the sandbox would take away; each says why in a `# Privileged:` comment.
PRIVILEGED = {"tillbridge-firstboot.service"}


def exposure(root: Path, unit: str) -> float:
    threshold = str(int(MAX_EXPOSURE * 10))  # --threshold uses the 0-100 scale
    command = ("systemd-analyze", "security", "--offline=yes", "--no-pager", f"--threshold={threshold}")
    result = in_root(root, *command, unit)
    level = re.search(rf"Overall exposure level for {re.escape(unit)}: (\d+\.\d+)", result.stdout)
    assert level is not None, result.stdout
    assert result.returncode == 0 or unit in PRIVILEGED, result.stdout
    return float(level.group(1))


@pytest.mark.parametrize("unit", [u for u in UNITS if u not in PRIVILEGED])
def test_every_unit_that_can_be_confined_has_an_exposure_of_at_most_2(root: Path, unit: str) -> None:
    assert exposure(root, unit) <= MAX_EXPOSURE


@pytest.mark.parametrize("unit", sorted(PRIVILEGED))
def test_a_unit_that_stays_privileged_says_why(root: Path, unit: str) -> None:
    assert "# Privileged:" in (SYSTEMD / unit).read_text()
    assert exposure(root, unit) > MAX_EXPOSURE  # else it belongs with the confined ones


def test_udev_rules_pass_udevadm_verify(root: Path) -> None:
    clean(in_root(root, "udevadm", "verify", "--no-summary", RULES), RULES)


def test_udevadm_verify_knows_the_groups_of_this_root(root: Path) -> None:
    """An unknown group must fail, or the check above would not prove that the rules' groups exist."""
    broken = root / "etc/udev/rules.d/71-broken.rules"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text('SUBSYSTEM=="tty", KERNEL=="ttyUSB[0-9]*", GROUP="scalez"\n')
    result = in_root(root, "udevadm", "verify", "--no-summary", "/etc/udev/rules.d/71-broken.rules")
    assert result.returncode != 0 and "scalez" in result.stdout


def test_the_agent_user_gets_every_device_group_gpio_included(root: Path) -> None:
    assert in_root(lint_root(), "getent", "group", "gpio").returncode != 0  # plain Debian has none
    groups = in_root(root, "id", "-nG", "tillbridge")
    assert groups.returncode == 0, groups.stdout
    assert {"tillbridge", "input", "dialout", "lp", "gpio"} <= set(groups.stdout.split())
    account = in_root(root, "getent", "passwd", "tillbridge").stdout.strip().split(":")
    assert account[5:] == ["/var/lib/tillbridge", "/usr/sbin/nologin"]


def test_install_enables_the_units(root: Path) -> None:
    for unit in ("tillbridge-agent.service", "tillbridge-firstboot.service", "tillbridge-hid-gadget.service"):
        assert in_root(root, "systemctl", "is-enabled", unit).stdout.strip() == "enabled", unit


def test_tmpfiles_give_the_agent_its_folders(root: Path) -> None:
    clean(in_root(root, "systemd-tmpfiles", "--create", "/usr/lib/tmpfiles.d/tillbridge.conf"), "tmpfiles")
    folders = ("/var/lib/tillbridge", "/etc/tillbridge", "/opt/tillbridge")
    listing = in_root(root, "stat", "-c", "%n %a %U %G", *folders)
    assert listing.stdout.splitlines() == [
        "/var/lib/tillbridge 750 tillbridge tillbridge",
        "/etc/tillbridge 2770 root tillbridge",
        "/opt/tillbridge 755 root root",  # the releases: root runs them, the agent only reads them
    ]


@pytest.mark.parametrize("script", scripts(), ids=str)
def test_shellcheck_passes_every_script(root: Path, script: Path) -> None:
    clean(in_root(root, "shellcheck", "--norc", "--external-sources", f"/src/{script}"), str(script))
