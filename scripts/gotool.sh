#!/usr/bin/env bash
# Builds one Go module under tools/<name>/ and prints the cache directory holding its output
# (bin/ and whatever its recipe adds). Every Go-built program of the project (build-machine
# tools, test helpers, the test cluster's components) is built by this one script:
#   - tools/<name>/go.mod and go.sum pin the versions; tools/<name>/recipe.sh says what to build
#     by defining `recipe`, which calls the helpers below;
#   - the output is cached under $LUBAN_CACHE/gotools/<name>/<key>, where key hashes the module's
#     files, this script and the Go version: a warm cache costs nothing, a changed pin rebuilds;
#   - one build of a tool at a time (flock), written to <key>.partial and renamed when complete.
# Go's module and build caches stay in their defaults (~/go/pkg/mod, ~/.cache/go-build), which
# outlive a fresh clone. Usage: scripts/gotool.sh NAME   (LUBAN_GOTOOL_QUIET=1: no progress)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
name=${1:?usage: scripts/gotool.sh NAME (one of: $(ls "$here/../tools" | tr '\n' ' '))}
src="$here/../tools/$name"
[ -f "$src/recipe.sh" ] || die "no Go tool named '$name': tools/$name/recipe.sh does not exist (tools: $(ls "$here/../tools" | tr '\n' ' '))"

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "Go is needed to build tools/$name from its Go module; install Go >= 1.26 (e.g. under /usr/local/go)"

key=$( (cd "$src" && find . -path ./src -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum; \
        sha256sum <"$here/gotool.sh"; go version) | sha256sum | cut -c1-16)
root="$LUBAN_CACHE/gotools/$name"
dest="$root/$key"
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
if [ ! -f "$dest/.complete" ]; then
  work="$dest.partial"
  rm -rf "$work"
  mkdir -p "$work/bin"
  # The recipe runs in a copy of the module, so build-time files (./src) never land in the tree.
  cp -R "$src" "$work/mod"
  out="$work"
  cd "$work/mod"

  # go_build OUTPUT PACKAGE [LDFLAGS...]: a static, trimmed, stripped binary into bin/OUTPUT.
  go_build() {
    local output=$1 package=$2; shift 2
    [ "${LUBAN_GOTOOL_QUIET:-}" = 1 ] || say "building $name: $output ($package)"
    CGO_ENABLED=0 go build -mod=readonly -trimpath ${GO_TAGS:+-tags "$GO_TAGS"} \
      -ldflags "-s -w $*" -o "$out/bin/$output" "$package"
  }
  # pinned MODULE: the version go.mod pins for MODULE.
  pinned() { go list -mod=readonly -m -f '{{if .Replace}}{{.Replace.Version}}{{end}}{{.Version}}' "$1" | head -c 200; }
  # module_source MODULE VERSION DEST: a writable copy of a module's published source.
  module_source() {
    local dir
    dir=$(GOFLAGS=-mod=mod go mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir" ] || die "could not download $1@$2 from the Go module proxy"
    cp -R "$dir" "$3"
    chmod -R u+w "$3"
  }

  start=$(date +%s)
  # shellcheck source=/dev/null
  . ./recipe.sh
  recipe
  seconds=$(( $(date +%s) - start ))
  echo "$seconds" >"$work/build-seconds"
  [ "${LUBAN_GOTOOL_QUIET:-}" = 1 ] || say "$name built in ${seconds}s"
  cd "$root"
  rm -rf "$work/mod"
  touch "$work/.complete"
  rm -rf "$dest"
  mv "$work" "$dest"
fi
ln -sfn "$key" "$root/current"
echo "$dest"
