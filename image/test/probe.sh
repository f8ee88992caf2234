#!/bin/sh
# Boot-test probe, installed only in test images (build.sh --probe) by tillbridge-probe.service, which
# starts once the boot is done and the agent has reported READY (or failed). It records what the boot test
# checks, as key=value lines, in /data/probe/boot-N.txt (the test reads it from the image file with
# debugfs) and on the console, logs in boot-N.log, then powers the machine off.
set -u

OUT_DIR=/data/probe
MARKER=/etc/tillbridge-probe-marker # written to the root: a read-only root forgets it at reboot

kv() { printf '%s=%s\n' "$1" "$2"; }

data_device() { readlink -f "$(findmnt -n -o SOURCE /data)"; }

journal_kind() {
    if [ -d /run/log/journal ] && [ -z "$(ls -A /var/log/journal 2>/dev/null)" ]; then
        echo volatile
    else
        echo persistent
    fi
}

failed_units() { systemctl list-units --failed --plain --no-legend | cut -d' ' -f1; }

mkdir -p "$OUT_DIR"
boot=$(($(cat "$OUT_DIR/boots" 2>/dev/null || echo 0) + 1))
echo "$boot" >"$OUT_DIR/boots"
report=$OUT_DIR/boot-$boot.txt
{
    kv boot "$boot"
    kv agent "$(systemctl is-active tillbridge-agent.service)"
    kv update_status "$(tillbridge update status 2>&1 | tr -d '\n')"
    kv tillbridge "$(readlink -f /usr/local/bin/tillbridge)"
    kv release_lib "$(find "$(dirname "$(dirname "$(readlink -f /usr/local/bin/tillbridge)")")/lib" \
        -mindepth 1 -maxdepth 1 -printf '%f ')"
    kv ready "$(journalctl -b -o cat -u tillbridge-agent.service | grep -m 1 'ready in')"
    kv root_fstype "$(findmnt -n -o FSTYPE /)"
    kv data_mount "$(findmnt -n -o FSTYPE,OPTIONS /data)"
    kv data_sectors "$(cat "/sys/class/block/$(basename "$(data_device)")/size")"
    kv data_fs "$(dumpe2fs -h "$(data_device)" 2>/dev/null | sed -n 's/^Block count: *//p; s/^Block size: *//p' |
        tr '\n' ' ')"
    kv growdata "$(journalctl -b -o cat -u tillbridge-growdata.service | tr '\n' ' ')"
    kv growdata_result "$(systemctl show -P Result tillbridge-growdata.service)"
    kv store_mount "$(findmnt -n -o SOURCE /var/lib/tillbridge)"
    kv config_mount "$(findmnt -n -o SOURCE /etc/tillbridge)"
    kv boot_mount "$(findmnt -n -o FSTYPE,OPTIONS /boot/firmware)"
    kv box_id "$(sed -n 's/^id = "\(.*\)"$/\1/p' /etc/tillbridge/agent.toml)"
    kv firstboot "$(systemctl show -P ConditionResult tillbridge-firstboot.service)"
    kv firstboot_result "$(systemctl show -P Result tillbridge-firstboot.service)"
    kv boot_files "$(find /boot/firmware -mindepth 1 -maxdepth 1 -printf '%f ')"
    kv machine_id "$(cat /etc/machine-id)"
    kv timezone "$(cat /etc/timezone 2>/dev/null)"
    kv localtime "$(readlink /etc/localtime)"
    kv etc_marker "$(if [ -e "$MARKER" ]; then echo present; else echo absent; fi)"
    kv journal "$(journal_kind)"
    kv failed_units "$(failed_units | tr '\n' ' ')"
} >"$report" 2>&1
# What went wrong, if anything: read by the test when a check fails.
{
    # shellcheck disable=SC2046 # one word per failed unit
    systemctl status --no-pager --full tillbridge-agent.service $(failed_units)
    journalctl -b --no-pager -o short-monotonic -p warning
    journalctl -b --no-pager -o short-monotonic -u tillbridge-agent.service -u tillbridge-firstboot.service \
        -u tillbridge-growdata.service
} >"$OUT_DIR/boot-$boot.log" 2>&1
touch "$MARKER"
sed 's/^/TBPROBE /' "$report" >/dev/console
echo "TBPROBE done" >/dev/console
sync
systemctl poweroff --no-block
