#!/bin/sh
# Runs tillbridge from this release: the system's Python 3 with the release's lib/ first on its path.
# (bin/tillbridge of every release, docs/updates.md; image/build-release.sh puts it there.)
here=$(dirname "$(readlink -f "$0")")
PYTHONPATH="$here/../lib${PYTHONPATH:+:$PYTHONPATH}" exec python3 -P -m tillbridge "$@"
