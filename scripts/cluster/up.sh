#!/usr/bin/env bash
# Brings up the test cluster's single node, idempotently: a bridge of its own, etcd, the
# Kubernetes control plane, a private containerd (never Docker's), kubelet, kube-proxy, a
# NetworkPolicy agent, CoreDNS (cluster names only, no forwarder) and local-path volumes. Every
# image comes from the local registry (scripts/cluster/images.sh put them there); the public
# registries are pointed at a closed port so a forgotten public image fails at once instead of
# leaving the machine.
# What it changes on the host is recorded under $CLUSTER_STATE so scripts/cluster/down.sh can
# remove or restore all of it. Usage: scripts/cluster/up.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || die "the test cluster needs root (network interfaces, iptables, mounts); run make cluster as root"
[ "$(uname -s)" = Linux ] || die "the test cluster runs on Linux only"
images_env=$CLUSTER_CACHE/images.env
[ -f "$images_env" ] || die "no cluster images recorded in $images_env; run scripts/cluster/images.sh (make cluster does) first"
# shellcheck source=/dev/null
. "$images_env"
apt_install containerd runc containernetworking-plugins iptables iproute2 conntrack openssl curl
free_gb=$(df -BG --output=avail /var/lib | tail -1 | tr -dc 0-9)
[ "$free_gb" -ge 5 ] || die "the test cluster needs about 5 GB free under /var/lib (containerd's images and volumes); $free_gb GB are free"

# State left by a cluster whose daemons are gone (the machine's processes were ended, e.g. at the
# end of a CI job) is removed first: containers, mounts and leases of a dead node are not reusable.
if [ -d "$CLUSTER_STATE" ] && ! pid_alive kube-apiserver && ! pid_alive kubelet; then
  say "removing the state of an earlier test cluster whose daemons are gone"
  "$here/down.sh"
fi
mkdir -p "$CLUSTER_STATE"/{logs,etcd,kubelet,cni/net.d,cni/ipam,containerd,volumes} "$CLUSTER_RUN"
chmod 700 "$CLUSTER_STATE"
logs=$CLUSTER_STATE/logs

# start NAME [FILE...] -- COMMAND...: a daemon in its own session (so it outlives make and any
# timeout wrapping this script), its pid in $CLUSTER_RUN/NAME.pid, its output in logs/NAME.log.
# A running daemon whose command line and configuration FILEs are unchanged is left alone; one
# whose inputs changed since it started is restarted with the new ones.
start() {
  local name=$1; shift
  local files=()
  while [ "$1" != -- ]; do files+=("$1"); shift; done
  shift
  local key
  key=$( (printf '%s\n' "$@"; cat "${files[@]}" </dev/null) | sha256sum | cut -c1-16)
  if pid_alive "$name"; then
    [ "$(cat "$CLUSTER_RUN/$name.key" 2>/dev/null)" = "$key" ] && return 0
    say "restarting $name: its configuration changed"
    kill "$(cat "$CLUSTER_RUN/$name.pid")"
    wait_for 20 eval '! pid_alive "$name"' || kill -9 "$(cat "$CLUSTER_RUN/$name.pid")" 2>/dev/null || true
  fi
  say "starting $name (log: $logs/$name.log)"
  setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$CLUSTER_RUN/$name.pid"
  echo "$key" >"$CLUSTER_RUN/$name.key"
}
# write FILE: stdin into FILE only when it differs (kube-proxy exits when its file is rewritten,
# and an unchanged file keeps start() from restarting the daemon reading it).
write() {
  cat >"$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}
# need NAME SECONDS COMMAND...: wait for a daemon to answer, or fail pointing at its log.
need() {
  local name=$1 seconds=$2; shift 2
  wait_for "$seconds" "$@" && return 0
  tail -n 20 "$logs/$name.log" >&2 || true
  die "$name did not come up within ${seconds}s; its log is $logs/$name.log"
}

# --- host network: the bridge, forwarding, and a fence around the pods ----------------------
# Host settings this script changes are saved once, before the first change, for down.sh.
if [ ! -f "$CLUSTER_STATE/sysctl.saved" ]; then
  for key in net.ipv4.ip_forward kernel.panic kernel.panic_on_oops vm.overcommit_memory; do
    echo "$key=$(sysctl -n "$key")"
  done >"$CLUSTER_STATE/sysctl.saved"
  modprobe br_netfilter 2>/dev/null || true
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
    echo "net.bridge.bridge-nf-call-iptables=$(sysctl -n net.bridge.bridge-nf-call-iptables)" >>"$CLUSTER_STATE/sysctl.saved"
  fi
fi
sysctl -qw net.ipv4.ip_forward=1
[ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || sysctl -qw net.bridge.bridge-nf-call-iptables=1
if ! ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1; then
  ip link add "$CLUSTER_BRIDGE" type bridge
fi
# Read whole, then matched: `ip ... | grep -q` under pipefail fails when grep stops reading early.
case "$(ip -o -4 addr show dev "$CLUSTER_BRIDGE")" in
  *" $CLUSTER_NODE_IP/"*) ;;
  *) ip addr add "$CLUSTER_NODE_IP/${CLUSTER_POD_CIDR#*/}" dev "$CLUSTER_BRIDGE" ;;
