# shellcheck shell=sh
# Sourced by hid-gadget-setup.sh and printer-gadget-setup.sh: both build functions into the one USB gadget a
# Pi can have (one device port), so they share its settings and the steps that make it.
# Set ME (the script's name for its log lines) before sourcing.
# Optional environment: CONFIGFS, UDC_CLASS, GADGET, HID_VENDOR_ID, HID_PRODUCT_ID, HID_SERIAL, UDC_WAIT
# (seconds to wait for the device controller to appear).

CONFIGFS=${CONFIGFS:-/sys/kernel/config}
UDC_CLASS=${UDC_CLASS:-/sys/class/udc}
GADGET=${GADGET:-tillbridge}
VENDOR=${HID_VENDOR_ID:-0x1d6b}            # Linux Foundation
PRODUCT=${HID_PRODUCT_ID:-0x0104}          # Multifunction Composite Gadget
UDC_WAIT=${UDC_WAIT:-10}

G="$CONFIGFS/usb_gadget/$GADGET"
CONFIG="$G/configs/c.1"

log() { printf '%s: %s\n' "$ME" "$*" >&2; }
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

need_configfs() {
    [ -d "$CONFIGFS/usb_gadget" ] || modprobe libcomposite
    [ -d "$CONFIGFS/usb_gadget" ] || die "no $CONFIGFS/usb_gadget: is configfs mounted?"
}

# make_gadget DEVICE_VERSION PRODUCT_STRING CONFIGURATION_STRING: the gadget and its one configuration.
make_gadget() {
    mkdir -p "$G/strings/0x409" "$CONFIG/strings/0x409"
    put "$G/idVendor" "$VENDOR"
    put "$G/idProduct" "$PRODUCT"
    put "$G/bcdDevice" "$1"
    put "$G/bcdUSB" 0x0200
    put "$G/strings/0x409/manufacturer" "tillbridge"
    put "$G/strings/0x409/product" "$2"
    put "$G/strings/0x409/serialnumber" "$(serial_number)"
    put "$CONFIG/strings/0x409/configuration" "$3"
    put "$CONFIG/MaxPower" 100
}

no_udc() {
    log "no USB device controller in $UDC_CLASS (dtoverlay=dwc2? a Pi with a device port?): not bound"
}
