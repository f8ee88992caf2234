#!/bin/sh
# Applies the installer's provisioning file (tillbridge.toml on the boot partition) before the agent starts.
# Run as root by tillbridge-firstboot.service, which starts only while the file exists.
# The boot partition may be mounted read-only: it is remounted read-write for the one step that replaces
# the file by <name>.applied without its secrets, then put back as it was.
# A refused file is not a failed boot: the reasons go to the journal (and to the data folder, where the
# self-test ticket shows them), this script exits 0, the agent starts with its previous config, and the
# file stays so the installer can fix it and reboot.
# Optional environment: PROVISIONING, CONFIG, CONFIG_GROUP (the agent's group), TILLBRIDGE (the command),
# PROVISION_ARGS (extra arguments).
set -eu

PROVISIONING=${PROVISIONING:-/boot/firmware/tillbridge.toml}
CONFIG=${CONFIG:-/etc/tillbridge/agent.toml}
CONFIG_GROUP=${CONFIG_GROUP:-tillbridge}
TILLBRIDGE=${TILLBRIDGE:-/usr/local/bin/tillbridge}
BOOT=$(dirname "$PROVISIONING")
REMOUNTED=

log() { printf 'tillbridge-firstboot: %s\n' "$*" >&2; }

restore_boot() {
    if [ -n "$REMOUNTED" ]; then
        mount -o remount,ro "$BOOT" || log "cannot remount $BOOT read-only again"
    fi
}

writable_boot() {
    if [ -w "$BOOT" ]; then
        return 0
    fi
    if mountpoint -q "$BOOT" && mount -o remount,rw "$BOOT"; then
        REMOUNTED=1
        return 0
    fi
    log "$BOOT is read-only: the file is applied but keeps its secrets until it can be replaced"
}

readable_config() {
    # A config written here for the first time is root's and private; the agent reads it through its group.
    if ! { chgrp "$CONFIG_GROUP" "$CONFIG" && chmod 0640 "$CONFIG"; }; then
        log "cannot give $CONFIG to group $CONFIG_GROUP: the agent may not be able to read it"
    fi
}

reload_network() {
    # NetworkManager reads new keyfiles when it starts (this unit runs before it); on a later manual run
    # it must be told.
    if command -v nmcli >/dev/null 2>&1 && nmcli -t general status >/dev/null 2>&1; then
        nmcli connection reload || log "nmcli connection reload failed"
    fi
}

if [ ! -e "$PROVISIONING" ]; then
    log "no $PROVISIONING: nothing to do"
    exit 0
fi

trap restore_boot EXIT
writable_boot
status=0
# shellcheck disable=SC2086 # PROVISION_ARGS is a list of words on purpose
"$TILLBRIDGE" provision --config "$CONFIG" --provisioning "$PROVISIONING" ${PROVISION_ARGS:-} || status=$?
case $status in
    0)
        readable_config
        reload_network
        log "provisioning applied"
        ;;
    3)
        log "PROVISIONING FILE REJECTED: $PROVISIONING was not applied, the previous config stays."
        log "Fix the file (the reasons are above and on the self-test ticket) and restart the box."
        ;;
    *)
        log "provisioning failed (exit $status): it is tried again at the next boot"
        exit "$status"
        ;;
esac
