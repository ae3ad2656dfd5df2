# shellcheck shell=bash
# The test cluster's one set of facts (addresses, paths) and helpers, shared by up.sh, down.sh,
# images.sh, platform.sh and services.sh. Source it; do not run it.
#
# A single-node Kubernetes for `make test`, built from Go modules and Debian packages on this
# machine. Everything it listens on is 127.0.0.1 or the address of its own bridge; nothing it
# runs resolves or reaches another host.
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CLUSTER_BRIDGE=luban0
CLUSTER_NODE_IP=10.213.0.1               # the bridge's address: node IP, apiserver, kubelet
CLUSTER_POD_CIDR=10.213.0.0/24
CLUSTER_SERVICE_CIDR=10.214.0.0/24
CLUSTER_API_VIP=10.214.0.1               # the `kubernetes` Service
CLUSTER_DNS_IP=10.214.0.10               # CoreDNS
CLUSTER_DOMAIN=cluster.local
CLUSTER_NODE_NAME=luban-node
CLUSTER_API_PORT=6443
CLUSTER_LOCAL_REGISTRY=127.0.0.1:5000    # where every image the cluster runs comes from
CLUSTER_STATE=/var/lib/luban-cluster     # everything `down` removes
CLUSTER_RUN=/run/luban-cluster           # sockets and pid files
CLUSTER_CACHE=$LUBAN_CACHE/cluster       # what outlives `down`: images.env, service data
KUBECONFIG_ADMIN=$CLUSTER_STATE/admin.kubeconfig
CONTAINERD_SOCK=$CLUSTER_RUN/containerd/containerd.sock
CLUSTER_NFQUEUE=100                      # the NetworkPolicy agent's netfilter queue
export CLUSTER_BRIDGE CLUSTER_NODE_IP CLUSTER_POD_CIDR CLUSTER_SERVICE_CIDR CLUSTER_API_VIP \
  CLUSTER_DNS_IP CLUSTER_DOMAIN CLUSTER_NODE_NAME CLUSTER_API_PORT CLUSTER_LOCAL_REGISTRY \
  CLUSTER_STATE CLUSTER_RUN CLUSTER_CACHE KUBECONFIG_ADMIN CONTAINERD_SOCK CLUSTER_NFQUEUE

CLUSTER_FILES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../files/cluster" && pwd)
export CLUSTER_FILES

# k8s_bin NAME: path of a Kubernetes binary (built once by scripts/gotool.sh kubernetes).
k8s_bin() {
  [ -n "${_k8s_dir:-}" ] || _k8s_dir=$("$(dirname "${BASH_SOURCE[0]}")/../gotool.sh" kubernetes)
  echo "$_k8s_dir/bin/$1"
}

# gotool_bin NAME: path of the binary NAME of the Go tool NAME (tools/NAME, built once).
gotool_bin() {
  local dir
  dir=$("$(dirname "${BASH_SOURCE[0]}")/../gotool.sh" "$1") || die "building the Go tool $1 failed (scripts/gotool.sh $1)"
  echo "$dir/bin/$1"
}

# nfqueue_bound NUMBER: a program reads netfilter queue NUMBER (in this network namespace).
nfqueue_bound() { awk -v q="$1" '$1 == q {found = 1} END {exit !found}' /proc/net/netfilter/nfnetlink_queue; }

kubectl_admin() { "$(k8s_bin kubectl)" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# pid_alive NAME: the daemon NAME started by up.sh is running (its recorded pid is alive and
# still runs NAME, so a recycled pid is never taken for it).
pid_alive() {
  local f=$CLUSTER_RUN/$1.pid
  local cmdline
  [ -f "$f" ] && cmdline=$(tr '\0' ' ' <"/proc/$(cat "$f")/cmdline" 2>/dev/null) && [[ $cmdline == *"$1"* ]]
}

# wait_for SECONDS COMMAND...: poll COMMAND every half second until it succeeds or time is up.
wait_for() {
  local seconds=$1; shift
  local i
  for ((i = 0; i < seconds * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}
