#!/bin/sh
# The stack's package step, the only part that differs between base distributions.
#   luban-packages install PKG...     install packages with the distribution's package manager
#   luban-packages user NAME UID GID   add a numeric user and group without shadow-utils
#   luban-packages harden REMOVE_PM    clear setuid/setgid bits, drop caches and (optionally) the
#                                      package manager front-end
# Plain POSIX sh and coreutils only: AL2023 minimal has no useradd, grep or find by default.
set -eu

install() {
  [ "$#" -gt 0 ] || return 0
  if command -v microdnf >/dev/null 2>&1; then
    microdnf install -y --nodocs --setopt=install_weak_deps=0 "$@"
    microdnf clean all
  elif command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@"
    apt-get clean
  else
    echo "no supported package manager (microdnf, apt-get) in the base image" >&2
    exit 1
  fi
  rm -rf /var/cache/dnf /var/lib/apt/lists/* /var/log/dnf* /var/log/apt /var/cache/apt/*.bin
}

remove() {
  if command -v microdnf >/dev/null 2>&1; then
    rpm -e --nodeps "$@"
  else
    dpkg --purge --force-remove-essential --force-depends "$@" >/dev/null
  fi
}

# (sh has no local variables: the loop's names must not clash with user()'s.)
has_group() {
  while IFS=: read -r _g_name _g_pw g_id _g_rest; do
    [ "$g_id" = "$1" ] && return 0
  done </etc/group
  return 1
}

user() {
  name=$1 uid=$2 gid=$3
  has_group "$gid" || echo "cnb:x:${gid}:" >>/etc/group
  echo "${name}:x:${uid}:${gid}:${name}:/home/${name}:/bin/sh" >>/etc/passwd
  if [ -f /etc/shadow ]; then echo "${name}:!:19000::::::" >>/etc/shadow; fi
  mkdir -p "/home/${name}"
  chown "${uid}:${gid}" "/home/${name}"
  chmod 0750 "/home/${name}"
}

harden() {
  borrowed=""
  if ! command -v find >/dev/null 2>&1; then
    install findutils
    borrowed=findutils
  fi
  find / -xdev -type f -perm /6000 -exec chmod ug-s {} +
  [ -z "$borrowed" ] || remove "$borrowed"
  if [ "$1" = true ]; then
    # The package database stays, so scanners can still list what the image contains.
    if command -v microdnf >/dev/null 2>&1; then
      rpm -e --nodeps microdnf libdnf dnf-data 2>/dev/null || rpm -e --nodeps microdnf
    elif command -v apt-get >/dev/null 2>&1; then
      remove apt
    fi
  fi
  rm -rf /var/cache/* /var/log/* /tmp/* /root/.cache
}

cmd=$1
shift
"$cmd" "$@"
