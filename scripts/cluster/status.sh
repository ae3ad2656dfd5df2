#!/usr/bin/env bash
# Prints what the test cluster runs and where: its kubeconfig, the host daemons with their pids,
# addresses and logs, and the pods of the platform. Exits 1 when no cluster is up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

pid_alive kube-apiserver || { echo "no test cluster is running (make cluster starts one)"; exit 1; }
echo "kubeconfig: $KUBECONFIG_ADMIN"
echo "  export KUBECONFIG=$KUBECONFIG_ADMIN"
echo
echo "host daemons (logs in $CLUSTER_STATE/logs):"
row() { printf '  %-24s %-8s %s\n' "$@"; }
row daemon pid "listens on"
for d in etcd:127.0.0.1:2379 kube-apiserver:"$CLUSTER_NODE_IP:$CLUSTER_API_PORT" \
  kube-controller-manager:127.0.0.1:10257 kube-scheduler:127.0.0.1:10259 \
  containerd:"$CONTAINERD_SOCK" kubelet:"$CLUSTER_NODE_IP:10250" kube-proxy:127.0.0.1:10249 \
  kube-network-policies:"nfqueue $CLUSTER_NFQUEUE, metrics 127.0.0.1:9080"; do
  name=${d%%:*}
  pid=$(cat "$CLUSTER_RUN/$name.pid" 2>/dev/null || echo -)
  pid_alive "$name" || pid="DOWN"
  row "$name" "$pid" "${d#*:}"
done
echo
echo "network: bridge $CLUSTER_BRIDGE $CLUSTER_NODE_IP, pods $CLUSTER_POD_CIDR, services $CLUSTER_SERVICE_CIDR, DNS $CLUSTER_DNS_IP"
echo "images:  from $CLUSTER_LOCAL_REGISTRY (public registries point at a closed port)"
echo
kubectl_admin get nodes -o wide
echo
kubectl_admin get pods --all-namespaces -o wide
