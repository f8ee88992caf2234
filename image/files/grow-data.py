#!/usr/bin/python3
"""Grows the data partition to the end of the card, then its ext4 file system: an image is written with a
small data partition (DATA_MB) whatever the card's size, and this makes the rest of the card the store's.

Run at every boot by tillbridge-growdata.service, once /data is mounted; when the partition already ends
at the card's end and its file system fills it, nothing is written (a second boot is a no-op).

Safe on power loss at any moment, which is why the steps are these and in this order:
1. the partition's new size is written into the MBR: one 512-byte sector (only its 4-byte size and CHS end
   change), written with one pwrite and flushed. A cut before leaves the old table, after it the new one;
   both describe a partition holding the same, intact file system (one smaller than its partition is fine);
2. the kernel learns the new size (partx, BLKPG: the disk is in use, so no re-read of the whole table);
3. resize2fs grows the file system while it is mounted: an online resize, done by the kernel through ext4's
   journal, so a cut leaves the old size or the new one. The next boot finishes whatever a cut interrupted.
An offline resize2fs is not safe against a cut; this one never runs unmounted.

Only the MBR layout the image has (image/make-disk.sh) is handled: the data partition a primary partition
and the last on the card. Anything else is left alone, with a message saying why.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("grow-data")

SECTOR = 512
ALIGN = 2048  # partitions end on a MiB boundary, as make-disk.sh aligns them
MBR_LIMIT = 2**32 - 1  # an MBR counts sectors in 32 bits: 2 TiB
_ENTRIES = 446
_CHS_BEYOND = b"\xfe\xff\xff"  # the CHS address that says "use the LBA fields" (every partition past 8 GB)


class CannotGrow(Exception):
    """The layout is not the image's: the partition is left as it is."""


def grown_mbr(mbr: bytes, number: int, disk_sectors: int) -> bytes | None:
    """The MBR sector with primary partition `number` reaching the last whole MiB of a disk of
    `disk_sectors`, or None when it already does (or would gain less than a MiB). Pure: no I/O."""
    if len(mbr) != SECTOR or mbr[510:512] != b"\x55\xaa":
        raise CannotGrow("no MBR partition table (the image's table is MBR)")
    if not 1 <= number <= 4:
        raise CannotGrow(f"partition {number} is not a primary partition")
    entries = [mbr[_ENTRIES + 16 * i : _ENTRIES + 16 * (i + 1)] for i in range(4)]
    entry = entries[number - 1]
    start, size = int.from_bytes(entry[8:12], "little"), int.from_bytes(entry[12:16], "little")
    if entry[4] == 0 or size == 0:
        raise CannotGrow(f"partition {number} is empty in the MBR")
    for other in entries:
        if other is not entry and other[4] != 0 and int.from_bytes(other[8:12], "little") > start:
            raise CannotGrow(f"partition {number} is not the last on the card")
    end = min(disk_sectors // ALIGN * ALIGN, MBR_LIMIT // ALIGN * ALIGN)
    if end - start - size < ALIGN:
        return None
    offset = _ENTRIES + 16 * (number - 1)
    new_entry = entry[:5] + _CHS_BEYOND + entry[8:12] + (end - start).to_bytes(4, "little")
    return mbr[:offset] + new_entry + mbr[offset + 16 :]


def grow_table(disk: str, number: int, disk_sectors: int) -> int | None:
    """Writes the grown MBR onto `disk` (a device or an image file); its new size in sectors, or None."""
    fd = os.open(disk, os.O_RDWR)
    try:
        new = grown_mbr(os.pread(fd, SECTOR, 0), number, disk_sectors)
        if new is None:
            return None
        os.pwrite(fd, new, 0)
        os.fsync(fd)
        offset = _ENTRIES + 16 * (number - 1)
        return int.from_bytes(new[offset + 12 : offset + 16], "little")
    finally:
        os.close(fd)


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CannotGrow(f"{' '.join(command)} failed: {(done.stderr or done.stdout).strip()}")
    return (done.stdout + done.stderr).strip()  # resize2fs says "Nothing to do" on stderr


def _mib(sectors: int) -> str:
    return f"{sectors * SECTOR / 2**20:.0f} MiB"


def grow(mount: str) -> None:
    source = _run("findmnt", "--noheadings", "--output", "SOURCE", "--mountpoint", mount).splitlines()[0]
    name = Path(os.path.realpath(source)).name
    part = Path("/sys/class/block") / name
    if not (part / "partition").exists():
        raise CannotGrow(f"{source} is not a partition")
    disk = part.resolve().parent
    if int((disk / "queue" / "logical_block_size").read_text()) != SECTOR:
        raise CannotGrow(f"/dev/{disk.name} does not have 512-byte sectors")
    number = int((part / "partition").read_text())
    before = int((part / "size").read_text())
    grown = grow_table(f"/dev/{disk.name}", number, int((disk / "size").read_text()))
    if grown is not None:
        log.info("%s: partition grown from %s to %s, the end of the card", source, _mib(before), _mib(grown))
        # The kernel reads the table at boot: after a cut right here, the next boot knows the new size.
        _run("partx", "--update", "--nr", str(number), f"/dev/{disk.name}")
    output = _run("resize2fs", source)  # mounted: an online, journaled resize
    if "Nothing to do" in output and grown is None:
        log.info("%s already fills the card (%s): nothing to do", source, _mib(before))
    else:
        log.info(
            "%s: file system grown to fill its partition (%s)", source, _mib(int((part / "size").read_text()))
        )


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="tillbridge-growdata: %(message)s", stream=sys.stdout)
    mount = argv[1] if len(argv) > 1 else "/data"
    try:
        grow(mount)
    except CannotGrow as exc:
        log.warning("%s left at its size: %s", mount, exc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
