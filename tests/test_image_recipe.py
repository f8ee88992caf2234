"""The image recipe's parts that are quick to check on their own: the disk layout make-disk.sh writes (read
back from the file with sfdisk, debugfs and mtools), the state the read-only root keeps on /data, the image's
units under trixie's systemd, and the files an installer meets on the boot partition. The whole image is
built and booted by tests/image/ (`./dev image-test`)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from firmware_agent.config import load_config
from tests.image_helpers import IMAGE, Disk, run
from tests.systemd_helpers import clean, in_root, require, scratch_root
from tillbridge.firstboot import Outcome, provision

FILES = IMAGE / "files"
MACHINE_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Disk:
    """A small disk from three small folders, the root holding a file of another owner."""
    require(os.geteuid() == 0, "make-disk.sh keeps the files' owners: run the tests as root")
    for tool, package in (("mkfs.vfat", "dosfstools"), ("mcopy", "mtools"), ("sfdisk", "fdisk")):
        require(shutil.which(tool) is not None, f"{tool} not found: install the Debian package {package}")
    base = tmp_path_factory.mktemp("disk")
    root, boot, data = base / "root", base / "boot", base / "data"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("box\n")
    os.chown(root / "etc/hostname", 1234, 5678)
    (root / "data").mkdir()
    (boot / "sub").mkdir(parents=True)
    (boot / "README.txt").write_text("hello\n")
    (boot / "sub/x.txt").write_text("x")
    (data / "tillbridge").mkdir(parents=True)
    (data / "tillbridge/marker").write_text("kept")
    env = {**os.environ, "BOOT_MB": "40", "DATA_MB": "8", "ROOT_SLACK_MB": "4"}
    image = base / "disk.img"
    command = [str(IMAGE / "make-disk.sh"), str(root), str(boot), str(data), str(image)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert not (base / "disk.img.parts").exists()  # the partition files are gone
    return Disk(image)


def test_make_disk_writes_an_mbr_with_boot_root_and_data(disk: Disk) -> None:
    table = json.loads(run("sfdisk", "--json", str(disk.path)))["partitiontable"]
    assert table["label"] == "dos"
    assert [p["type"] for p in table["partitions"]] == ["c", "83", "83"]
    assert disk.offsets[0] == 1024 * 1024  # aligned at 1 MiB
    assert table["partitions"][0]["size"] * 512 == 40 * 1024 * 1024
    assert table["partitions"][2]["size"] * 512 == 8 * 1024 * 1024


def test_the_partitions_carry_the_labels_fstab_mounts(disk: Disk) -> None:
    assert "Volume in drive : is bootfs" in run("mdir", "-i", f"{disk.path}@@{disk.offsets[0]}", "::/")
    for partition, label in ((Disk.ROOT, "rootfs"), (Disk.DATA, "tbdata")):
        stats = run("debugfs", "-R", "stats", f"{disk.path}?offset={disk.offsets[partition - 1]}")
        assert f"Filesystem volume name:   {label}" in stats


def test_each_partition_holds_its_folder(disk: Disk) -> None:
    assert disk.boot_files() == ["README.txt", "sub/"]
    assert disk.boot_read("README.txt") == "hello\n"
    assert disk.read(Disk.ROOT, "/etc/hostname") == "box\n"
    assert disk.read(Disk.DATA, "/tillbridge/marker") == "kept"


def test_the_root_keeps_its_files_owners(disk: Disk) -> None:
    stat = disk.stat(Disk.ROOT, "/etc/hostname")
    assert "User:  1234" in stat and "Group:  5678" in stat


def _box_etc(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc/ssh").mkdir(parents=True)
    (root / "etc/machine-id").write_text(MACHINE_ID + "\n")
    (root / "etc/localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    (root / "etc/timezone").write_text("Etc/UTC\n")
    (root / "etc/ssh/ssh_host_ed25519_key").write_text("secret key")
    return root


def _persist(root: Path) -> list[str]:
    """Runs persist-state.sh on a root; the files it saved, from its log lines."""
    env = {"PATH": os.environ["PATH"], "ROOT": str(root), "STATE": str(root.parent / "state")}
    done = subprocess.run(
        ["sh", str(FILES / "persist-state.sh")], capture_output=True, text=True, env=env, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return [line.rsplit(" ", 1)[1] for line in done.stderr.splitlines()]


def test_persist_state_keeps_machine_id_time_zone_and_host_keys(tmp_path: Path) -> None:
    root = _box_etc(tmp_path)
    saved = _persist(root)
    assert saved == ["/etc/machine-id", "/etc/localtime", "/etc/timezone", "/etc/ssh/ssh_host_ed25519_key"]
    state = tmp_path / "state/etc"
    assert (state / "machine-id").read_text() == MACHINE_ID + "\n"
    assert (state / "localtime").readlink() == Path("/usr/share/zoneinfo/Etc/UTC")  # still a link
    assert (state / "ssh/ssh_host_ed25519_key").read_text() == "secret key"


def test_persist_state_writes_only_what_changed(tmp_path: Path) -> None:
    root = _box_etc(tmp_path)
    _persist(root)
    assert _persist(root) == []  # nothing changed: nothing written to the SD card
    (root / "etc/timezone").write_text("Europe/Madrid\n")
    (root / "etc/localtime").unlink()
    (root / "etc/localtime").symlink_to("/usr/share/zoneinfo/Europe/Madrid")
    assert _persist(root) == ["/etc/localtime", "/etc/timezone"]
    assert (tmp_path / "state/etc/localtime").readlink() == Path("/usr/share/zoneinfo/Europe/Madrid")


def test_persist_state_leaves_an_unset_machine_id_alone(tmp_path: Path) -> None:
    root = _box_etc(tmp_path)
    (root / "etc/machine-id").write_text("uninitialized\n")
    assert "/etc/machine-id" not in _persist(root)
    assert not (tmp_path / "state/etc/machine-id").exists()


def test_the_image_units_pass_systemd_analyze_verify() -> None:
    with scratch_root() as root:
        units = {
            "tillbridge-persist.service": "usr/lib/systemd/system",
            "tillbridge-growdata.service": "usr/lib/systemd/system",
            "tillbridge-probe.service": "etc/systemd/system",
        }
        for unit, folder in units.items():
            source = FILES / unit if (FILES / unit).exists() else IMAGE / "test" / unit
            shutil.copy(source, root / folder / unit)
        scripts = root / "usr/lib/tillbridge"
        scripts.mkdir(parents=True, exist_ok=True)
        shutil.copy(FILES / "persist-state.sh", scripts)
        shutil.copy(FILES / "grow-data.py", scripts / "grow-data")
        shutil.copy(IMAGE / "test/probe.sh", scripts)
        dropin = root / "etc/systemd/system/systemd-remount-fs.service.d"
        dropin.mkdir(parents=True)
        shutil.copy(FILES / "remount-fs.conf", dropin / "tillbridge.conf")
        agent = root / "etc/systemd/system/tillbridge-agent.service.d"  # test images' allowance
        agent.mkdir(parents=True)
        shutil.copy(IMAGE / "test/emulation.conf", agent / "emulation.conf")
        # and every service's (systemd-modules-load, with its own 90 s, timed out in an emulated boot)
        services = root / "etc/systemd/system/service.d"
        services.mkdir(parents=True)
        shutil.copy(IMAGE / "test/emulation-services.conf", services / "tillbridge-emulation.conf")
        shutil.copy(IMAGE.parent / "systemd/tillbridge-agent.service", root / "usr/lib/systemd/system")
        for unit in (
            *units,
            "systemd-remount-fs.service",
            "tillbridge-agent.service",
            "systemd-modules-load.service",
        ):
            clean(in_root(root, "systemd-analyze", "verify", "--man=no", unit), unit)


def _grow_data() -> Any:
    """image/files/grow-data.py, the script the image runs at boot, loaded as a module."""
    spec = importlib.util.spec_from_file_location("grow_data", FILES / "grow-data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_data_partition_grows_to_the_end_of_a_larger_card_once(disk: Disk, tmp_path: Path) -> None:
    """What the first boot does to the partition table of an image written onto a larger card (the boot
    test boots one); the file system's growth is checked there, where it happens online."""
    grow = _grow_data()
    card = tmp_path / "card.img"
    shutil.copy(disk.path, card)
    before = json.loads(run("sfdisk", "--json", str(card)))["partitiontable"]["partitions"]
    with card.open("r+b") as file:
        file.truncate(disk.path.stat().st_size + 20 * 1024 * 1024 + 4096)  # a card of no round size
    sectors = card.stat().st_size // 512
    new_size = grow.grow_table(str(card), 3, sectors)
    after = json.loads(run("sfdisk", "--json", str(card)))["partitiontable"]["partitions"]
    assert after[:2] == before[:2] and after[2]["start"] == before[2]["start"]
    assert after[2]["start"] + after[2]["size"] == sectors // 2048 * 2048  # to the card's last whole MiB
    assert after[2]["size"] == new_size == before[2]["size"] + 20 * 2048
    table = card.read_bytes()[:512]
    assert grow.grow_table(str(card), 3, sectors) is None  # a second boot writes nothing
    assert card.read_bytes()[:512] == table
    assert Disk(card).read(Disk.DATA, "/tillbridge/marker") == "kept"  # the file system as it was


