#!/usr/bin/env bash
# Builds the Go tools pinned in tools/go.mod (lifecycle, launcher, pack, registry, crane) and the
# lifecycle tarball that builder.toml's `[lifecycle] uri` points at. Tests and the local default
# use these because the build machines cannot download release assets; users install pack and
# let pack fetch the lifecycle by version.
#
# Output is cached by content under $LUBAN_CACHE/tools/<hash>/ (hash of tools/go.mod, go.sum and
# this script), so a warm cache costs nothing. Prints that directory on stdout:
#   bin/{pack,crane,registry,lifecycle,launcher}   lifecycle-<version>.tgz
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mod="$here/../tools"

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "Go is needed to build the pinned tools (pack, lifecycle, registry, crane) from tools/go.mod; install Go >= 1.26 (e.g. under /usr/local/go)"

key=$(cat "$mod/go.mod" "$mod/go.sum" "$mod/lifecycle-descriptor/main.go" "$0" | sha256sum | cut -c1-16)
dest="$LUBAN_CACHE/tools/$key"
mkdir -p "$LUBAN_CACHE/tools"
# One build at a time: make targets and playbooks may ask for the tools concurrently.
exec 9>"$LUBAN_CACHE/tools/.lock"
flock 9
if [ -f "$dest/.complete" ]; then
  ln -sfn "$dest" "$LUBAN_CACHE/tools/current"
  echo "$dest"
  exit 0
fi

# version MODULE: the version tools/go.mod pins for MODULE.
version() { (cd "$mod" && go list -m -f '{{.Version}}' "$1"); }
lifecycle_version=$(version github.com/buildpacks/lifecycle)
pack_version=$(version github.com/buildpacks/pack)
crane_version=$(version github.com/google/go-containerregistry)
registry_version=$(version github.com/distribution/distribution/v3)

work="$dest.partial"
rm -rf "$work"
mkdir -p "$work/bin"
export CGO_ENABLED=0 GOFLAGS=-trimpath
start=$(date +%s)
build() {  # build OUTPUT PACKAGE LDFLAGS
  say "building $1 ($2)"
  (cd "$mod" && go build -ldflags "-s -w $3" -o "$work/bin/$1" "$2")
}
build lifecycle github.com/buildpacks/lifecycle/cmd/lifecycle \
  "-X github.com/buildpacks/lifecycle/cmd.Version=${lifecycle_version#v} -X github.com/buildpacks/lifecycle/cmd.SCMRepository=github.com/buildpacks/lifecycle"
build launcher github.com/buildpacks/lifecycle/cmd/launcher \
  "-X github.com/buildpacks/lifecycle/cmd.Version=${lifecycle_version#v}"
build crane github.com/google/go-containerregistry/cmd/crane \
  "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$crane_version"
build registry github.com/distribution/distribution/v3/cmd/registry \
  "-X github.com/distribution/distribution/v3/version.version=$registry_version"
build pack github.com/buildpacks/pack \
  "-X github.com/buildpacks/pack/pkg/client.Version=${pack_version#v}"

# The lifecycle tarball: lifecycle.toml plus lifecycle/ with the binaries and the phase symlinks,
# the layout pack expects for `[lifecycle] uri`. Fixed owner and mtime keep it reproducible.
stage="$work/stage"
mkdir -p "$stage/lifecycle"
cp "$work/bin/lifecycle" "$work/bin/launcher" "$stage/lifecycle/"
for phase in detector analyzer restorer builder exporter rebaser creator extender; do
  ln -s lifecycle "$stage/lifecycle/$phase"
done
(cd "$mod" && go run ./lifecycle-descriptor "${lifecycle_version#v}") >"$stage/lifecycle.toml"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' -czf \
  "$work/lifecycle-${lifecycle_version#v}.tgz" lifecycle.toml lifecycle
rm -rf "$stage"
cat >"$work/versions.env" <<EOF
LIFECYCLE_VERSION=${lifecycle_version#v}
PACK_VERSION=${pack_version#v}
CRANE_VERSION=$crane_version
REGISTRY_VERSION=$registry_version
EOF
say "tools built in $(( $(date +%s) - start ))s"
touch "$work/.complete"
rm -rf "$dest"
mv "$work" "$dest"
ln -sfn "$dest" "$LUBAN_CACHE/tools/current"
echo "$dest"
