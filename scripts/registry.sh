#!/usr/bin/env bash
# Starts the local OCI registry (CNCF distribution, built from tools/cnb/go.mod) on
# 127.0.0.1:${LUBAN_REGISTRY_PORT:-5000} unless one already answers there. Idempotent.
# Storage lives in $LUBAN_CACHE/registry so images survive restarts and fresh clones.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

port=${LUBAN_REGISTRY_PORT:-5000}
addr="127.0.0.1:$port"
answers() { curl -fs -o /dev/null --max-time 2 "http://$addr/v2/"; }
if answers; then
  exit 0
fi
tools=$("$here/tools.sh")
dir="$LUBAN_CACHE/registry"
mkdir -p "$dir/data"
cat >"$dir/config-$port.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr
YAML
say "starting the local registry on $addr (log: $dir/registry-$port.log)"
setsid "$tools/bin/registry" serve "$dir/config-$port.yml" >>"$dir/registry-$port.log" 2>&1 </dev/null &
echo $! >"$dir/registry-$port.pid"
for _ in $(seq 1 30); do
  answers && exit 0
  sleep 0.5
done
die "the local registry did not answer on $addr within 15s; see $dir/registry-$port.log (is the port taken? set LUBAN_REGISTRY_PORT)"
