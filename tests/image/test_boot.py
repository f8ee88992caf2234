"""The image as an installer gets it: built from the recipe (image/build.sh), a provisioning file dropped
on its boot partition from the host, then booted twice under qemu. A probe unit in the test image records
what the box looked like once booted (image/test/probe.sh) on the data partition and powers off; the
checks read that, and the partitions themselves, from the image file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.image_helpers import (
    ARCH,
    BOOT_TIMEOUT_S,
    BUILD_TIMEOUT_S,
    SECTOR,
    Disk,
    accelerator,
    boot,
    built_test_image,
    parse_report,
    progress,
    require_tools,
    run,
)
from tillbridge import __version__

BOX_ID = "ci-box-7"
VERSION = __version__
WIFI_PASSWORD = "correct horse battery"
BROKER_PASSWORD = "box broker secret"
# The broker is an address nothing answers (TEST-NET-1): the box works offline.
PROVISIONING = f"""\
[box]
id = "{BOX_ID}"
shop = "ci-shop"

[mqtt]
url = "mqtt://192.0.2.1:1883"
password = "{BROKER_PASSWORD}"

[wifi]
ssid = "Shop 7"
password = "{WIFI_PASSWORD}"

[system]
timezone = "Europe/Madrid"
"""
BOOTS = 2
# The image is written onto a card this much larger than the image: the data partition takes the rest.
CARD_EXTRA_MB = 256
# Building (cold: a Debian bootstrap) and two boots under TCG take minutes (an arm64 image, under emulation,
# about four times as many): the test may take as long as its steps' own limits.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + BOOTS * BOOT_TIMEOUT_S)


@dataclass(frozen=True)
class Booted:
    disk: Disk
    reports: list[dict[str, str]]  # the probe's report of each boot
    logs: list[str]  # the probe's log of each boot: the agent's status, warnings, the journal
    boot_files_after_first: list[str]
    applied: str  # tillbridge.toml.applied after the first boot
    tables: list[bytes]  # the card's MBR after each boot
    card_sectors: int

    def explain(self, boot: int) -> str:
        return f"probe report: {self.reports[boot - 1]}\nprobe log:\n{self.logs[boot - 1][-6000:]}"


@pytest.fixture(scope="module")
def booted(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Booted]:
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # the build's and the boots' progress, live
        yield _build_and_boot(tmp_path_factory.mktemp("image"))


def _build_and_boot(work: Path) -> Booted:
    require_tools()
    image = built_test_image()
    disk_file = work / "disk.img"
    run("cp", "--sparse=always", str(image.disk), str(disk_file))  # 1.2 GB, mostly holes
    run("truncate", "--size", f"+{CARD_EXTRA_MB}M", str(disk_file))  # "flashed" onto a larger card
    disk = Disk(disk_file)
    provisioning = work / "tillbridge.toml"
    provisioning.write_text(PROVISIONING)
    disk.boot_write(provisioning, "tillbridge.toml")
    accel = accelerator(image)
    reports, logs, after_first, applied, tables = [], [], [], "", []
    for n in range(1, BOOTS + 1):
        progress(f"boot {n} of {BOOTS} ({ARCH}, {accel}), console in {work / f'console-{n}.log'}")
        seconds = boot(image, disk_file, work / f"console-{n}.log", accel)
        progress(f"boot {n} powered off after {seconds:.0f} s")
        reports.append(parse_report(disk.read(Disk.DATA, f"/probe/boot-{n}.txt")))
        logs.append(disk.read(Disk.DATA, f"/probe/boot-{n}.log"))
        tables.append(disk_file.read_bytes()[:SECTOR])
        if n == 1:
            after_first = disk.boot_files()
            applied = (
                disk.boot_read("tillbridge.toml.applied") if "tillbridge.toml.applied" in after_first else ""
            )
    return Booted(disk, reports, logs, after_first, applied, tables, disk_file.stat().st_size // SECTOR)


def test_the_agent_reaches_ready_under_systemd_at_every_boot(booted: Booted) -> None:
    for n, report in enumerate(booted.reports, 1):
        assert report["agent"] == "active", booted.explain(n)
        assert "ready in" in report["ready"] and f"box {BOX_ID}" in report["ready"], booted.explain(n)


def test_the_first_release_is_installed_and_committed(booted: Booted) -> None:
    """The image seeds its release with the updater itself, in the layout updates use (docs/updates.md)."""
    for n, report in enumerate(booted.reports, 1):
        status = json.loads(report["update_status"])
        assert status["current"] == status["committed"] == VERSION, booted.explain(n)
        assert status["pending"] is None and status["releases"] == [VERSION]
        assert report["tillbridge"] == f"/opt/tillbridge/releases/{VERSION}/bin/tillbridge"
    assert 'Fast link dest: "releases/' in booted.disk.stat(Disk.DATA, "/opt/tillbridge/current")  # relative


def test_the_box_gets_neither_the_bridge_dependencies_nor_the_simulators(booted: Booted) -> None:
    installed = booted.reports[0]["release_lib"].split()
    assert "tillbridge" in installed and "firmware_agent" in installed, booted.explain(1)
    unwanted = [
        name
        for name in installed
        if name.split("-")[0].lower() in {"psycopg2", "requests", "peewee", "simulators"}
    ]
    assert not unwanted, booted.explain(1)


def test_no_unit_fails_and_the_journal_stays_in_ram(booted: Booted) -> None:
    for n, report in enumerate(booted.reports, 1):
        assert report["failed_units"].strip() == "", booted.explain(n)
        assert report["journal"] == "volatile", booted.explain(n)


def test_the_root_is_an_overlay_that_forgets_its_changes(booted: Booted) -> None:
    first, second = booted.reports
    assert first["root_fstype"] == second["root_fstype"] == "overlay"
    # The probe wrote a file under /etc at the first boot; the RAM overlay lost it at power-off.
    assert second["etc_marker"] == "absent", booted.explain(2)


def test_the_data_partition_survives_a_reboot(booted: Booted) -> None:
    second = booted.reports[1]
    assert second["boot"] == "2"  # the counter the first boot left on /data
    assert booted.disk.read(Disk.DATA, "/probe/boots").strip() == "2"
    fstype, options = second["data_mount"].split()
    assert fstype == "ext4" and "noatime" in options.split(",")
    # The store and the config are folders of the data partition, bound in place.
    assert second["store_mount"].endswith("[/tillbridge]") and second["config_mount"].endswith(
        "[/etc/tillbridge]"
    )
    assert booted.disk.mode(Disk.DATA, "/tillbridge/tillbridge.db")  # the agent's SQLite store is there


def test_the_provisioning_file_is_applied_once(booted: Booted) -> None:
    first, second = booted.reports
    assert first["firstboot"] == "yes" and first["firstboot_result"] == "success", booted.explain(1)
    assert first["box_id"] == second["box_id"] == BOX_ID
    assert "tillbridge.toml" not in booted.boot_files_after_first
    assert "tillbridge.toml.applied" in booted.boot_files_after_first
    assert WIFI_PASSWORD not in booted.applied and BROKER_PASSWORD not in booted.applied
    assert booted.applied.count('password = "***removed***"') == 2
    assert f'id = "{BOX_ID}"' in booted.applied
    # The second boot finds no file to apply: the unit's condition is false, so it is skipped.
    assert second["firstboot"] == "no", booted.explain(2)
    # What provisioning wrote under /etc is on the data partition, so it outlives the RAM overlay.
    keyfile = "/etc/NetworkManager/system-connections/tillbridge-wifi.nmconnection"
    assert booted.disk.mode(Disk.DATA, keyfile) == "0600"
    assert "tillbridge.toml.example" in booted.disk.boot_files()


def test_machine_id_and_time_zone_survive_a_reboot(booted: Booted) -> None:
    first, second = booted.reports
    assert len(first["machine_id"]) == 32 and first["machine_id"] == second["machine_id"]
    assert second["timezone"] == "Europe/Madrid", booted.explain(2)
    assert second["localtime"] == "/usr/share/zoneinfo/Europe/Madrid", booted.explain(2)


def test_the_data_partition_grows_to_fill_the_card_at_the_first_boot_only(booted: Booted) -> None:
    """The image has a DATA_MB data partition whatever the card; the first boot gives it the rest of the
    card, partition and file system (online, image/files/grow-data.py); the second finds nothing to do."""
    first, second = booted.reports
    table = json.loads(run("sfdisk", "--json", str(booted.disk.path)))["partitiontable"]["partitions"]
    data = table[Disk.DATA - 1]
    assert data["start"] + data["size"] == booted.card_sectors // 2048 * 2048  # the card's last whole MiB
    assert data["size"] * SECTOR > CARD_EXTRA_MB * 1024 * 1024
    for n, report in enumerate(booted.reports, 1):
        assert report["growdata_result"] == "success", booted.explain(n)
        assert int(report["data_sectors"]) == data["size"], booted.explain(n)
        blocks, block_size = map(int, report["data_fs"].split())
        assert blocks * block_size == data["size"] * SECTOR, booted.explain(n)  # the file system too
    assert "partition grown" in first["growdata"] and "file system grown" in first["growdata"]
    assert "nothing to do" in second["growdata"], booted.explain(2)
    assert booted.tables[0] == booted.tables[1]  # the second boot wrote no partition table
