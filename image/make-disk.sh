#!/bin/sh
# A partitioned disk image from three folders, without loop devices or mounts (so it runs in containers
# and CI): each partition is made as a file (mkfs.vfat + mcopy for the FAT boot partition, mkfs.ext4 -d for
# the others), then an MBR partition table is written on the disk file with sfdisk and the partitions are
# copied in at their offsets with dd.
#   make-disk.sh ROOT_DIR BOOT_DIR DATA_DIR OUT.img
# Partitions: 1 FAT32 boot (BOOT_MB, label BOOT_LABEL), 2 ext4 root (its files plus ROOT_SLACK_MB, label
# ROOT_LABEL), 3 ext4 data (DATA_MB, label DATA_LABEL). MBR rather than GPT: every Raspberry Pi boots it.
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

[ $# -eq 4 ] || die "usage: make-disk.sh ROOT_DIR BOOT_DIR DATA_DIR OUT.img"
ROOT=$1
BOOT=$2
DATA=$3
OUT=$4
need mkfs.ext4 e2fsprogs
need mkfs.vfat dosfstools
need mcopy mtools
need sfdisk fdisk
[ "$(id -u)" = 0 ] || log "not root: the files keep the owner of this user, not their own"

PARTS=$OUT.parts
rm -rf "$PARTS" "$OUT"
mkdir -p "$PARTS"
trap 'rm -rf "$PARTS"' EXIT

# The root's size: its files, a tenth more for the file system's own blocks, and the slack.
root_used=$(du -sm "$ROOT" | cut -f1)
root_mb=$((root_used + root_used / 10 + ROOT_SLACK_MB))

log "boot partition: ${BOOT_MB} MiB FAT32 '$BOOT_LABEL'"
mkfs.vfat -F 32 -n "$BOOT_LABEL" -C "$PARTS/boot.img" $((BOOT_MB * 1024)) >/dev/null 2>&1 ||
    die "mkfs.vfat failed for $PARTS/boot.img"
for entry in "$BOOT"/* "$BOOT"/.[!.]*; do
    if [ -e "$entry" ]; then
        MTOOLS_SKIP_CHECK=1 mcopy -s -p -m -i "$PARTS/boot.img" "$entry" ::/
    fi
done

log "root partition: ${root_mb} MiB ext4 '$ROOT_LABEL' from $ROOT"
truncate -s "${root_mb}M" "$PARTS/root.img"
mkfs.ext4 -q -F -L "$ROOT_LABEL" -i 8192 -d "$ROOT" "$PARTS/root.img"
log "data partition: ${DATA_MB} MiB ext4 '$DATA_LABEL' from $DATA"
truncate -s "${DATA_MB}M" "$PARTS/data.img"
mkfs.ext4 -q -F -L "$DATA_LABEL" -d "$DATA" "$PARTS/data.img"

# Offsets in MiB; the first partition starts at 1 MiB (the usual alignment, room for the table).
boot_at=1
root_at=$((boot_at + BOOT_MB))
data_at=$((root_at + root_mb))
total=$((data_at + DATA_MB))
truncate -s "${total}M" "$OUT"
mib=2048 # sectors of 512 bytes
sfdisk --quiet "$OUT" <<TABLE
label: dos
unit: sectors

start=$((boot_at * mib)), size=$((BOOT_MB * mib)), type=c, bootable
start=$((root_at * mib)), size=$((root_mb * mib)), type=83
start=$((data_at * mib)), size=$((DATA_MB * mib)), type=83
TABLE
for part in boot:$boot_at root:$root_at data:$data_at; do
    dd if="$PARTS/${part%%:*}.img" of="$OUT" bs=1M seek="${part#*:}" conv=notrunc,sparse status=none
done
log "wrote $OUT: ${total} MiB (boot at ${boot_at} MiB, root at ${root_at} MiB, data at ${data_at} MiB)"