esac
ip link set "$CLUSTER_BRIDGE" up
# Pods may talk to each other, to Services and to this host's bridge address, and to nothing else:
# whatever they send towards another interface is dropped (no masquerade exists either).
iptables -N LUBAN-FENCE 2>/dev/null || true
iptables -F LUBAN-FENCE
iptables -A LUBAN-FENCE -i "$CLUSTER_BRIDGE" ! -o "$CLUSTER_BRIDGE" -j DROP
iptables -C FORWARD -j LUBAN-FENCE 2>/dev/null || iptables -I FORWARD 1 -j LUBAN-FENCE

# --- certificates, kubeconfigs, etcd, control plane ----------------------------------------
"$here/certs.sh"
pki=$CLUSTER_STATE/pki

start etcd -- "$(k8s_bin etcd)" --name luban --data-dir "$CLUSTER_STATE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster luban=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
  --quota-backend-bytes 4294967296 --log-level warn
need etcd 60 curl -fs http://127.0.0.1:2381/health

start kube-apiserver -- "$(k8s_bin kube-apiserver)" \
  --bind-address="$CLUSTER_NODE_IP" --advertise-address="$CLUSTER_NODE_IP" --secure-port="$CLUSTER_API_PORT" \
  --etcd-servers=http://127.0.0.1:2379 \
  --service-cluster-ip-range="$CLUSTER_SERVICE_CIDR" \
  --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --allow-privileged=false --profiling=false --anonymous-auth=true \
  --endpoint-reconciler-type=lease --v=1
need kube-apiserver 120 curl -fs --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://$CLUSTER_NODE_IP:$CLUSTER_API_PORT/readyz"

start kube-controller-manager -- "$(k8s_bin kube-controller-manager)" \
  --kubeconfig="$CLUSTER_STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$CLUSTER_STATE/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$CLUSTER_STATE/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key" \
  --service-cluster-ip-range="$CLUSTER_SERVICE_CIDR" --profiling=false --v=1
start kube-scheduler -- "$(k8s_bin kube-scheduler)" \
  --kubeconfig="$CLUSTER_STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig="$CLUSTER_STATE/scheduler.kubeconfig" \
  --authorization-kubeconfig="$CLUSTER_STATE/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1

# --- the node: private containerd, CNI, kubelet, kube-proxy ---------------------------------
# /run/netns becomes a shared mount point before the first pod, as `ip netns add` makes it: done
# later (by any `ip netns add` on the host), that bind mount would hide every pod's network
# namespace CNI had mounted there, and `make cluster-down` could no longer delete them.
mkdir -p /run/netns
mountpoint -q /run/netns || mount --bind /run/netns /run/netns
mount --make-shared /run/netns
ctrd=$CLUSTER_STATE/containerd
mkdir -p "$ctrd/certs.d" "$CLUSTER_RUN/containerd"
# hosts.toml per registry: the local one over plain http; public ones at a closed port.
hosts() {  # hosts REGISTRY URL
  mkdir -p "$ctrd/certs.d/$1"
  printf 'server = "%s"\n\n[host."%s"]\n  capabilities = ["pull", "resolve"]\n' "$2" "$2" | write "$ctrd/certs.d/$1/hosts.toml"
}
hosts "$CLUSTER_LOCAL_REGISTRY" "http://$CLUSTER_LOCAL_REGISTRY"
for public in docker.io quay.io ghcr.io gcr.io registry.k8s.io public.ecr.aws; do
  hosts "$public" "http://127.0.0.1:9"
done
# Extra registries pods' images may come from (the end-to-end tier's authenticated "Quay"):
# `NAME URL` lines in $CLUSTER_CACHE/registries.
if [ -f "$CLUSTER_CACHE/registries" ]; then
  while read -r name url; do [ -z "$name" ] || hosts "$name" "$url"; done <"$CLUSTER_CACHE/registries"
fi
write "$ctrd/config.toml" <<EOF
version = 2
root = "$ctrd/root"
state = "$CLUSTER_RUN/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$ctrd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMAGE_PAUSE"
  # This machine cannot lower oom_score_adj (no CAP_SYS_RESOURCE); without this every sandbox fails.
  restrict_oom_score_adj = true
  enable_unprivileged_ports = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$ctrd/certs.d"
