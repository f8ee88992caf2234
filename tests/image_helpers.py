"""Building the Debian image (image/build.sh), reading and writing its partitions from the host, booting it.

Everything goes through the image file itself: partitions are found with `sfdisk --json`, ext4 files are read
with `debugfs` at the partition's offset, the FAT boot partition with mtools at its offset. No loop device, no
mount, so this runs in containers and on CI runners without privileges beyond root for the build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.systemd_helpers import REPO, _locked, cache_dir, require

IMAGE = REPO / "image"
# What the image is made of: a change in any of these builds a new test image.
SOURCES = (
    "image",
    "systemd",
    "docs",
    "tillbridge",
    "firmware_agent",
    "devices",
    "cloud_bridge",
    "wire",
    "configspec",
)
SOURCES_EXTRA = ("simulators", "pyproject.toml")
# The image's architecture: amd64 (the default, CI) or arm64 (a Raspberry Pi's), from `./dev image-test
# --arch`. An arm64 image is built and booted on any host: its root through qemu-user (binfmt_misc), its
# boots under qemu-system-aarch64's software emulation.
ARCH = os.environ.get("TILLBRIDGE_IMAGE_ARCH", "amd64")
# Host tools and the Debian packages that provide them.
TOOLS = {
    "mmdebstrap": "mmdebstrap",
    "mkfs.ext4": "e2fsprogs",
    "debugfs": "e2fsprogs",
    "mkfs.vfat": "dosfstools",
    "mcopy": "mtools",
    "sfdisk": "fdisk",
    **(
        {"qemu-system-aarch64": "qemu-system-arm"}
        if ARCH == "arm64"
        else {"qemu-system-x86_64": "qemu-system-x86"}
    ),
}
# Under emulation the arm64 image's build (its root's package scripts, its initramfs) and boots take longer.
SLOWER = 4 if ARCH == "arm64" and os.uname().machine != "aarch64" else 1
BUILD_TIMEOUT_S = 1800 * SLOWER
BOOT_TIMEOUT_S = 1800 * SLOWER  # one amd64 boot: 70 s under TCG on 2 idle cores, 12 min on busy ones
SECTOR = 512


def progress(message: str) -> None:
    """Straight to the terminal: the test takes minutes and pytest holds captured output until the end."""
    print(f"[image-test] {message}", file=sys.__stderr__, flush=True)


def image_cache() -> Path:
    return cache_dir().parent / "image"  # beside the lint root, in ~/.cache/tillbridge


def require_tools() -> None:
    require(os.geteuid() == 0, "the image build runs mmdebstrap and chroot: run the image test as root")
    require(ARCH in ("amd64", "arm64"), f"TILLBRIDGE_IMAGE_ARCH={ARCH}: amd64 or arm64")
    if ARCH == "arm64" and os.uname().machine != "aarch64":
        require(
            Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists(),
            "an arm64 root on this host needs qemu-user through binfmt_misc: install the Debian packages "
            "qemu-user-static binfmt-support (./dev image-test --arch arm64 does)",
        )
    for tool, package in TOOLS.items():
        found = shutil.which(tool) is not None or any(Path(d, tool).exists() for d in ("/usr/sbin", "/sbin"))
        require(found, f"{tool} not found: install the Debian package {package}")


def _source_files() -> Iterator[Path]:
    for name in (*SOURCES, *SOURCES_EXTRA):
        path = REPO / name
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts and not file.name.endswith(".pyc"):
                yield file


def source_digest() -> str:
    digest = hashlib.sha256()
    for file in _source_files():
        digest.update(str(file.relative_to(REPO)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BuiltImage:
    """image/build.sh's output: the disk and what qemu boots it with."""

    folder: Path

    @property
    def disk(self) -> Path:
        return self.folder / "disk.img"

    @property
    def kernel(self) -> Path:
        return self.folder / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.folder / "initrd.img"

    @property
    def cmdline(self) -> str:
        return (self.folder / "cmdline.txt").read_text().strip()


def built_test_image() -> BuiltImage:
    """The test image (with the probe) for the current sources, built unless the cache has it. The
    Debian base is cached separately, so a change in the app rebuilds in about a minute, not two."""
    cache = image_cache()
    cache.mkdir(parents=True, exist_ok=True)
    built = BuiltImage(cache / f"test-image-{ARCH}-{source_digest()}")
    with _locked(cache / f"test-image-{ARCH}.lock"):
        if built.disk.exists():
            progress(f"image from the cache: {built.folder}")
            return built
        partial = built.folder.with_name(built.folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        progress(f"building the image into {partial} (a few minutes the first time)")
        started = time.monotonic()
        command = [str(IMAGE / "build.sh"), "--cache", str(cache), "--probe", str(partial)]
        env = {**os.environ, "PYTHON": sys.executable, "ARCH": ARCH}
        done = subprocess.run(command, env=env, timeout=BUILD_TIMEOUT_S, check=False)
        require(done.returncode == 0, f"image/build.sh failed (exit {done.returncode}); its output is above")
        for old in cache.glob(f"test-image-{ARCH}-*"):
            if old.is_dir() and old != partial:
                shutil.rmtree(old, ignore_errors=True)
        partial.rename(built.folder)
        progress(f"image built in {time.monotonic() - started:.0f} s")
    return built


def run(*command: str, timeout: float = 60) -> str:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}  # mtools: no complaint about the FAT's geometry
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(command)} (exit {done.returncode}):\n{done.stderr}"
    return done.stdout


