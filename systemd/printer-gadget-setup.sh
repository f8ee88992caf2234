#!/bin/sh
# Makes the Pi a USB printer (/dev/g_printer0) for the POS PC, so that the box can sit between the POS and
# its receipt printer on USB: the agent forwards every byte to the real printer and reads the receipts.
# Adds a printer function to the box's USB gadget: the same gadget as the keyboard (hid-gadget-setup.sh),
# since a Pi has one device port; a bound gadget is unbound, extended and bound again. Idempotent.
# `printer-gadget-setup.sh remove` takes the printer function out again (the keyboard stays).
# Optional environment: CONFIGFS, UDC_CLASS, GADGET, PRINTER_PNP (IEEE 1284 device id the POS PC sees),
# PRINTER_QLEN, HID_VENDOR_ID, HID_PRODUCT_ID, HID_SERIAL, UDC_WAIT.
set -eu

CONFIGFS=${CONFIGFS:-/sys/kernel/config}
UDC_CLASS=${UDC_CLASS:-/sys/class/udc}
GADGET=${GADGET:-tillbridge}
VENDOR=${HID_VENDOR_ID:-0x1d6b}            # Linux Foundation
PRODUCT=${HID_PRODUCT_ID:-0x0104}          # Multifunction Composite Gadget
PNP=${PRINTER_PNP:-MFG:tillbridge;MDL:receipt relay;CMD:ESC/POS;CLS:PRINTER;}
QLEN=${PRINTER_QLEN:-10}
UDC_WAIT=${UDC_WAIT:-10}

G="$CONFIGFS/usb_gadget/$GADGET"
CONFIG="$G/configs/c.1"
FUNCTION="$G/functions/printer.usb0"

log() { printf 'printer-gadget-setup: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

put() { printf '%s\n' "$2" > "$1"; }

serial_number() {
    if [ -n "${HID_SERIAL:-}" ]; then
        printf '%s' "$HID_SERIAL"
    elif [ -r /proc/device-tree/serial-number ]; then
        tr -d '\000' < /proc/device-tree/serial-number
    else
        cut -c1-16 /etc/machine-id
    fi
}

first_udc() {
    waited=0
    while :; do
        for udc in "$UDC_CLASS"/*; do
            if [ -e "$udc" ]; then
                basename "$udc"
                return 0
            fi
        done
        [ "$waited" -lt "$UDC_WAIT" ] || return 1
        sleep 1
        waited=$((waited + 1))
    done
}

bound() { [ -s "$G/UDC" ] && [ -n "$(cat "$G/UDC")" ]; }

setup() {
    if [ -L "$CONFIG/printer.usb0" ] && bound; then
        log "gadget $GADGET already has a printer and is bound to $(cat "$G/UDC")"
        return 0
    fi
    [ -d "$CONFIGFS/usb_gadget" ] || modprobe libcomposite
    [ -d "$CONFIGFS/usb_gadget" ] || die "no $CONFIGFS/usb_gadget: is configfs mounted?"

    udc=""
    if bound; then
        udc=$(cat "$G/UDC")
        put "$G/UDC" ""  # functions can be added only to an unbound gadget
    fi
    if [ ! -d "$G" ]; then
        mkdir -p "$G/strings/0x409" "$CONFIG/strings/0x409"
        put "$G/idVendor" "$VENDOR"
        put "$G/idProduct" "$PRODUCT"
        put "$G/bcdDevice" 0x0100
        put "$G/bcdUSB" 0x0200
        put "$G/strings/0x409/manufacturer" "tillbridge"
        put "$G/strings/0x409/product" "tillbridge receipt relay"
        put "$G/strings/0x409/serialnumber" "$(serial_number)"
        put "$CONFIG/strings/0x409/configuration" "Receipt printer"
        put "$CONFIG/MaxPower" 100
    fi
    if [ ! -d "$FUNCTION" ]; then
        mkdir -p "$FUNCTION"
        put "$FUNCTION/pnp_string" "$PNP"
        put "$FUNCTION/q_len" "$QLEN"
    fi
    [ -L "$CONFIG/printer.usb0" ] || ln -s "$FUNCTION" "$CONFIG/printer.usb0"

    if [ -z "$udc" ] && ! udc=$(first_udc); then
        log "no USB device controller in $UDC_CLASS (dtoverlay=dwc2? a Pi with a device port?): not bound"
        return 0
    fi
    put "$G/UDC" "$udc"
    log "gadget $GADGET bound to $udc with a printer: /dev/g_printer0"
}

remove() {
    [ -L "$CONFIG/printer.usb0" ] || [ -d "$FUNCTION" ] || return 0
    udc=""
    if bound; then
        udc=$(cat "$G/UDC")
        put "$G/UDC" ""
    fi
    rm -f "$CONFIG/printer.usb0"
    [ ! -d "$FUNCTION" ] || rmdir "$FUNCTION"
    others=$(find "$CONFIG" -maxdepth 1 -type l | wc -l)
    if [ "$others" -gt 0 ] && [ -n "$udc" ]; then
        put "$G/UDC" "$udc"  # the keyboard goes on working
        log "printer removed from gadget $GADGET; still bound to $udc"
        return 0
    fi
    if [ "$others" -eq 0 ]; then
        for dir in "$CONFIG/strings/0x409" "$CONFIG" "$G/strings/0x409" "$G"; do
            if [ -d "$dir" ]; then
                rmdir "$dir"
            fi
        done
    fi
    log "printer removed from gadget $GADGET"
}

case "${1:-setup}" in
    setup) setup ;;
    remove) remove ;;
    *) die "usage: $0 [setup|remove]" ;;
esac
