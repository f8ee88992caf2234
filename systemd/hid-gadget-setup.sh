#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Makes the Pi a USB boot keyboard (/dev/hidg0) through which tillbridge types forwarded scans into the
# till PC. Idempotent: on a bound gadget it changes nothing. `hid-gadget-setup.sh remove` undoes it.
# Needs `dtoverlay=dwc2` in config.txt and a Pi with a USB device port (Zero, Zero 2 W, 4, 5 via USB-C,
# CM4); without a device controller it says so and exits 0, and the agent reports the gadget absent.
# Optional environment: CONFIGFS, UDC_CLASS, GADGET, HID_VENDOR_ID, HID_PRODUCT_ID, HID_DEVICE_VERSION,
# HID_SERIAL, UDC_WAIT (seconds to wait for the device controller to appear).
set -eu

ME=hid-gadget-setup
# shellcheck source=gadget-common.sh
. "$(dirname "$0")/gadget-common.sh"
DEVICE_VERSION=${HID_DEVICE_VERSION:-0x0100}  # change it with the descriptor: hosts cache descriptors

FUNCTION="$G/functions/hid.usb0"

# HID 1.11 Appendix B.1 boot keyboard, 63 bytes; devices/hid/usages.py holds the same bytes.
DESCRIPTOR="05 01 09 06 a1 01 05 07 19 e0 29 e7 15 00 25 01 75 01 95 08 81 02 95 01 75 08 81 03
95 05 75 01 05 08 19 01 29 05 91 02 95 01 75 03 91 03 95 06 75 08 15 00 25 65 05 07 19 00 29 65 81 00 c0"

write_descriptor() {
    for byte in $DESCRIPTOR; do
        printf '%b' "\\0$(printf '%03o' "0x$byte")"
    done > "$1"
}

setup() {
    if bound; then
        log "gadget $GADGET is already bound to $(cat "$G/UDC")"
        return 0
    fi
    need_configfs
    make_gadget "$DEVICE_VERSION" "tillbridge scanner keyboard" "Boot keyboard"

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
        no_udc
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
