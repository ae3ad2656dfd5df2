#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine: installs Debian's docker.io when no engine
# is present and starts dockerd in the background when none is running. Idempotent; a running
# engine (systemd, Docker Desktop, OrbStack) is used as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

sock=${LUBAN_DOCKER_SOCKET:-/var/run/docker.sock}

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_answers; then
  exit 0
fi
command -v dockerd >/dev/null || apt_install docker.io
command -v docker >/dev/null || apt_install docker.io
[ "$(id -u)" -eq 0 ] || die "the Docker engine is not running and starting dockerd needs root; start it (e.g. sudo systemctl start docker) and run again"

log="$LUBAN_CACHE/dockerd.log"
mkdir -p "$LUBAN_CACHE"
say "starting dockerd in the background (log: $log)"
# setsid detaches it from make's process group so it outlives this script and the make run.
setsid dockerd --host "unix://$sock" >>"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  engine_answers && { say "Docker engine ready ($(docker version --format '{{.Server.Version}}'))"; exit 0; }
  sleep 1
done
die "dockerd did not answer on $sock within 60s; see $log"