def test_only_the_last_primary_partition_of_an_mbr_is_grown(disk: Disk) -> None:
    grow = _grow_data()
    mbr = disk.path.read_bytes()[:512]
    sectors = disk.path.stat().st_size // 512 + 8192
    with pytest.raises(grow.CannotGrow, match="not the last"):
        grow.grown_mbr(mbr, 2, sectors)
    with pytest.raises(grow.CannotGrow, match="empty"):
        grow.grown_mbr(mbr, 4, sectors)
    with pytest.raises(grow.CannotGrow, match="no MBR"):
        grow.grown_mbr(b"\0" * 512, 3, sectors)
    assert grow.grown_mbr(mbr, 3, disk.path.stat().st_size // 512) is None  # already at the end


def test_the_image_config_is_valid_and_unprovisioned() -> None:
    config = load_config(FILES / "agent.toml")
    assert config.box.id == "unprovisioned" and config.box.data_dir == Path("/var/lib/tillbridge")


def test_the_example_on_the_boot_partition_provisions_a_box(tmp_path: Path) -> None:
    """An installer who only renames the example gets a box provisioned from it."""
    config = tmp_path / "etc/tillbridge/agent.toml"
    config.parent.mkdir(parents=True)
    shutil.copy(FILES / "agent.toml", config)
    example = tmp_path / "boot/tillbridge.toml"
    example.parent.mkdir()
    shutil.copy(FILES / "boot/tillbridge.toml.example", example)
    zone = tmp_path / "root/usr/share/zoneinfo/Europe/Madrid"
    zone.parent.mkdir(parents=True)
    zone.write_bytes(b"TZif2")
    result = provision(config, example, root=tmp_path / "root", data_dir=tmp_path)
    assert result.outcome is Outcome.APPLIED, result.problems
    assert load_config(config).box.id == "shop7-till2"
    assert (tmp_path / "boot/tillbridge.toml.applied").exists()
