# Shared helpers for the scripts in this folder. Source it; do not run it.
# Caches live outside the work tree so a fresh clone (as in CI) reuses them.
LUBAN_CACHE=${LUBAN_CACHE:-$HOME/.cache/luban-ci}
export LUBAN_CACHE

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt_install PKG...: install the Debian packages that are missing, once.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing Debian packages ${missing[*]} and no apt-get to install them"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  local stamp="$LUBAN_CACHE/apt-updated"
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720 2>/dev/null)" ]; then
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq && mkdir -p "$LUBAN_CACHE" && touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
