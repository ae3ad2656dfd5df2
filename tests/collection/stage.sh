#!/usr/bin/env bash
# Places the collection's files (git-tracked plus new, not ignored: what a clone would hold, plus
# local edits) under DEST/ansible_collections/luban/ci, the layout ansible-test insists on.
# The copy's tests/output is kept between runs: ansible-test caches its sanity venvs there.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dest=${1:?usage: stage.sh DEST}
target="$dest/ansible_collections/luban/ci"
mkdir -p "$target/tests"
find "$target" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$target/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
cd "$repo"
# Only what ships is checked: leave out galaxy.yml's build_ignore folders (tools, bench, mk, ...).
ignored=$(sed -n '/^build_ignore:/,/^[^ ]/s/^  - \([A-Za-z0-9._/-]*\)$/\1/p' galaxy.yml | paste -sd'|')
git ls-files -z --cached --others --exclude-standard \
  | grep -zvE "^(${ignored//./\\.})(/|\$)" \
  | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null \
  | tar -xf - -C "$target"
echo "$target"
