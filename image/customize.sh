#!/bin/sh
# Turns a Debian (or Raspberry Pi OS) root filesystem that has packages.txt installed into a tillbridge
# root: the application's first release installed on /data (docs/updates.md), the units and
# udev rules (systemd/install.sh), the read-only root with its writable data partition, a volatile journal.
# Shared by the CI image (build.sh, after mmdebstrap) and the Raspberry Pi stage (image/pi/, inside pi-gen).
#   customize.sh ROOT RELEASE
# RELEASE: build-release.sh's output (the signed artifact and the public key the box trusts).
# The contents of ROOT/data and ROOT/boot/firmware are what the data and boot partitions must hold; the
# caller moves them there (make-disk.sh). Runs as root (chroot).
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

[ $# -eq 2 ] || die "usage: customize.sh ROOT RELEASE"
ROOT=$(cd "$1" && pwd)
RELEASE=$(cd "$2" && pwd)
FILES=$IMAGE_DIR/files
[ -x "$ROOT/usr/bin/python3" ] || die "$ROOT has no python3: install packages.txt first"
[ "$(id -u)" = 0 ] || die "run as root: the root filesystem is changed through chroot"

# A command inside the root, with its own /proc in a mount namespace that vanishes with it.
in_root() {
    unshare --fork --pid --mount-proc="$ROOT/proc" \
        chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

put() { # mode source destination (path under ROOT)
    install -D -m "$1" "$2" "$ROOT/$3"
}

# The release (build-release.sh) is installed by the updater itself, run from the release inside the root
# with the root's Python: the image's first release goes through the path every later update takes, and a
# release that cannot start on the box's Python fails the build (the updater's self-check).
install_release() {
    artifact=$(find "$RELEASE" -maxdepth 1 -name 'tillbridge-*.tar.gz' | head -n 1)
    [ -n "$artifact" ] || die "no tillbridge-*.tar.gz in $RELEASE (build-release.sh makes it)"
    name=$(basename "$artifact" .tar.gz)
    sha256=$(sed -n 's/.*"sha256": "\([0-9a-f]*\)".*/\1/p' "$RELEASE/$name.json")
    signature=$(sed -n 's/.*"signature": "\([A-Za-z0-9+\/=]*\)".*/\1/p' "$RELEASE/$name.json")
    for key in "$RELEASE"/keys/*.pub; do
        put 0644 "$key" "usr/share/tillbridge/update-keys/$(basename "$key")"
    done
    seed=/tmp/tillbridge-seed
    rm -rf "${ROOT:?}$seed"
    mkdir -p "$ROOT$seed/unpacked"
    cp "$artifact" "$ROOT$seed/"
    tar -C "$ROOT$seed/unpacked" -xzf "$artifact"
    # Root's folder, not the agent's: root runs these programs (docs/updates.md).
    releases=$DATA_MOUNT/opt/tillbridge
    log "installing $name into $releases/releases with its own updater"
    # The self-check (the release's own --version) gets 15 minutes, not a box's 60 s: an arm64 root built
    # on another host runs it under qemu-user, compiling every module it imports, which took longer.
    in_root "$seed/unpacked/bin/tillbridge" update install --file "$seed/$name.tar.gz" \
        --sha256 "$sha256" --signature "$signature" --root "$releases" --no-restart \
        --check-timeout 900 >/dev/null
    rm -rf "${ROOT:?}$seed"
    # Byte code compiled by the box's Python now: the agent cannot write it into the release later.
    in_root python3 -m compileall -q "$releases/current/lib" >/dev/null
    ln -sfn /opt/tillbridge/current/bin/tillbridge "$ROOT/usr/local/bin/tillbridge"
    in_root "$releases/current/bin/tillbridge" --version >/dev/null ||
        die "the installed release does not run"
}

# Folders of the root that must outlive a reboot: each is bound in place from a folder of /data.
# "mount point (in the root)  folder (under /data)", one pair a line.
BINDS="/var/lib/tillbridge tillbridge
/opt/tillbridge opt/tillbridge
/etc/tillbridge etc/tillbridge
/etc/NetworkManager/system-connections etc/NetworkManager/system-connections
/var/lib/systemd/timesync var/lib/systemd/timesync"

# The data partition's folders get what the root had at those places, with the same owner and mode
# (systemd-tmpfiles creates the agent's own two first, as it does at boot).
data_layout() {
    in_root systemd-tmpfiles --create /usr/lib/tmpfiles.d/tillbridge.conf
    mkdir -p "$ROOT$DATA_MOUNT" "$ROOT$BOOT_MOUNT" "$ROOT$DATA_MOUNT/state"
    chmod 0700 "$ROOT$DATA_MOUNT/state"
    echo "$BINDS" | while read -r point folder; do
        mkdir -p "$ROOT$point" "$ROOT$DATA_MOUNT/$folder"
        cp -a "$ROOT$point/." "$ROOT$DATA_MOUNT/$folder/"
        chown --reference="$ROOT$point" "$ROOT$DATA_MOUNT/$folder"
        chmod --reference="$ROOT$point" "$ROOT$DATA_MOUNT/$folder"
    done
    put 0640 "$FILES/agent.toml" "$DATA_MOUNT/etc/tillbridge/agent.toml"
    in_root chgrp tillbridge "$DATA_MOUNT/etc/tillbridge/agent.toml"
}

write_fstab() {
    {
        cat <<FSTAB
# tillbridge image (image/customize.sh). The root is read-only under overlayroot: its changes live in RAM.
# No fsck of the root at boot: it is never written (and overlayroot would ask to check the overlay).
LABEL=$ROOT_LABEL  /  ext4  defaults,noatime  0  0
# Boot partition: firmware, kernel command line, the installer's provisioning file. Read-only; first-boot
# provisioning remounts it read-write for the moment it renames the file.
LABEL=$BOOT_LABEL  $BOOT_MOUNT  vfat  ro,noatime,fmask=0133,dmask=0022  0  2
# Everything that must outlive a reboot: the store, the config, the releases of the application.
# commit=30 batches metadata writes (fsync still waits for the disk); errors=remount-ro stops damage.
LABEL=$DATA_LABEL  $DATA_MOUNT  ext4  defaults,noatime,commit=30,errors=remount-ro  0  2
# Folders of the root kept on $DATA_MOUNT, bound in place.
FSTAB
        echo "$BINDS" | while read -r point folder; do
            echo "$DATA_MOUNT/$folder  $point  none  bind,x-systemd.requires-mounts-for=$DATA_MOUNT  0  0"
        done
    } >"$ROOT/etc/fstab"
}

read_only_root() {
    put 0644 "$FILES/overlayroot.local.conf" etc/overlayroot.local.conf
    put 0644 "$FILES/journald.conf" etc/systemd/journald.conf.d/tillbridge.conf
    put 0644 "$FILES/remount-fs.conf" etc/systemd/system/systemd-remount-fs.service.d/tillbridge.conf
    put 0755 "$FILES/persist-state.sh" usr/lib/tillbridge/persist-state.sh
    put 0644 "$FILES/tillbridge-persist.service" usr/lib/systemd/system/tillbridge-persist.service
    put 0755 "$FILES/initramfs-restore.sh" etc/initramfs-tools/scripts/init-bottom/tillbridge-state
    put 0644 "$FILES/initramfs.conf" etc/initramfs-tools/conf.d/tillbridge.conf
    in_root systemctl enable --quiet tillbridge-persist.service
    # Nothing can be upgraded in place on a read-only root: these timers would only fill the RAM the
    # root's changes live in.
    in_root systemctl mask --quiet apt-daily.timer apt-daily-upgrade.timer man-db.timer dpkg-db-backup.timer
    # Each box generates its own machine id at its first boot (persist-state.sh keeps it).
    : >"$ROOT/etc/machine-id"
    rm -f "$ROOT/var/lib/dbus/machine-id"
    # A root bootstrapped by build-rootfs.sh has none yet (made once, here); Raspberry Pi OS's has its own.
    if find "$ROOT/boot" -maxdepth 1 -name 'initrd.img-*' | grep -q .; then
        log "rebuilding the initramfs with overlayroot and the state restore"
        in_root update-initramfs -u -k all
    else
        log "making the initramfs, with overlayroot and the state restore"
        in_root update-initramfs -c -k all
    fi
}

# The data partition takes the rest of the card at the first boot (grow-data.py says why it is safe).
grow_data() {
    put 0755 "$FILES/grow-data.py" usr/lib/tillbridge/grow-data
    put 0644 "$FILES/tillbridge-growdata.service" usr/lib/systemd/system/tillbridge-growdata.service
    in_root systemctl enable --quiet tillbridge-growdata.service
}

boot_files() {
    put 0644 "$FILES/boot/README.txt" "$BOOT_MOUNT/README.txt"
    put 0644 "$FILES/boot/tillbridge.toml.example" "$BOOT_MOUNT/tillbridge.toml.example"
}

# systemd/install.sh runs inside the root, with the root's own systemd (as the lint tests run it).
install_units() {
    src=/tmp/tillbridge-src
    rm -rf "${ROOT:?}$src"
    mkdir -p "$ROOT$src"
    cp -r "$REPO_DIR/systemd" "$REPO_DIR/docs" "$ROOT$src/"
    in_root sh "$src/systemd/install.sh" --enable
    rm -rf "${ROOT:?}$src"
}

install_units
data_layout
install_release
write_fstab
grow_data
read_only_root
boot_files
# Last: marks /etc and /var up to date with /usr, or ldconfig and the journal catalog would be rebuilt at
# every boot (the marker written at boot would vanish with the overlay).
in_root /usr/lib/systemd/systemd-update-done
log "customized $ROOT"
