#!/bin/sh
# A wheelhouse for installing tillbridge offline into the image: the app's own wheel, built here from the
# repository (pure Python, without the simulators package), and every dependency as a binary wheel for the image's Python (PYTHON_VERSION)
# and architecture (ARCH), fetched with `pip download --platform`. That works from any build host, whatever
# its own Python and architecture, with no compiler and no emulation.
# evdev is left out: it publishes no binary wheels, and the image's venv uses Debian's python3-evdev
# through --system-site-packages instead.
#   build-wheels.sh OUT_DIR
# Environment: PYTHON (a python3 with pip on the host, default python3), ARCH, PYTHON_VERSION.
set -eu

IMAGE_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091 # checked on its own
. "$IMAGE_DIR/common.sh"

[ $# -eq 1 ] || die "usage: build-wheels.sh OUT_DIR"
OUT=$1
PYTHON=${PYTHON:-python3}
MACHINE=$(machine_of "$ARCH")
PIP="$PYTHON -m pip --disable-pip-version-check"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip: install the Debian package python3-pip"

rm -rf "$OUT"
mkdir -p "$OUT"
log "building the tillbridge wheel"
# From a copy: setuptools leaves build/ and *.egg-info in the tree it builds.
SOURCE=$(mktemp -d)
trap 'rm -rf "$SOURCE"' EXIT
tar -C "$REPO_DIR" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
    --exclude=__pycache__ -cf - . | tar -C "$SOURCE" -xf -
# The box's wheel: no simulators (the demo's shops, scales and scanners are not deployed on a Pi). The
# bridge's dependencies are the `bridge` extra, which the requirements below leave out.
rm -rf "$SOURCE/simulators"
$PIP wheel --quiet --no-deps --wheel-dir "$OUT" "$SOURCE"
WHEEL=$(find "$OUT" -maxdepth 1 -name 'tillbridge-*.whl')

# The app's requirements as its wheel states them, without evdev and without the extras.
"$PYTHON" - "$WHEEL" >"$OUT/requirements.txt" <<'PY'
import sys
import zipfile
from email.parser import Parser

with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(name).decode())
for requirement in metadata.get_all("Requires-Dist") or []:
    if "extra ==" not in requirement and not requirement.startswith("evdev"):
        print(requirement)
PY

log "fetching the dependencies as wheels for Python $PYTHON_VERSION on $MACHINE"
# shellcheck disable=SC2046 # target_options is a list of words
$PIP download --quiet --only-binary=:all: --dest "$OUT" --requirement "$OUT/requirements.txt" \
    $(target_options "$MACHINE")
log "$(find "$OUT" -name '*.whl' | wc -l) wheels in $OUT"
