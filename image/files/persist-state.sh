#!/bin/sh
# Saves the few files of /etc that must outlive a reboot on the read-only root (whose changes live in RAM)
# to the data partition; the initramfs script initramfs-restore.sh copies them back at the next boot,
# before systemd starts:
#   machine-id          generated at the first boot; a new one at every boot would change the box's DHCP
#                       client id (and so its address) and its journal's id
#   localtime, timezone set by provisioning ([system] timezone)
#   hostname
#   ssh host keys       where openssh is installed, so the box keeps its SSH identity
# Run by tillbridge-persist.service after first-boot provisioning and again at shutdown. It writes only
# what changed, to spare the SD card.
set -eu

STATE=${STATE:-/data/state}
ROOT=${ROOT:-/}

log() { printf 'tillbridge-persist: %s\n' "$*" >&2; }

same() { # file saved-copy
    if [ -L "$1" ] || [ -L "$2" ]; then
        [ -L "$1" ] && [ -L "$2" ] && [ "$(readlink "$1")" = "$(readlink "$2")" ]
    else
        [ -f "$2" ] && cmp -s "$1" "$2"
    fi
}

save() { # path relative to ROOT
    saved=$STATE/$1
    if same "$1" "$saved"; then
        return 0
    fi
    mkdir -p "$(dirname "$saved")"
    # A copy then a rename: a power cut leaves the old saved file or the new one, never half of one.
    cp -a "$1" "$saved.new"
    mv -f "$saved.new" "$saved"
    log "saved /$1"
}

cd "$ROOT"
for path in etc/machine-id etc/localtime etc/timezone etc/hostname etc/ssh/ssh_host_*; do
    if [ ! -e "$path" ] && [ ! -L "$path" ]; then
        continue # absent, or a glob that matched nothing
    fi
    if [ "$path" = etc/machine-id ] && ! grep -qE '^[0-9a-f]{32}$' "$path"; then
        continue # still empty or "uninitialized": nothing worth keeping yet
    fi
    save "$path"
done
sync "$STATE" 2>/dev/null || sync
