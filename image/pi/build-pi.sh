#!/bin/sh
# The Raspberry Pi image (arm64, Raspberry Pi OS trixie Lite + tillbridge), on a machine that reaches
# Raspberry Pi's package archive: pi-gen (its arm64 branch) builds stages 0-2 and stage-tillbridge, which
# runs the shared recipe (customize.sh); pi-gen exports nothing, make-disk.sh makes the disk from the stage's
# root, with the same three partitions as the CI image. docs/image.md has the whole procedure.
#   PI_USER_PASS=... build-pi.sh [--key PRIVATE_KEY] PI_GEN_DIR OUT_DIR
# PI_GEN_DIR: a checkout of pi-gen's arm64 branch. PI_USER_PASS: the password of the maintenance user
# (PI_USER, default tbadmin), for the console; SSH is off. --key: the release signing key (build-release.sh;
# without it the image trusts a throwaway key and refuses every update). Runs as root (pi-gen does); on an x86-64 host
# pi-gen needs binfmt for arm64 (qemu-user-static binfmt-support) and its own dependencies (its README).
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

KEY_ARGS=
if [ "${1:-}" = --key ]; then
    [ $# -ge 2 ] || die "usage: PI_USER_PASS=... build-pi.sh [--key PRIVATE_KEY] PI_GEN_DIR OUT_DIR"
    KEY_ARGS="--key $2"
    shift 2
fi
[ $# -eq 2 ] || die "usage: PI_USER_PASS=... build-pi.sh [--key PRIVATE_KEY] PI_GEN_DIR OUT_DIR"
PI_GEN=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
[ -x "$PI_GEN/build.sh" ] || die "$PI_GEN is not a pi-gen checkout (git clone -b arm64 .../pi-gen)"
[ -n "${PI_USER_PASS:-}" ] || die "set PI_USER_PASS, the maintenance user's password"
[ "$(id -u)" = 0 ] || die "run as root (pi-gen does)"
STAGE=$IMAGE_DIR/pi/stage-tillbridge
WORK=$OUT/pi-gen-work
WHEELS=$OUT/wheels
RELEASE=$OUT/release

ARCH=arm64 "$IMAGE_DIR/build-wheels.sh" "$WHEELS"
# shellcheck disable=SC2086 # KEY_ARGS is zero or two words
ARCH=arm64 "$IMAGE_DIR/build-release.sh" $KEY_ARGS "$WHEELS" "$RELEASE"

# pi-gen sources this file; the exported names reach the stage's scripts.
cat >"$PI_GEN/config" <<CONFIG
IMG_NAME=tillbridge
RELEASE=$SUITE
STAGE_LIST="stage0 stage1 stage2 $STAGE"
WORK_DIR="$WORK"
DEPLOY_DIR="$OUT/deploy"
FIRST_USER_NAME="${PI_USER:-tbadmin}"
FIRST_USER_PASS="$PI_USER_PASS"
DISABLE_FIRST_BOOT_USER_RENAME=1
ENABLE_SSH=0
# Provisioning is tillbridge.toml on the boot partition; cloud-init would be a second, slower path.
ENABLE_CLOUD_INIT=0
export TILLBRIDGE_SRC="$REPO_DIR"
export TILLBRIDGE_RELEASE="$RELEASE"
CONFIG
# Only the tillbridge root is wanted: no Lite image from stage2 (and no loop devices for pi-gen's export).
touch "$PI_GEN/stage2/SKIP_IMAGES"
(cd "$PI_GEN" && ./build.sh)

# A copy: pi-gen keeps its work folder to rebuild only what changed.
PARTS=$OUT/parts
rm -rf "$PARTS"
mkdir -p "$PARTS"
cp -a "$WORK/stage-tillbridge/rootfs" "$PARTS/root"
split_partitions "$PARTS/root" "$PARTS/boot" "$PARTS/data"
"$IMAGE_DIR/make-disk.sh" "$PARTS/root" "$PARTS/boot" "$PARTS/data" "$OUT/tillbridge-pi.img"
rm -rf "$PARTS"
log "flash $OUT/tillbridge-pi.img (docs/image.md)"
