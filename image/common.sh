# shellcheck shell=sh disable=SC2034
# Shared settings and helpers of the image scripts (sourced, not run; SC2034: the scripts that source it use
# the values). Every value can be overridden from the environment; docs/image.md describes the layout.

# The Debian release and the Python it ships: the wheels are fetched for this Python.
SUITE=${SUITE:-trixie}
PYTHON_VERSION=${PYTHON_VERSION:-3.13}
# amd64 for the CI image booted under qemu; arm64 for a Raspberry Pi.
ARCH=${ARCH:-amd64}

# Partitions, found by label (the initramfs resolves root=LABEL=, fstab mounts the others by label).
BOOT_LABEL=${BOOT_LABEL:-bootfs}
ROOT_LABEL=${ROOT_LABEL:-rootfs}
DATA_LABEL=${DATA_LABEL:-tbdata}
BOOT_MOUNT=/boot/firmware
DATA_MOUNT=/data
# Sizes in MiB. The root gets ROOT_SLACK_MB on top of what its files need.
BOOT_MB=${BOOT_MB:-128}
DATA_MB=${DATA_MB:-512}
ROOT_SLACK_MB=${ROOT_SLACK_MB:-128}

# The caller sets IMAGE_DIR (this folder) before sourcing.
REPO_DIR=$(cd "$IMAGE_DIR/.." && pwd)

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "$*"; exit 1; }

# Fails with the Debian package to install when a host tool is missing.
need() { # command package
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ||
        die "$1 not found: install the Debian package $2"
}

# Python's name for the machine (wheel platform tags) from Debian's architecture name.
machine_of() {
    case $1 in
        amd64) echo x86_64 ;;
        arm64) echo aarch64 ;;
        *) die "unsupported architecture $1 (amd64 or arm64)" ;;
    esac
}

# The package list of packages.txt, comments and blank lines left out, separated by $1 (default: a space).
packages() {
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$IMAGE_DIR/packages.txt" | paste -sd "${1:- }" -
}

# Moves what the boot and data partitions hold out of a root folder into two folders (make-disk.sh's
# inputs), leaving the root its empty mount points.
split_partitions() { # root boot-dir data-dir
    mkdir -p "$2" "$3"
    find "$1$BOOT_MOUNT" -mindepth 1 -maxdepth 1 -exec mv -t "$2" {} +
    find "$1$DATA_MOUNT" -mindepth 1 -maxdepth 1 -exec mv -t "$3" {} +
}

# pip's --platform options for binary wheels the image's C library accepts (trixie: glibc 2.41): pip takes
# each tag literally, so every manylinux level is listed.
platform_options() { # machine
    printf -- '--platform manylinux2014_%s' "$1"
    minor=17
    while [ "$minor" -le "${GLIBC_MINOR:-41}" ]; do
        printf -- ' --platform manylinux_2_%s_%s' "$minor" "$1"
        minor=$((minor + 1))
    done
}

# pip's options that select wheels for the image's Python rather than the host's.
target_options() { # machine
    echo "--python-version $PYTHON_VERSION --implementation cp --abi cp$(echo "$PYTHON_VERSION" | tr -d .)" \
        "--abi abi3 --abi none $(platform_options "$1")"
}
