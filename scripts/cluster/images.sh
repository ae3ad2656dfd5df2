#!/usr/bin/env bash
# Builds and pushes every image the luban-ci test cluster pulls, to the local registry as
# 127.0.0.1:5000/luban-cluster/<name>:<key>, and records the references in
# $LUBAN_CACHE/cluster/images.env (IMAGE_PAUSE=..., one shell assignment per image).
#
# TEST INFRASTRUCTURE ONLY, never part of the collection: no public registry is reachable from the
# machines that build and test luban-ci, so the platform the collection expects (Kubernetes'
# pause and CoreDNS, local-path-provisioner, Argo Workflows, Argo Events with NATS, Argo CD with
# redis) is assembled here from the Go-built binaries (scripts/gotool.sh) and Debian programs.
#
# Each image is a rootfs staged under $LUBAN_CACHE/cluster/images/<name>/ (static binaries; a CA
# bundle, passwd/group naming the uid it runs as, nsswitch.conf; dynamic Debian programs with their
# `ldd` closure) plus its Dockerfile from files/cluster/images/<name>/ (FROM scratch). The tag
# hashes everything staged and the Dockerfile, so an unchanged image is neither rebuilt nor pushed
# again: a second run only re-stages (hard links) and asks the registry.
# Usage: scripts/cluster/images.sh [NAME...]   (default: every image)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

registry=$CLUSTER_LOCAL_REGISTRY
prefix="$registry/luban-cluster"
recipes="$CLUSTER_FILES/images"
work="$CLUSTER_CACHE/images"
env_file="$CLUSTER_CACHE/images.env"
all=(pause coredns local-path helper workflow-controller argoexec argo-events nats nats-sidecar argocd redis)

# The environment variable naming each image in images.env (local-path -> IMAGE_LOCAL_PATH).
var_of() { echo "IMAGE_$(echo "$1" | tr 'a-z-' 'A-Z_')"; }

# gotool NAME: the bin/ directory of a Go-built tool (blocks while the build queue builds it).
gotool() {
  local dir
  dir=$(LUBAN_GOTOOL_QUIET=1 "$root/scripts/gotool.sh" "$1") || die "building the Go tool $1 failed (scripts/gotool.sh $1)"
  echo "$dir/bin"
}

# put SRC DEST: place SRC at rootfs path DEST, a hard link when possible (the files are never
# modified in place), a copy otherwise; symbolic links are kept as links.
put() {
  local src=$1 dest=$rootfs$2
  mkdir -p "$(dirname "$dest")"
  if [ -L "$src" ]; then
    cp -P "$src" "$dest"
  else
    ln -f "$src" "$dest" 2>/dev/null || cp -p "$src" "$dest"
  fi
}

# text DEST MODE: write stdin to rootfs path DEST.
text() {
  mkdir -p "$(dirname "$rootfs$1")"
  cat >"$rootfs$1"
  chmod "$2" "$rootfs$1"
}

# base UID NAME [HOME]: what every image has: CA bundle, passwd/group with root and the user
# the image runs as, nsswitch.conf (files first, as glibc and Go expect), a world-writable /tmp.
base() {
  local uid=$1 name=$2 home=${3:-/nonexistent}
  put /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
  {
    echo "root:x:0:0:root:/root:/sbin/nologin"
    [ "$uid" = 0 ] || echo "$name:x:$uid:$uid:$name:$home:/sbin/nologin"
    echo "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin"
  } | text /etc/passwd 0644
  {
    echo "root:x:0:"
    [ "$uid" = 0 ] || echo "$name:x:$uid:"
    echo "nogroup:x:65534:"
  } | text /etc/group 0644
  printf 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\n' | text /etc/nsswitch.conf 0644
  mkdir -p "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
}

# closure FILE...: every shared library (and the loader) the given ELF files need, per ldd.
closure() {
  { ldd "$@" 2>/dev/null || true; } | awk '/=> \//{print $3} /^\t\//{print $1}' | sort -u
}

# elf FILE...: those of the files that are ELF executables or libraries.
elf() {
  local f magic
  for f in "$@"; do
    LC_ALL=C read -r -N 4 magic <"$f" 2>/dev/null || true
    [ "$magic" != $'\x7fELF' ] || echo "$f"
  done
}

