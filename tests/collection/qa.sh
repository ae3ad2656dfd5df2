#!/usr/bin/env bash
# Collection QA: ansible-lint (production profile), ansible-test sanity, and the collection as a
# user gets it (ansible-galaxy build + install, then a playbook using its plugins and a role by
# FQCN from the installed tarball only).
#
# usage: qa.sh [lint] [sanity] [integration] [galaxy]   (no argument: all; each reports its time)
# Every step runs even when an earlier one fails, so one run shows every problem.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/tests/collection"
cache=${LUBAN_CACHE:-$HOME/.cache/luban-ci}
ca_bundle=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(lint sanity integration galaxy)

say() { printf '==> %s\n' "$*" >&2; }

lint() {
  # ansible-lint searches ANSIBLE_HOME's collections (~/.ansible/collections) before this checkout:
  # an older luban.ci installed there would hide this one's plugins. Its own, empty, home instead.
  mkdir -p "$cache/collection-qa/lint-home" &&
    cd "$repo" && ANSIBLE_HOME="$cache/collection-qa/lint-home" NO_COLOR=1 ansible-lint --profile production --nocolor
}

# ansible-test insists on <root>/ansible_collections/<namespace>/<name>. The copy lives in the cache
# so the venvs ansible-test creates under its tests/output survive between runs.
sanity() {
  local root="$cache/collection-qa/sanity" home="$cache/collection-qa/ansible-test-home" target pip_version
  target=$("$here/stage.sh" "$root") || return 1
  # Without shellcheck ansible-test skips its shellcheck test with only a warning.
  (. "$repo/scripts/lib.sh" && apt_install shellcheck) || return 1
  # ansible-test bootstraps pip in its venvs with a script from ci-files.testing.ansible.com, which
  # build machines cannot reach; it takes a pre-placed script from ~/.ansible/test/cache instead.
  # HOME is pointed into the cache so that script, and pip's CA setting (ansible-test passes pip
  # no environment beyond HOME and PATH), live there too.
  pip_version=$(python -c 'import re, ansible_test._internal.python_requirements as r, inspect; print(re.search(r"pip=.([0-9.]+)", inspect.getsource(r.get_venv_packages)).group(1))') || return 1
  mkdir -p "$home/.ansible/test/cache" "$home/.config/pip"
  cp "$here/get_pip.py" "$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  if [ -f "$ca_bundle" ]; then
    printf '[global]\ncert = %s\n' "$ca_bundle" >"$home/.config/pip/pip.conf"
  fi
  (cd "$target" && HOME="$home" ansible-test sanity --venv --requirements --python 3.12 --color no)
}

# The ansible-test integration targets (tests/integration/targets), run on the controller with the
# tooling venv's Ansible: they need no containers and no extra packages.
integration() {
  local target
  target=$("$here/stage.sh" "$cache/collection-qa/sanity") || return 1
  (cd "$target" && ansible-test integration --local --python 3.12 --color no)
}

galaxy() {
  local work="$cache/collection-qa/galaxy" src collections tarball
  # A fresh place each run (kept afterwards for inspection): nothing from a previous run counts.
  rm -rf "$work" && mkdir -p "$work"
  src=$("$here/stage.sh" "$work/src") || return 1
  collections="$work/collections"
  # Only the installed copy (and the collections bundled on sys.path) may provide luban.ci: the
  # repository's ansible.cfg, which links the checkout as luban.ci, is replaced for this step.
  # localhost's modules run on the Python that runs Ansible, as the repository's ansible.cfg has it.
  printf '[defaults]\ncollections_path = %s\ninterpreter_python = %s\nretry_files_enabled = false\n' \
    "$collections" "$(python -c 'import sys; print(sys.executable)')" >"$work/ansible.cfg"
  export ANSIBLE_CONFIG="$work/ansible.cfg"
  (cd "$src" && ansible-galaxy collection build --output-path "$work/dist") || return 1
  tarball=$(ls "$work"/dist/luban-ci-*.tar.gz)
  # --no-deps: the dependencies come bundled with the ansible package; Galaxy is not consulted.
  ansible-galaxy collection install --no-deps -p "$collections" "$tarball" || return 1
  local listed
  listed=$(cd "$work" && ansible-galaxy collection list luban.ci 2>/dev/null | grep -E '^# ')
  if [ "$listed" != "# $collections/ansible_collections" ]; then
    say "luban.ci is visible from somewhere other than the installed tarball: $listed"
    return 1
  fi
  (cd "$work" && LUBAN_CACHE="$cache" ansible-playbook -i localhost, "$here/installed.yml" -e "qa_dir=$work/play")
}

failed=()
for step in "${steps[@]}"; do
  say "collection QA: $step"
  start=$(date +%s)
  if "$step"; then
    say "collection QA: $step passed in $(( $(date +%s) - start ))s"
  else
    say "collection QA: $step FAILED after $(( $(date +%s) - start ))s"
    failed+=("$step")
  fi
done
[ ${#failed[@]} -eq 0 ] || { say "collection QA failed: ${failed[*]}"; exit 1; }
