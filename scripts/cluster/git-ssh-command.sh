#!/usr/bin/env bash
# The forced command of the e2e sshd's only key (scripts/cluster/services.sh): runs git's own
# upload-pack / receive-pack on a repository under ROOT, named as in ssh://HOST/OWNER/NAME.git,
# and refuses anything else (no shell, no path outside ROOT). Usage: git-ssh-command.sh ROOT
set -euo pipefail
root=$1
re="^(git-upload-pack|git-receive-pack|git-upload-archive) '/?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\.git)'$"
if [[ ! ${SSH_ORIGINAL_COMMAND:-} =~ $re ]] || [[ ${BASH_REMATCH[2]} == *..* ]]; then
  echo "luban-e2e git: only git fetch/push of OWNER/NAME.git is served here" >&2
  exit 1
fi
repo="$root/${BASH_REMATCH[2]}"
[ -d "$repo" ] || { echo "luban-e2e git: no repository ${BASH_REMATCH[2]}" >&2; exit 1; }
exec "${BASH_REMATCH[1]}" "$repo"
