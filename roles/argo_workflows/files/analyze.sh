# shellcheck shell=sh
# luban-ci: the lifecycle's analyzer, run again when its registry access check met a passing fault.
# The lifecycle retries every registry request it makes with backoff except that check (lifecycle
# 0.21: it starts an upload to prove it may push), so one 5xx there would fail the build. Run as
#   sh -c "$(cat analyze.sh)" analyze /cnb/lifecycle/analyzer ARGS...
# A refusal (401, 403, 404) and every other failure end at once with the analyzer's exit code.
attempt=1
while :; do
  out=$("$@" 2>&1)
  code=$?
  printf '%s\n' "$out"
  [ "$code" -eq 0 ] && exit 0
  case $out in
    *"failed to ensure registry"*) ;;
    *) exit "$code" ;;
  esac
  case $out in
    *"status code 5"[0-9][0-9]*|*"status code 429"*|*TOOMANYREQUESTS*|*"connection refused"*) ;;
    *"connection reset"*|*"i/o timeout"*|*"TLS handshake timeout"*|*": EOF"*) ;;
    *) exit "$code" ;;
  esac
  [ "$attempt" -ge 4 ] && exit "$code"
  wait=$((attempt * attempt * 2))
  printf 'luban-ci: the registry access check failed on a fault that passes (above); analyze runs again in %s s (attempt %s of 4).\n' "$wait" "$((attempt + 1))"
  sleep "$wait"
  attempt=$((attempt + 1))
done
