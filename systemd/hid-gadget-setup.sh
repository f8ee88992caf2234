#!/bin/sh
# Makes the Pi a USB boot keyboard (/dev/hidg0) through which tillbridge types forwarded scans into the
# till PC. Idempotent: on a bound gadget it changes nothing. `hid-gadget-setup.sh remove` undoes it.
# Needs `dtoverlay=dwc2` in config.txt and a Pi with a USB device port (Zero, Zero 2 W, 4, 5 via USB-C,
# CM4); without a device controller it says so and exits 0, and the agent reports the gadget absent.
# Optional environment: CONFIGFS, UDC_CLASS, GADGET, HID_VENDOR_ID, HID_PRODUCT_ID, HID_DEVICE_VERSION,
# HID_SERIAL, UDC_WAIT (seconds to wait for the device controller to appear).
set -eu

CONFIGFS=${CONFIGFS:-/sys/kernel/config}
UDC_CLASS=${UDC_CLASS:-/sys/class/udc}
GADGET=${GADGET:-tillbridge}
VENDOR=${HID_VENDOR_ID:-0x1d6b}            # Linux Foundation
PRODUCT=${HID_PRODUCT_ID:-0x0104}          # Multifunction Composite Gadget
DEVICE_VERSION=${HID_DEVICE_VERSION:-0x0100}  # change it with the descriptor: hosts cache descriptors
UDC_WAIT=${UDC_WAIT:-10}

G="$CONFIGFS/usb_gadget/$GADGET"
CONFIG="$G/configs/c.1"
FUNCTION="$G/functions/hid.usb0"

# HID 1.11 Appendix B.1 boot keyboard, 63 bytes; devices/hid/usages.py holds the same bytes.
DESCRIPTOR="05 01 09 06 a1 01 05 07 19 e0 29 e7 15 00 25 01 75 01 95 08 81 02 95 01 75 08 81 03
95 05 75 01 05 08 19 01 29 05 91 02 95 01 75 03 91 03 95 06 75 08 15 00 25 65 05 07 19 00 29 65 81 00 c0"

log() { printf 'hid-gadget-setup: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

put() { printf '%s\n' "$2" > "$1"; }

write_descriptor() {
    for byte in $DESCRIPTOR; do
        printf '%b' "\\0$(printf '%03o' "0x$byte")"
    done > "$1"
}

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
    if bound; then
        log "gadget $GADGET is already bound to $(cat "$G/UDC")"
        return 0
    fi
    [ -d "$CONFIGFS/usb_gadget" ] || modprobe libcomposite
    [ -d "$CONFIGFS/usb_gadget" ] || die "no $CONFIGFS/usb_gadget: is configfs mounted?"

    mkdir -p "$G/strings/0x409" "$CONFIG/strings/0x409"
    put "$G/idVendor" "$VENDOR"
    put "$G/idProduct" "$PRODUCT"
    put "$G/bcdDevice" "$DEVICE_VERSION"
    put "$G/bcdUSB" 0x0200
    put "$G/strings/0x409/manufacturer" "tillbridge"
    put "$G/strings/0x409/product" "tillbridge scanner keyboard"
    put "$G/strings/0x409/serialnumber" "$(serial_number)"
    put "$CONFIG/strings/0x409/configuration" "Boot keyboard"
    put "$CONFIG/MaxPower" 100

    # The function's attributes are locked once it is linked into a configuration: set them only once.
    if [ ! -d "$FUNCTION" ]; then
        mkdir -p "$FUNCTION"
        put "$FUNCTION/protocol" 1
        put "$FUNCTION/subclass" 1
        put "$FUNCTION/report_length" 8
        write_descriptor "$FUNCTION/report_desc"
    fi
    [ -L "$CONFIG/hid.usb0" ] || ln -s "$FUNCTION" "$CONFIG/hid.usb0"

    if ! udc=$(first_udc); then
        log "no USB device controller in $UDC_CLASS (dtoverlay=dwc2? a Pi with a device port?): not bound"
        return 0
    fi
    put "$G/UDC" "$udc"
    log "gadget $GADGET bound to $udc: /dev/hidg0"
}

remove() {
    [ -d "$G" ] || return 0
    if bound; then
        put "$G/UDC" ""
    fi
    rm -f "$CONFIG/hid.usb0"
    for dir in "$CONFIG/strings/0x409" "$CONFIG" "$FUNCTION" "$G/strings/0x409" "$G"; do
        if [ -d "$dir" ]; then
            rmdir "$dir"
        fi
    done
    log "gadget $GADGET removed"
}

case "${1:-setup}" in
    setup) setup ;;
    remove) remove ;;
    *) die "usage: $0 [setup|remove]" ;;
esac
