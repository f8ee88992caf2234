#!/bin/sh
# Runs `tillbridge update ACTION [ARGS...]` for the update units, from a release known to work: the
# committed one. Never from `current`, which during an update is the release on trial, the one that may be
# broken. A box whose releases are not set up yet (a development install) falls back to the image's
# /usr/local/bin/tillbridge. docs/updates.md explains the layout.
# Runs as root: the releases (ROOT) belong to root and the agent can only read them; the agent's own folder
# (DATA) gives the updater data only (the queued request, the link marker, the store for the guards).
#   tillbridge-update.sh ACTION [ARGS...]
#   (TILLBRIDGE_ROOT overrides /opt/tillbridge, TILLBRIDGE_DATA overrides /var/lib/tillbridge)
set -eu

ROOT=${TILLBRIDGE_ROOT:-/opt/tillbridge}
DATA=${TILLBRIDGE_DATA:-/var/lib/tillbridge}

if [ $# -lt 1 ]; then
    echo "usage: tillbridge-update.sh ACTION [ARGS...]" >&2
    exit 2
fi
action=$1
shift

for tillbridge in "$ROOT/committed/bin/tillbridge" /usr/local/bin/tillbridge; do
    if [ -x "$tillbridge" ]; then
        exec "$tillbridge" update "$action" --root "$ROOT" --data-dir "$DATA" "$@"
    fi
done
echo "tillbridge-update.sh: no tillbridge to run in $ROOT/committed or /usr/local/bin" >&2
exit 1
