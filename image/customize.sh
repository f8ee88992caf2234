#!/bin/sh
# Turns a Debian (or Raspberry Pi OS) root filesystem that has packages.txt installed into a tillbridge
# root: the application installed offline from a wheelhouse into a release folder on /data, the units and
# udev rules (systemd/install.sh), the read-only root with its writable data partition, a volatile journal.
# Shared by the CI image (build.sh, after mmdebstrap) and the Raspberry Pi stage (image/pi/, inside pi-gen).
#   customize.sh ROOT WHEELS
# The contents of ROOT/data and ROOT/boot/firmware are what the data and boot partitions must hold; the
# caller moves them there (make-disk.sh). Runs as root (chroot).
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

[ $# -eq 2 ] || die "usage: customize.sh ROOT WHEELS"
ROOT=$(cd "$1" && pwd)
WHEELS=$(cd "$2" && pwd)
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

install_app() {
    wheel=$(find "$WHEELS" -maxdepth 1 -name 'tillbridge-*.whl' | head -n 1)
    [ -n "$wheel" ] || die "no tillbridge wheel in $WHEELS (build-wheels.sh makes them)"
    version=$(basename "$wheel" | cut -d- -f2)
    release=$RELEASES/$version
    log "installing tillbridge $version into $release, offline"
    rm -rf "${ROOT:?}/tmp/tillbridge-wheels" "${ROOT:?}$release"
    cp -r "$WHEELS" "$ROOT/tmp/tillbridge-wheels"
    # venvs are not relocatable: it is built at the path it runs from. Debian's site-packages stay
    # visible for python3-evdev (and, on the Pi, the lgpio pin library gpiozero uses).
    in_root python3 -m venv --system-site-packages "$release"
    in_root "$release/bin/pip" install --quiet --no-index --no-cache-dir --disable-pip-version-check \
        --find-links /tmp/tillbridge-wheels "tillbridge==$version"
    rm -rf "$ROOT/tmp/tillbridge-wheels"
    ln -sfn "releases/$version" "$ROOT$CURRENT"
    ln -sfn "$CURRENT/bin/tillbridge" "$ROOT/usr/local/bin/tillbridge"
    in_root /usr/local/bin/tillbridge --version >/dev/null || die "the installed tillbridge does not run"
}

# Folders of the root that must outlive a reboot: each is bound in place from a folder of /data.
# "mount point (in the root)  folder (under /data)", one pair a line.
BINDS="/var/lib/tillbridge tillbridge
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
    # Nothing can be upgraded in place on a read-only root: apt's and man-db's timers would only fill the
    # RAM the root's changes live in.
    in_root systemctl mask --quiet apt-daily.timer apt-daily-upgrade.timer man-db.timer
    # Each box generates its own machine id at its first boot (persist-state.sh keeps it).
    : >"$ROOT/etc/machine-id"
    rm -f "$ROOT/var/lib/dbus/machine-id"
    log "rebuilding the initramfs with overlayroot and the state restore"
    in_root update-initramfs -u -k all
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

install_app
install_units
data_layout
write_fstab
read_only_root
boot_files
log "customized $ROOT"
