#!/usr/bin/env bash
# Builds the buildx client pinned in bench/buildx/go.mod from the Go module proxy, for the
# benchmark's baseline only. The machine's docker CLI (28.x) ships without the buildx plugin and
# its daemon (docker.io 20.10) has BuildKit built in; buildx's `docker` driver talks to that
# built-in BuildKit. The binary is run standalone (`buildx build ...`), so no Docker CLI plugin
# directory or config is touched.
# Cached by content under $LUBAN_CACHE/bench/buildx/<hash>/; prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../scripts/lib.sh"
mod="$here/buildx"
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "Go is needed to build buildx for the benchmark's baseline from bench/buildx/go.mod; install Go >= 1.26 (e.g. under /usr/local/go)"
: "${LUBAN_CACHE:=$HOME/.cache/luban-ci}"
key=$(cat "$mod/go.mod" "$mod/go.sum" "$0" | sha256sum | cut -c1-16)
dest="$LUBAN_CACHE/bench/buildx/$key"
if [ ! -x "$dest/buildx" ]; then
  mkdir -p "$dest"
  version=$(cd "$mod" && go list -m -f '{{.Version}}' github.com/docker/buildx)
  say "Building buildx $version (once; cached in $dest)" >&2
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/docker/buildx/version.Version=$version" \
    -o "$dest/buildx.partial" github.com/docker/buildx/cmd/buildx)
  mv "$dest/buildx.partial" "$dest/buildx"
fi
echo "$dest/buildx"
