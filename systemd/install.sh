#!/bin/sh
# Installs tillbridge's units, scripts, users, folders, module list and udev rules into a root filesystem:
# the running system (docs/installation.md, by hand) or an image being built (image/, and the lint tests).
# It does not install the Python application: /usr/local/bin/tillbridge must be it (or a link to it).
#   install.sh [--root DIR] [--enable]
# --enable also creates the user and groups, the folders, and enables the units; on the running system
# (root /, systemd booted) it reloads systemd and udev so nothing needs a reboot.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=/
ENABLE=
UNITS="tillbridge-agent.service tillbridge-firstboot.service tillbridge-hid-gadget.service"
# Updates (docs/updates.md): the path unit and the boot-time resume are enabled; the updater itself is
# started by the path unit only.
UNITS="$UNITS tillbridge-update.path tillbridge-update-resume.service"
TRIGGERED="tillbridge-update.service"
# Installed but not enabled: a box that captures receipts over USB enables it (docs/receipts.md).
OPTIONAL="tillbridge-printer-gadget.service"

log() { printf 'install.sh: %s\n' "$*" >&2; }
usage() { log "usage: install.sh [--root DIR] [--enable]"; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        --root) [ $# -ge 2 ] || usage; ROOT=$2; shift 2 ;;
        --enable) ENABLE=1; shift ;;
        *) usage ;;
    esac
done

put() { # mode source destination-folder (under ROOT)
    install -D -m "$1" "$2" "$ROOT/$3/$(basename "$2")"
}

copy_files() {
    for unit in $UNITS $TRIGGERED $OPTIONAL; do
        put 0644 "$HERE/$unit" usr/lib/systemd/system
    done
    put 0755 "$HERE/firstboot.sh" usr/lib/tillbridge
    put 0755 "$HERE/hid-gadget-setup.sh" usr/lib/tillbridge
    put 0755 "$HERE/printer-gadget-setup.sh" usr/lib/tillbridge
    put 0644 "$HERE/gadget-common.sh" usr/lib/tillbridge  # sourced by both
    put 0755 "$HERE/tillbridge-update.sh" usr/lib/tillbridge
    put 0644 "$HERE/sysusers.d/tillbridge.conf" usr/lib/sysusers.d
    put 0644 "$HERE/tmpfiles.d/tillbridge.conf" usr/lib/tmpfiles.d
    put 0644 "$HERE/modules-load.d/tillbridge.conf" usr/lib/modules-load.d
    put 0644 "$HERE/udev/70-tillbridge.rules" usr/lib/udev/rules.d
    for doc in "$HERE"/../docs/*.md; do
        if [ -e "$doc" ]; then
            put 0644 "$doc" usr/share/doc/tillbridge
        fi
    done
}

booted() { [ "$ROOT" = / ] && [ -d /run/systemd/system ]; }

enable_all() {
    systemd-sysusers --root="$ROOT" "$ROOT/usr/lib/sysusers.d/tillbridge.conf"
    # shellcheck disable=SC2086 # UNITS is a list of names
    systemctl --root="$ROOT" enable $UNITS
    if booted; then
        systemd-tmpfiles --create /usr/lib/tmpfiles.d/tillbridge.conf
        systemctl daemon-reload
        udevadm control --reload
        udevadm trigger --action=change
        systemctl restart systemd-modules-load.service
    fi
}

copy_files
log "installed into $ROOT"
if [ -n "$ENABLE" ]; then
    enable_all
    log "user tillbridge and units enabled in $ROOT"
fi
