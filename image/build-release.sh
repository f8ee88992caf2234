#!/bin/sh
# A signed release of tillbridge from a wheelhouse (build-wheels.sh), in the format the updater installs
# (docs/updates.md): a folder with lib/ (pip install --target, for the image's Python and architecture),
# bin/tillbridge (files/release-entry.sh) and release.json, packed into tillbridge-<version>.tar.gz and
# signed. The image build seeds the box with it; the same artifact is what an update sends.
#   build-release.sh [--key PRIVATE_KEY] WHEELS OUT_DIR
# OUT_DIR gets tillbridge-<version>.tar.gz, tillbridge-<version>.json (its sha256 and signature) and
# keys/<name>.pub, the public key the image must trust. Without --key a throwaway key pair is made in OUT_DIR:
# an image trusting it refuses every update, which suits a test image, not a box.
# Environment: PYTHON (a python3 that can run this repository's tillbridge, default python3), ARCH,
# PYTHON_VERSION.
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

usage() { die "usage: build-release.sh [--key PRIVATE_KEY] WHEELS OUT_DIR"; }
KEY=
if [ "${1:-}" = --key ]; then
    [ $# -ge 2 ] || usage
    KEY=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    shift 2
fi
[ $# -eq 2 ] || usage
WHEELS=$(cd "$1" && pwd)
OUT=$2
PYTHON=${PYTHON:-python3}
MACHINE=$(machine_of "$ARCH")
tillbridge() { PYTHONPATH="$REPO_DIR${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m tillbridge "$@"; }

wheel=$(find "$WHEELS" -maxdepth 1 -name 'tillbridge-*.whl' | head -n 1)
[ -n "$wheel" ] || die "no tillbridge wheel in $WHEELS (build-wheels.sh makes them)"
VERSION=$(basename "$wheel" | cut -d- -f2)
rm -rf "$OUT"
mkdir -p "$OUT/keys"
FOLDER=$OUT/$VERSION

log "release $VERSION for $ARCH: lib/ from $WHEELS"
# Every wheel of the wheelhouse, no resolving (it is the resolved set, evdev aside: Debian's python3-evdev
# is found behind lib/). No .pyc: the host's Python is not the box's.
# shellcheck disable=SC2046 # target_options is a list of words
"$PYTHON" -m pip --disable-pip-version-check install --quiet --no-deps --no-index --no-compile \
    --only-binary=:all: --target "$FOLDER/lib" $(target_options "$MACHINE") "$WHEELS"/*.whl
# pip's own scripts hold the host's interpreter path; the release has one entry point.
rm -rf "$FOLDER/lib/bin"
install -D -m 0755 "$IMAGE_DIR/files/release-entry.sh" "$FOLDER/bin/tillbridge"

ARTIFACT=$OUT/tillbridge-$VERSION.tar.gz
tillbridge update pack "$FOLDER" --version "$VERSION" --out "$ARTIFACT" >/dev/null
if [ -z "$KEY" ]; then
    KEY=$OUT/throwaway.key
    log "no --key: signing with a throwaway key ($KEY); the image will refuse every update"
    tillbridge update keygen --out "$KEY" >/dev/null
fi
tillbridge update sign --key "$KEY" "$ARTIFACT" >"$OUT/tillbridge-$VERSION.json"
cp "$KEY.pub" "$OUT/keys/$(basename "$KEY" .key).pub"
rm -rf "$FOLDER"
log "$ARTIFACT signed: $(cat "$OUT/tillbridge-$VERSION.json")"
