#!/bin/sh
# initramfs-tools init-bottom script (installed as /etc/initramfs-tools/scripts/init-bottom/tillbridge-state).
# After overlayroot has put / on a RAM overlay, copies the files that persist-state.sh saved on the data
# partition (the machine id, the time zone, host keys) into it, before systemd starts: systemd reads the
# machine id first thing. It never stops a boot: with no data partition or nothing saved, the box boots
# with the image's own files. The data partition is the one /etc/fstab mounts on /data.
PREREQ="overlayroot"
case ${1:-} in
    prereqs)
        echo "$PREREQ"
        exit 0
        ;;
esac

# shellcheck disable=SC1091 # the initramfs' own library: resolve_device, log_*_msg
. /scripts/functions

# rootmnt is set by the initramfs' init, which runs this script
# shellcheck disable=SC2154
spec=$(awk '$1 !~ /^#/ && $2 == "/data" { print $1; exit }' "${rootmnt}/etc/fstab" 2>/dev/null)
[ -n "$spec" ] || exit 0
device=$(resolve_device "$spec") || exit 0
[ -b "$device" ] || exit 0

mnt=/tillbridge-data
mkdir -p "$mnt"
if mount -t ext4 -o ro "$device" "$mnt"; then
    # File by file: copying the folders too would give the root's own folders the saved ones' modes.
    if cd "$mnt/state" 2>/dev/null; then
        find . ! -type d | while read -r file; do
            # rm first: cp onto an existing symlink (/etc/localtime) would fail or follow it
            mkdir -p "${rootmnt}/${file%/*}" && rm -f "${rootmnt}/$file" && cp -a "$file" "${rootmnt}/$file"
        done
        cd /
        log_success_msg "tillbridge: restored the saved /etc files from $spec"
    fi
    umount "$mnt"
else
    log_warning_msg "tillbridge: cannot mount $spec read-only; booting with the image's /etc"
fi
exit 0
