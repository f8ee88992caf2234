#!/bin/bash
# pi-gen sub-stage, run on the build host with ROOTFS_DIR set (pi-gen's build.sh exports it, and the
# on_chroot function). The shared recipe does the work: the packages of image/packages.txt, then
# image/customize.sh (the app's signed arm64 release, units, read-only root, /data layout). Only the
# Raspberry Pi's own bits are here. TILLBRIDGE_SRC (the repository) and TILLBRIDGE_RELEASE come from the
# pi-gen config written by image/pi/build-pi.sh.
set -eu
IMAGE_DIR="${TILLBRIDGE_SRC:?set by build-pi.sh}/image"
# shellcheck disable=SC1091 # checked on its own
. "${IMAGE_DIR}/common.sh"

# python3-lgpio: the pin library gpiozero uses on a Pi (from Raspberry Pi's archive), seen by the app's venv
# through --system-site-packages.
on_chroot <<APT
apt-get install -y --no-install-recommends $(packages " ") python3-lgpio
APT

"${IMAGE_DIR}/customize.sh" "${ROOTFS_DIR}" "${TILLBRIDGE_RELEASE:?set by build-pi.sh}"

# The firmware reads the kernel command line from the boot partition. Root by label (make-disk.sh's labels;
# the initramfs resolves it), no init= resize script: the root is not the last partition and stays its
# size. overlayroot is set in /etc/overlayroot.local.conf, so nothing about it goes here.
echo "console=serial0,115200 console=tty1 root=LABEL=${ROOT_LABEL} rootfstype=ext4 fsck.repair=yes rootwait" \
    >"${ROOTFS_DIR}${BOOT_MOUNT}/cmdline.txt"
# overlayroot lives in the initramfs: make sure the firmware loads one.
if ! grep -q '^auto_initramfs=1' "${ROOTFS_DIR}${BOOT_MOUNT}/config.txt"; then
    echo "auto_initramfs=1" >>"${ROOTFS_DIR}${BOOT_MOUNT}/config.txt"
fi
# A swap file on a root that lives in RAM would only take RAM away.
on_chroot <<SWAP
systemctl mask dphys-swapfile.service
SWAP
