#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Makes the Pi a USB printer (/dev/g_printer0) for the POS PC, so that the box can sit between the POS and
# its receipt printer on USB: the agent forwards every byte to the real printer and reads the receipts.
# Adds a printer function to the box's USB gadget: the same gadget as the keyboard (hid-gadget-setup.sh),
# since a Pi has one device port; a bound gadget is unbound, extended and bound again. Idempotent.
# `printer-gadget-setup.sh remove` takes the printer function out again (the keyboard stays).
# Optional environment: CONFIGFS, UDC_CLASS, GADGET, PRINTER_PNP (IEEE 1284 device id the POS PC sees),
# PRINTER_QLEN, HID_VENDOR_ID, HID_PRODUCT_ID, HID_SERIAL, UDC_WAIT.
set -eu

ME=printer-gadget-setup
# shellcheck source=gadget-common.sh
. "$(dirname "$0")/gadget-common.sh"
PNP=${PRINTER_PNP:-MFG:tillbridge;MDL:receipt relay;CMD:ESC/POS;CLS:PRINTER;}
QLEN=${PRINTER_QLEN:-10}

FUNCTION="$G/functions/printer.usb0"

setup() {
    if [ -L "$CONFIG/printer.usb0" ] && bound; then
        log "gadget $GADGET already has a printer and is bound to $(cat "$G/UDC")"
        return 0
    fi
    need_configfs

    udc=""
    if bound; then
        udc=$(cat "$G/UDC")
        put "$G/UDC" ""  # functions can be added only to an unbound gadget
    fi
    [ -d "$G" ] || make_gadget 0x0100 "tillbridge receipt relay" "Receipt printer"
    if [ ! -d "$FUNCTION" ]; then
        mkdir -p "$FUNCTION"
        put "$FUNCTION/pnp_string" "$PNP"
        put "$FUNCTION/q_len" "$QLEN"
    fi
    [ -L "$CONFIG/printer.usb0" ] || ln -s "$FUNCTION" "$CONFIG/printer.usb0"

    if [ -z "$udc" ] && ! udc=$(first_udc); then
        no_udc
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
