#!/usr/bin/env bash
# The test cluster's PKI and kubeconfigs, made once with openssl into $CLUSTER_STATE/pki (kept
# while the cluster exists; `down` removes them). A CA signs the apiserver's serving cert, the
# kubelet's serving cert and one client cert per component; the service-account key pair signs
# tokens. Usage: scripts/cluster/certs.sh   (idempotent)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

pki=$CLUSTER_STATE/pki
mkdir -p "$pki"
chmod 700 "$pki"
cd "$pki"

days=3650
if [ ! -f ca.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days "$days" \
    -subj "/CN=luban-cluster-ca" 2>/dev/null
fi
if [ ! -f sa.key ]; then
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi

# cert NAME SUBJECT [SUBJECT_ALT_NAMES]: a key and a CA-signed certificate (client and server use).
cert() {
  local name=$1 subject=$2 sans=${3:-}
  [ -f "$name.crt" ] && return 0
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" \
    -days "$days" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

svc=kubernetes.default.svc
cert apiserver "/CN=kube-apiserver" \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:$svc,DNS:$svc.$CLUSTER_DOMAIN,IP:$CLUSTER_API_VIP,IP:$CLUSTER_NODE_IP,IP:127.0.0.1"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert admin "/O=system:masters/CN=luban-admin"
cert controller-manager "/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
cert kube-proxy "/CN=system:kube-proxy"
cert kube-network-policies "/CN=system:kube-network-policies"
cert kubelet "/O=system:nodes/CN=system:node:$CLUSTER_NODE_NAME" "DNS:$CLUSTER_NODE_NAME,IP:$CLUSTER_NODE_IP"
chmod 600 ./*.key

# kubeconfig NAME: $CLUSTER_STATE/NAME.kubeconfig authenticating with NAME's client cert.
kubeconfig() {
  local name=$1 file=$CLUSTER_STATE/$1.kubeconfig
  [ -f "$file" ] && return 0
  cat >"$file.partial" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: luban
    cluster:
      server: https://$CLUSTER_NODE_IP:$CLUSTER_API_PORT
      certificate-authority-data: $(base64 -w0 <ca.crt)
users:
  - name: $name
    user:
      client-certificate-data: $(base64 -w0 <"$name.crt")
      client-key-data: $(base64 -w0 <"$name.key")
contexts:
  - name: luban
    context: {cluster: luban, user: $name}
current-context: luban
EOF
  chmod 600 "$file.partial"
  mv "$file.partial" "$file"
}
for n in admin controller-manager scheduler kube-proxy kube-network-policies kubelet; do kubeconfig "$n"; done
