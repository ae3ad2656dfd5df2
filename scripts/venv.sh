#!/usr/bin/env bash
# Creates (or reuses) the Python environment of the project's tooling from requirements.txt.
# Idempotent: the venv is keyed by the hash of requirements.txt and reused while it matches.
# Prints the venv path on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
req="$here/../requirements.txt"
want_minor=${LUBAN_PYTHON_MINOR:-3.12}

find_python() {
  local c
  for c in "python$want_minor" "$HOME"/.pyenv/versions/"$want_minor".*/bin/python /usr/bin/python"$want_minor"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import venv, ensurepip' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

key=$(cat "$req" | sha256sum | cut -c1-16)
venv="$LUBAN_CACHE/venv-$key"
if [ ! -x "$venv/bin/ansible-playbook" ] || [ ! -f "$venv/.complete" ]; then
  py=$(find_python) || die "Python $want_minor is needed for the tooling venv (ansible-core needs >= 3.12); install it (e.g. pyenv install $want_minor) or set LUBAN_PYTHON_MINOR"
  say "creating tooling venv $venv with $py"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  uv_pin=$(grep -E '^uv==' "$req")
  "$venv/bin/pip" install -q --disable-pip-version-check "$uv_pin"
  "$venv/bin/uv" pip sync -q --python "$venv/bin/python" "$req"
  touch "$venv/.complete"
fi
ln -sfn "$venv" "$LUBAN_CACHE/venv"
echo "$venv"
