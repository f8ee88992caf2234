#!/bin/sh
# The image's root filesystem, as a folder: Debian SUITE for ARCH with packages.txt and a kernel
# (KERNEL, default linux-image-ARCH), bootstrapped by mmdebstrap, then made a tillbridge root by
# customize.sh with the signed release of build-release.sh (in RELEASE) installed.
#   build-rootfs.sh [--cache DIR] RELEASE OUT_ROOT
# --cache DIR keeps the bootstrapped base in DIR, one per suite, architecture and package list, and starts
# from a copy of it: a second build skips mmdebstrap (about a minute). Environment: MIRROR (a Debian mirror
# URL for mmdebstrap; default: its own), SUITE, ARCH, KERNEL. An arm64 root on an amd64 host needs
# binfmt_misc for arm64 (Debian packages qemu-user-static binfmt-support).
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

CACHE=
if [ "${1:-}" = --cache ]; then
    [ $# -ge 2 ] || die "usage: build-rootfs.sh [--cache DIR] RELEASE OUT_ROOT"
    CACHE=$2
    shift 2
fi
[ $# -eq 2 ] || die "usage: build-rootfs.sh [--cache DIR] RELEASE OUT_ROOT"
RELEASE=$1
OUT=$2
KERNEL=${KERNEL:-linux-image-$ARCH}
INCLUDE="$(packages ,),$KERNEL"
need mmdebstrap mmdebstrap
[ "$(id -u)" = 0 ] || die "run as root: the root keeps its owners, and customize.sh uses chroot"

# INITRD=No: the kernel's package makes no initramfs (and initramfs-tools' trigger, finding none, updates
# none); customize.sh makes the one the image boots, once overlayroot and tillbridge's script are in. Under
# emulation (an arm64 root on another host) each initramfs takes a quarter of an hour, and the bootstrap
# made two that customize.sh then replaced.
bootstrap() { # folder
    log "bootstrapping Debian $SUITE for $ARCH (mmdebstrap)"
    # shellcheck disable=SC2086 # MIRROR is one optional word
    INITRD=No mmdebstrap --variant=minbase --architectures="$ARCH" --include="$INCLUDE" "$SUITE" "$1" ${MIRROR:-}
}

# The cached base, built once under a lock (two builds at once build it once).
cached_base() {
    key=$(printf '%s\n' "$SUITE" "$ARCH" "$INCLUDE" "${MIRROR:-}" no-initramfs | sha256sum | cut -c1-12)
    base=$CACHE/base-$SUITE-$ARCH-$key
    mkdir -p "$CACHE"
    exec 9>"$base.lock"
    flock 9
    if [ ! -x "$base/usr/bin/python3" ]; then
        rm -rf "$base" "$base.partial"
        bootstrap "$base.partial" >&2
        mv "$base.partial" "$base"
        # Bases of an older package list are not used again.
        find "$CACHE" -maxdepth 1 -name "base-$SUITE-$ARCH-*" ! -name "base-$SUITE-$ARCH-$key*" \
            -exec rm -rf {} +
    else
        log "bootstrapped base from the cache: $base"
    fi
    exec 9>&-
    echo "$base"
}

rm -rf "$OUT"
if [ -n "$CACHE" ]; then
    base=$(cached_base)
    mkdir -p "$OUT"
    cp -a "$base/." "$OUT/"
else
    bootstrap "$OUT"
fi
"$IMAGE_DIR/customize.sh" "$OUT" "$RELEASE"
