#!/usr/bin/env bash
# Run a command with networking switched off: in a new network namespace whose only interface
# is loopback. `make check` runs the unit tiers through this, so "no network" is checked on
# every run, not only claimed. It needs root (a user namespace would run the tests as uid 0
# inside, which some of them treat differently); otherwise it says so and runs the command as is.
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: scripts/offline.sh COMMAND [ARG...]" >&2; exit 2; }
if ! command -v ip >/dev/null; then
  :  # no iproute2: loopback could not be brought up in the namespace
elif [[ $(id -u) -eq 0 ]] && unshare -n true 2>/dev/null; then
  exec unshare -n sh -c 'ip link set lo up && exec "$@"' offline "$@"
fi
echo "offline.sh: cannot create a network namespace with loopback here (needs unshare and ip);" \
  "running with the network on" >&2
exec "$@"
