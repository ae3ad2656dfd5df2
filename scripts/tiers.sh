#!/usr/bin/env bash
# Run test tiers in order, each one's output shown and kept in out/test-logs/<tier>.log. On the
# first failure, stop and print, last, the lines of that tier's log that say why — a CI page that
# shows only the end of the output still shows the cause, not only make's "Error 2".
#   scripts/tiers.sh TIER...        (the Makefile passes TEST_TIERS or the check tiers)
# LUBAN_TIER_WRAPPER, when set, is a command each tier runs under (make check: scripts/offline.sh).
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: scripts/tiers.sh TIER..." >&2; exit 2; }
logs=${LUBAN_TEST_LOGS:-out/test-logs}
mkdir -p "$logs"
# What marks the cause in our tiers' output: pytest, Ansible/Molecule, make, Go, shell scripts.
CAUSE='^(E  |FAILED |ERROR)|FAILED after|fatal: \[|FAILED!|failed=[1-9]|msg:|Traceback|Error:|error:|\*\*\* |No such file|not found|timed out|Timeout'

for tier in "$@"; do
  echo "=== tier: $tier"
  start=$(date +%s)
  log="$logs/$tier.log"
  if ${LUBAN_TIER_WRAPPER:-} "${MAKE:-make}" --no-print-directory "$tier" 2>&1 | tee "$log"; then
    echo "=== tier $tier passed in $(( $(date +%s) - start ))s"
    continue
  fi
  echo
  echo "=== tier $tier FAILED after $(( $(date +%s) - start ))s; the lines of its log that say why"
  echo "=== (whole log: $log):"
  # ANSI colours out, then the cause lines with a little context: the first 15 and the last 25
  # (tiers that test refusals print expected failures too; the real one may come first or last).
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E -A2 -- "$CAUSE" | grep -v -- '^--$' \
    | awk '{ line[NR] = $0 } END { for (i = 1; i <= NR; i++) if (i <= 15 || i > NR - 25) print line[i]; else if (i == 16) print "  [...]" }' || true
  echo "=== tier $tier FAILED"
  exit 1
done