# with_libs FILE...: place each file's shared-library closure at the paths ldd reports.
with_libs() {
  local lib
  for lib in $(closure "$@"); do
    put "$(readlink -f "$lib")" "$lib"
  done
}

# busybox_applets DIR [APPLET...]: Debian's static busybox at DIR/busybox and a link per applet
# (every applet when none is named).
busybox_applets() {
  local dir=$1; shift
  put /bin/busybox "$dir/busybox"
  local applets=("$@") a
  [ ${#applets[@]} -gt 0 ] || mapfile -t applets < <(/bin/busybox --list)
  for a in "${applets[@]}"; do
    [ -e "$rootfs$dir/$a" ] || ln -s busybox "$rootfs$dir/$a"
  done
}

stage_pause() { base 65535 pause; put /usr/bin/catatonit /catatonit; }
stage_coredns() { local b; b=$(gotool coredns); base 65532 nonroot; put "$b/coredns" /coredns; }
stage_local-path() {
  local b; b=$(gotool local-path-provisioner)
  base 65532 nonroot
  put "$b/local-path-provisioner" /usr/bin/local-path-provisioner
}
stage_helper() { base 0 root; busybox_applets /bin; }
stage_workflow-controller() {
  local b; b=$(gotool argo-workflows)
  base 8737 argo
  put "$b/workflow-controller" /bin/workflow-controller
}
stage_argoexec() {
  local b; b=$(gotool argo-workflows)
  base 8737 argo
  put "$b/argoexec" /bin/argoexec
  put /etc/mime.types /etc/mime.types
}
stage_argo-events() {
  local b; b=$(gotool argo-events)
  base 9731 argo-events
  put "$b/argo-events" /bin/argo-events
  mkdir -p "$rootfs/usr/share"
  cp -al /usr/share/zoneinfo "$rootfs/usr/share/zoneinfo"
}
stage_nats() { local b; b=$(gotool nats); base 9731 nats; put "$b/nats-server" /nats-server; }
stage_nats-sidecar() {
  base 9731 nats
  busybox_applets /bin sh sleep
  text /usr/local/bin/standin 0755 <"$recipes/nats-sidecar/standin.sh"
}
stage_argocd() {
  base 999 argocd /home/argocd
  local bin kustomize cmd
  bin=$(gotool argocd)
  kustomize=$(gotool kustomize)
  put "$bin/argocd" /usr/local/bin/argocd
  for cmd in server repo-server cmp-server application-controller applicationset-controller \
             dex notifications k8s-auth commit-server; do
    ln -s argocd "$rootfs/usr/local/bin/argocd-$cmd"
  done
  put "$kustomize/kustomize" /usr/local/bin/kustomize
  put /usr/bin/catatonit /usr/bin/catatonit
  busybox_applets /bin sh cp mkdir rm ls cat env
  # git with its helpers (git-remote-https, ...) and templates, ssh for SSH repositories; the
  # loader resolves their libraries from the paths ldd reported on this Debian machine.
  put /usr/bin/git /usr/bin/git
  mkdir -p "$rootfs/usr/lib" "$rootfs/usr/share/git-core"
  cp -al /usr/lib/git-core "$rootfs/usr/lib/git-core"
  cp -al /usr/share/git-core/templates "$rootfs/usr/share/git-core/templates"
  put /usr/bin/ssh /usr/bin/ssh
  local elves
  mapfile -t elves < <(find /usr/bin/git /usr/bin/ssh /usr/lib/git-core -type f)
  mapfile -t elves < <(elf "${elves[@]}")
  with_libs "${elves[@]}"
  mkdir -p "$rootfs/etc/ssh" "$rootfs/app/config/ssh"
  ln -s /app/config/ssh/ssh_known_hosts "$rootfs/etc/ssh/ssh_known_hosts"
  mkdir -p "$ctx/home/argocd"
}
stage_redis() {
  base 999 redis
  # Debian's redis-server is a link to redis-check-rdb (redis-tools); redis picks its mode from
  # argv[0], so the file is placed under the server's name.
  put "$(readlink -f /usr/bin/redis-check-rdb)" /usr/bin/redis-server
  with_libs /usr/bin/redis-check-rdb
}

# content_key: sets $key, a hash of the staged context (paths, types, modes, link targets, file contents).
# File digests are remembered by device, inode, size and mtime: staged files are hard links to
# binaries that never change in place, so an unchanged image costs no hashing.
declare -A digests=() used=()
digest_cache=$work/digests
content_key() {
  local id path sum misses=()
  local -A ids=()
  while read -r id path; do
    ids[$path]=$id
    [ -n "${digests[$id]:-}" ] || misses+=("$path")
  done < <(cd "$ctx" && find . -type f -printf '%D:%i:%s:%T@ %P\n')
  if [ ${#misses[@]} -gt 0 ]; then
    while read -r sum path; do
      digests[${ids[$path]}]=$sum
    done < <(cd "$ctx" && sha256sum -- "${misses[@]}")
  fi
  {
    (cd "$ctx" && find . -printf '%P %y %m %l\n' | LC_ALL=C sort)
    printf '%s\n' "${!ids[@]}" | LC_ALL=C sort | while read -r path; do
      echo "${digests[${ids[$path]}]}  ./$path"
    done
  } >"$ctx.key-input"
  for id in "${ids[@]}"; do used[$id]=1; done
  key=$(sha256sum <"$ctx.key-input" | cut -c1-16)
}
# save_digests: keep the digests of the files this run staged.
save_digests() {
  local id
  for id in "${!used[@]}"; do echo "$id ${digests[$id]}"; done >"$digest_cache.tmp"
  mv "$digest_cache.tmp" "$digest_cache"
}

in_registry() {
  curl -fsI -o /dev/null --max-time 10 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$registry/v2/luban-cluster/$1/manifests/$2"
}

# image NAME: stage, key, build and push unless the registry has it; sets $ref.
image() {
  local name=$1
  [ -f "$recipes/$name/Dockerfile" ] || die "no recipe for image '$name' ($recipes/$name/Dockerfile)"
  ctx="$work/$name"
  rootfs="$ctx/rootfs"
  rm -rf "$ctx"
  mkdir -p "$rootfs"
  cp "$recipes/$name/Dockerfile" "$ctx/Dockerfile"
  "stage_$name"
  content_key
  ref="$prefix/$name:$key"
  if in_registry "$name" "$key"; then
    say "$name: up to date ($ref)"
    return 0
  fi
  say "$name: building $ref"
  docker build -q -t "$ref" "$ctx" >/dev/null 2>"$work/$name.build.log" ||
    die "docker build of $name failed; see $work/$name.build.log"
  docker push "$ref" >"$work/$name.push.log" 2>&1 ||
    die "pushing $ref failed; see $work/$name.push.log"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do
  declare -F "stage_$n" >/dev/null || die "unknown image '$n' (images: ${all[*]})"
done

apt_install catatonit busybox-static git openssh-client redis-tools ca-certificates media-types tzdata
"$root/scripts/docker-engine.sh"
LUBAN_REGISTRY_PORT=${registry##*:} "$root/scripts/registry.sh"
mkdir -p "$work"
if [ -f "$digest_cache" ]; then
  while read -r id sum; do digests[$id]=$sum; done <"$digest_cache"
fi

# images.env keeps the references of images not rebuilt in this run, and is rewritten after each
# image so a long first run leaves what it finished usable.
declare -A refs=()
if [ -f "$env_file" ]; then
  while IFS='=' read -r k v; do
    case $k in IMAGE_*) refs[$k]=$v ;; esac
  done <"$env_file"
fi
write_env() {
  local k
  {
    echo "# Written by scripts/cluster/images.sh: the test cluster's images in the local registry."
    echo "# IMAGE_NATS_SIDECAR is a do-nothing stand-in for the EventBus's config reloader and"
    echo "# metrics exporter: no hot reload, no metrics."
    for k in $(printf '%s\n' "${!refs[@]}" | LC_ALL=C sort); do
      echo "$k=${refs[$k]}"
    done
  } >"$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
}
for n in "${names[@]}"; do
  image "$n"
  refs[$(var_of "$n")]=$ref
  write_env
done
save_digests
say "image references written to $env_file"