class Disk:
    """A partitioned image file, read and written at its partitions' offsets."""

    BOOT, ROOT, DATA = 1, 2, 3

    def __init__(self, path: Path) -> None:
        self.path = path
        table = json.loads(run("sfdisk", "--json", str(path)))["partitiontable"]
        self.offsets = [p["start"] * SECTOR for p in table["partitions"]]

    def _ext4(self, partition: int) -> str:
        return f"{self.path}?offset={self.offsets[partition - 1]}"

    def read(self, partition: int, path: str) -> str:
        """A file of an ext4 partition; debugfs prints nothing for a missing one, so that is checked."""
        self.stat(partition, path)
        return run("debugfs", "-R", f"cat {path}", self._ext4(partition))

    def stat(self, partition: int, path: str) -> str:
        done = subprocess.run(
            ["debugfs", "-R", f"stat {path}", self._ext4(partition)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "Inode:" in done.stdout, f"{path} is not on partition {partition}: {done.stderr.strip()}"
        return done.stdout

    def mode(self, partition: int, path: str) -> str:
        found = re.search(r"Mode:\s+(\d+)", self.stat(partition, path))
        assert found is not None
        return found.group(1)

    def _fat(self) -> str:
        return f"{self.path}@@{self.offsets[self.BOOT - 1]}"

    def boot_files(self) -> list[str]:
        listing = run("mdir", "-b", "-i", self._fat(), "::/", timeout=30)
        return sorted(line.removeprefix("::/") for line in listing.split())

    def boot_read(self, name: str) -> str:
        return run("mtype", "-i", self._fat(), f"::/{name}", timeout=30)

    def boot_write(self, source: Path, name: str) -> None:
        """What an installer does with the card in a PC: drop a file on the boot partition."""
        run("mcopy", "-o", "-i", self._fat(), str(source), f"::/{name}", timeout=30)


def accelerator(image: BuiltImage) -> str:
    """kvm where it works, else tcg; TILLBRIDGE_QEMU_ACCEL=kvm|tcg decides instead. A nested or limited
    KVM may open and then fail on the kernel's first unusual instruction (and hang), so the kernel is
    booted alone first: without a root file system it panics at once, and qemu exits."""
    chosen = os.environ.get("TILLBRIDGE_QEMU_ACCEL", "auto")
    if chosen != "auto":
        return chosen
    if SLOWER > 1 or not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"  # an arm64 guest on another host: emulation only
    command = [*_qemu_base("kvm"), "-m", "256", "-kernel", str(image.kernel)]
    command += ["-append", "console=ttyS0 panic=-1", "-serial", "stdio"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "tcg"
    return "kvm" if done.returncode == 0 and b"Kernel panic" in done.stdout else "tcg"


def _qemu_base(accel: str) -> list[str]:
    if ARCH == "arm64":
        # qemu's generic board; a Cortex-A72 is the Raspberry Pi 4's core (and emulates faster than "max",
        # whose pointer authentication costs every call)
        cpu = "host" if accel == "kvm" else "cortex-a72"
        machine = ["qemu-system-aarch64", "-M", "virt", "-accel", accel, "-cpu", cpu]
    else:
        machine = ["qemu-system-x86_64", "-accel", accel, "-cpu", "host" if accel == "kvm" else "max"]
    return [*machine, "-smp", "2", "-no-reboot", "-display", "none", "-monitor", "none", "-nic", "none"]


def boot(image: BuiltImage, disk: Path, serial_log: Path, accel: str) -> float:
    """Boots the disk until the probe powers the machine off; returns the seconds it took.

    Software emulation of a two-CPU guest now and then breaks the kernel's own code patching in its first
    seconds (an `int3` oops in the idle loop, seen once so far): the kernel panics before the disk is even
    mounted, so that boot is tried once more, its console kept beside. A second panic is the image's own
    and fails the test, as does any other failure."""
    seconds = _boot_once(image, disk, serial_log, accel)
    text = serial_log.read_text(errors="replace") if serial_log.exists() else ""
    if "Kernel panic" in text and "systemd[1]" not in text:
        serial_log.rename(serial_log.with_suffix(".panic.log"))
        progress(f"the emulated kernel panicked before mounting the disk; booting once more ({serial_log})")
        seconds = _boot_once(image, disk, serial_log, accel)
    return seconds


def _boot_once(image: BuiltImage, disk: Path, serial_log: Path, accel: str) -> float:
    command = [
        *_qemu_base(accel),
        "-m",
        "1024",
        "-drive",
        f"file={disk},format=raw,if=virtio",
        "-serial",
        f"file:{serial_log}",
    ]
    # Under emulation on a busy host udev can take minutes to start: waits a Pi never needs (its 90 s
    # defaults stay in the image) are lengthened for the test's boots only.
    slow = (
        " systemd.default_device_timeout_sec=900 systemd.default_timeout_start_sec=900"
        if accel == "tcg"
        else ""
    )
    # panic=-1: a kernel that panics restarts at once, which -no-reboot turns into qemu's exit
    command += [
        "-kernel",
        str(image.kernel),
        "-initrd",
        str(image.initrd),
        "-append",
        image.cmdline + slow + " panic=-1",
    ]
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=BOOT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"no power-off within {BOOT_TIMEOUT_S} s; the console's end:\n{tail(serial_log)}"
        ) from None
    assert done.returncode == 0, f"qemu exit {done.returncode}: {done.stderr}\n{tail(serial_log)}"
    return time.monotonic() - started


def tail(path: Path, lines: int = 60) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def parse_report(text: str) -> dict[str, str]:
    """The probe's key=value lines."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
