#!/bin/sh
# The whole Debian image, in OUT_DIR: disk.img (boot, read-only root, data), and the kernel and initramfs
# taken out of the root (vmlinuz, initrd.img) with the command line to boot them (cmdline.txt), so qemu
# boots the disk without a boot loader:
#   qemu-system-x86_64 -m 1024 -drive file=disk.img,format=raw,if=virtio \
#       -kernel vmlinuz -initrd initrd.img -append "$(cat cmdline.txt)" -nographic
# Steps: build-wheels.sh, build-release.sh, build-rootfs.sh (mmdebstrap + customize.sh), make-disk.sh.
#   build.sh [--cache DIR] [--key PRIVATE_KEY] [--probe] OUT_DIR
# --cache DIR  keep the bootstrapped Debian base there (build-rootfs.sh)
# --key KEY    sign the release with KEY and make the image trust KEY.pub (default: a throwaway key)
# --probe      add the boot-test probe (test images only: it powers the machine off once booted) and
#              the start limits an emulated boot needs (test/emulation.conf for the agent,
#              test/emulation-services.conf for every service)
# OUT_DIR also gets the signed release (release/), the artifact an update would send.
# Runs as root. Environment: see common.sh (ARCH, SUITE, sizes, labels), PYTHON for build-wheels.sh.
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

usage() { die "usage: build.sh [--cache DIR] [--key PRIVATE_KEY] [--probe] OUT_DIR"; }
CACHE_ARGS=
KEY_ARGS=
PROBE=
while [ $# -gt 1 ]; do
    case $1 in
        --cache) [ $# -ge 3 ] || usage; CACHE_ARGS="--cache $2"; shift 2 ;;
        --key) [ $# -ge 3 ] || usage; KEY_ARGS="--key $2"; shift 2 ;;
        --probe) PROBE=1; shift ;;
        *) usage ;;
    esac
done
[ $# -eq 1 ] || usage
OUT=$1
WORK=$OUT/work
ROOT=$WORK/root
started=$(date +%s)

rm -rf "$WORK"
mkdir -p "$WORK"
"$IMAGE_DIR/build-wheels.sh" "$WORK/wheels"
# shellcheck disable=SC2086 # KEY_ARGS and CACHE_ARGS are zero or two words
"$IMAGE_DIR/build-release.sh" $KEY_ARGS "$WORK/wheels" "$OUT/release"
# shellcheck disable=SC2086
"$IMAGE_DIR/build-rootfs.sh" $CACHE_ARGS "$OUT/release" "$ROOT"

if [ -n "$PROBE" ]; then
    log "adding the boot-test probe"
    install -D -m 0755 "$IMAGE_DIR/test/probe.sh" "$ROOT/usr/lib/tillbridge/probe.sh"
    install -D -m 0644 "$IMAGE_DIR/test/tillbridge-probe.service" "$ROOT/etc/systemd/system/tillbridge-probe.service"
    ln -sfn ../tillbridge-probe.service "$ROOT/etc/systemd/system/multi-user.target.wants/tillbridge-probe.service"
    install -D -m 0644 "$IMAGE_DIR/test/emulation.conf" "$ROOT/etc/systemd/system/tillbridge-agent.service.d/emulation.conf"
    install -D -m 0644 "$IMAGE_DIR/test/emulation-services.conf" "$ROOT/etc/systemd/system/service.d/tillbridge-emulation.conf"
fi

# The kernel and initramfs for qemu's -kernel/-initrd (a Raspberry Pi's firmware reads its own from the
# boot partition instead).
kernel=$(find "$ROOT/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
[ -n "$kernel" ] || die "no kernel in $ROOT/boot"
cp "$kernel" "$OUT/vmlinuz"
cp "$ROOT/boot/initrd.img-${kernel##*/vmlinuz-}" "$OUT/initrd.img"
case $ARCH in
    arm64) console=ttyAMA0 ;; # qemu-system-aarch64 -M virt
    *) console=ttyS0 ;;
esac
echo "root=LABEL=$ROOT_LABEL rootwait console=$console" >"$OUT/cmdline.txt"

split_partitions "$ROOT" "$WORK/boot" "$WORK/data"
"$IMAGE_DIR/make-disk.sh" "$ROOT" "$WORK/boot" "$WORK/data" "$OUT/disk.img"
rm -rf "$WORK"
log "image ready in $OUT after $(($(date +%s) - started)) s"
