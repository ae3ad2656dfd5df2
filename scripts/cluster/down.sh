#!/usr/bin/env bash
# Removes everything scripts/cluster/up.sh made, and restores what it changed: pods are deleted
# through the kubelet first (so CNI releases their addresses and interfaces), then the daemons
# stop, then their iptables/ip6tables rules and chains, the NetworkPolicy agent's nftables table,
# mounts, network namespaces, the bridge, the host sysctls and the state directories go. A second
# run finds nothing and does nothing.
# Images in the local registry and the built binaries are kept (they are caches, not state).
# Usage: scripts/cluster/down.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || die "removing the test cluster needs root; run make cluster-down as root"
if [ ! -d "$CLUSTER_STATE" ] && [ ! -d "$CLUSTER_RUN" ] && ! ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1; then
  say "no test cluster on this machine; nothing to remove"
  exit 0
fi

# The binaries already built, never a build: removing a cluster must not wait for a compiler.
_k8s_dir=$LUBAN_CACHE/gotools/kubernetes/current

# stop NAME: end a daemon started by up.sh (TERM, then KILL after 10 s).
stop() {
  local f=$CLUSTER_RUN/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if pid_alive "$1"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# 0. The end-to-end tier's host services listen on the bridge: they go first.
"$here/services.sh" stop

# 1. Pods, while kubelet and containerd still run: nothing recreates them once the controllers
#    stop, and kubelet tears each sandbox down through CNI.
stop kube-controller-manager
stop kube-scheduler
if pid_alive kube-apiserver && pid_alive kubelet; then
  say "deleting every pod through the kubelet"
  kubectl_admin delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    [ -z "$(ctr --address "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null)" ] && break
    sleep 1
  done
fi

# 2. Daemons.
# The NetworkPolicy agent removes its nftables table when it stops (step 3 makes sure).
for d in kubelet kube-proxy kube-network-policies kube-apiserver etcd; do stop "$d"; done
# Container shims of this containerd (their address names its socket) go with it.
pkill -f -- "-address $CONTAINERD_SOCK" 2>/dev/null || true
stop containerd
pkill -9 -f -- "-address $CONTAINERD_SOCK" 2>/dev/null || true

# 3. Packet filter: kube-proxy's own cleanup, the NetworkPolicy agent's nftables table (inet
#    kube-network-policies: left behind by an agent that was killed, it would drop the traffic of
#    pods that no longer exist), then every KUBE-*, CNI-* and LUBAN-* rule and chain.
"$(k8s_bin kube-proxy)" --cleanup >/dev/null 2>&1 || true
knp=$LUBAN_CACHE/gotools/kube-network-policies/current/bin/kube-network-policies
[ ! -x "$knp" ] || "$knp" --cleanup >/dev/null 2>&1 || true
# ours TOOL TABLE: the chains of ours in TABLE.
ours() { "$1-save" -t "$2" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\|LUBAN\)-[^ ]*\).*/\1/p'; }
for tool in iptables ip6tables; do
  command -v "$tool-save" >/dev/null || continue
  for table in filter nat mangle raw; do
    # Rules jumping to our chains from anywhere (e.g. FORWARD -> LUBAN-FENCE), then our chains.
    { "$tool-save" -t "$table" 2>/dev/null || true; } | { grep -E -- '^-A .* -j (KUBE|CNI|LUBAN)-' || true; } |
      sed 's/^-A /-D /' | while read -r rule; do
        eval "$tool -t $table $rule" 2>/dev/null || true
      done
    for chain in $(ours "$tool" "$table"); do "$tool" -t "$table" -F "$chain" 2>/dev/null || true; done
    for chain in $(ours "$tool" "$table"); do "$tool" -t "$table" -X "$chain" 2>/dev/null || true; done
  done
done

# 4. Mounts under the state and run directories (deepest first), pod network namespaces, bridge.
for root in "$CLUSTER_STATE" "$CLUSTER_RUN"; do
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
done
# cni-*: the pods'; luban-np-*: the private host of tests/e2e/test_pr_network_policy.py.
for ns in $(ip netns list 2>/dev/null | awk '/^(cni|luban-np)-/ {print $1}'); do
  ip netns delete "$ns" 2>/dev/null || true
done
# Host ends of pod veths go with their namespaces; any still on the bridge are removed with it.
for v in $(ip -o link show master "$CLUSTER_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
  ip link delete "$v" 2>/dev/null || true
done
if ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1; then ip link delete "$CLUSTER_BRIDGE"; fi

# 5. Host settings up.sh changed (kubelet changes the kernel.* and vm.* ones on its own).
if [ -f "$CLUSTER_STATE/sysctl.saved" ]; then
  while IFS='=' read -r key value; do
    sysctl -qw "$key=$value" 2>/dev/null || true
  done <"$CLUSTER_STATE/sysctl.saved"
fi

# 6. State.
rm -rf "$CLUSTER_STATE" "$CLUSTER_RUN"
say "test cluster removed"