EOF
start containerd "$ctrd/config.toml" -- /usr/bin/containerd --config "$ctrd/config.toml"
need containerd 30 ctr --address "$CONTAINERD_SOCK" version

# Docker sets FORWARD's policy to DROP, so the firewall plugin must open pod traffic.
write "$CLUSTER_STATE/cni/net.d/10-luban.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "luban",
  "plugins": [
    {"type": "bridge", "bridge": "$CLUSTER_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$CLUSTER_STATE/cni/ipam",
              "ranges": [[{"subnet": "$CLUSTER_POD_CIDR", "rangeStart": "${CLUSTER_NODE_IP%.*}.10", "gateway": "$CLUSTER_NODE_IP"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
EOF

# Pods whose DNS policy is Default get this file: no upstream resolver at all.
printf 'options ndots:1\n' | write "$CLUSTER_STATE/kubelet/resolv.conf"
write "$CLUSTER_STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $CLUSTER_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $CLUSTER_STATE/kubelet/resolv.conf
failSwapOn: false
failCgroupV1: false
protectKernelDefaults: false
makeIPTablesUtilChains: false
serializeImagePulls: false
maxPods: 110
evictionHard: {memory.available: "200Mi", nodefs.available: "2%", imagefs.available: "2%"}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
EOF
start kubelet "$CLUSTER_STATE/kubelet/config.yaml" -- "$(k8s_bin kubelet)" --config="$CLUSTER_STATE/kubelet/config.yaml" \
  --kubeconfig="$CLUSTER_STATE/kubelet.kubeconfig" --root-dir="$CLUSTER_STATE/kubelet" \
  --cert-dir="$CLUSTER_STATE/kubelet/pki" --hostname-override="$CLUSTER_NODE_NAME" \
  --node-ip="$CLUSTER_NODE_IP" --v=1

write "$CLUSTER_STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $CLUSTER_STATE/kube-proxy.kubeconfig}
hostnameOverride: $CLUSTER_NODE_NAME
clusterCIDR: $CLUSTER_POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$CLUSTER_NODE_IP/32"]
# Zero: leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
start kube-proxy "$CLUSTER_STATE/kube-proxy.yaml" -- "$(k8s_bin kube-proxy)" --config="$CLUSTER_STATE/kube-proxy.yaml" --v=1

# The NetworkPolicy agent (tools/kube-network-policies): the bridge CNI enforces none. Its nftables
# table (inet kube-network-policies) sends the first packet of each connection to or from a pod that
# a NetworkPolicy selects to nfqueue 100, where the agent decides. Fail-closed: while it is down,
# those pods' new connections are dropped; pods no policy selects are never queued. Traffic between
# a pod and this node (the bridge address: the API server, the e2e host services) is never filtered,
# as Kubernetes defines NetworkPolicy; down.sh removes the table.
knp=$(gotool_bin kube-network-policies)
kubectl_admin apply -f "$CLUSTER_FILES/manifests/kube-network-policies.yaml" >/dev/null
start kube-network-policies -- "$knp" \
  --kubeconfig="$CLUSTER_STATE/kube-network-policies.kubeconfig" --hostname-override="$CLUSTER_NODE_NAME" \
  --nfqueue-id="$CLUSTER_NFQUEUE" --metrics-bind-address=127.0.0.1:9080 --v=1

need kubelet 120 kubectl_admin wait --for=condition=Ready "node/$CLUSTER_NODE_NAME" --timeout=1s
# Pods created before the service-account controller made `default` are refused.
need kube-controller-manager 60 kubectl_admin -n default get serviceaccount default
# The agent reads its queue once its informers have synced and its nftables rules are in place.
need kube-network-policies 60 nfqueue_bound "$CLUSTER_NFQUEUE"

# --- cluster add-ons: DNS and volumes --------------------------------------------------------
# Only these variables are substituted: the manifests hold shell scripts with their own.
render() {
  # shellcheck disable=SC2016 # the variable names, not their values
  envsubst '$IMAGE_COREDNS $IMAGE_LOCAL_PATH $IMAGE_HELPER $CLUSTER_STATE $CLUSTER_DOMAIN $CLUSTER_DNS_IP' \
    <"$CLUSTER_FILES/manifests/$1"
}
export IMAGE_COREDNS IMAGE_LOCAL_PATH IMAGE_HELPER
render coredns.yaml | kubectl_admin apply -f - >/dev/null
render local-path.yaml | kubectl_admin apply -f - >/dev/null
need coredns 120 kubectl_admin -n kube-system wait --for=condition=Available deployment/coredns --timeout=1s
need local-path-provisioner 120 kubectl_admin -n local-path-storage wait --for=condition=Available \
  deployment/local-path-provisioner --timeout=1s
say "cluster up: node $CLUSTER_NODE_NAME Ready on $CLUSTER_NODE_IP; kubeconfig $KUBECONFIG_ADMIN"
