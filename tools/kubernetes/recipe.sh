# Kubernetes v1.34 control plane, node components, kubectl and etcd for `make cluster`.
# Without the -X version stamps every binary reports v0.0.0-master.
recipe() {
  local v; v=$(pinned k8s.io/kubernetes)
  local minor=${v#v1.}; minor=${minor%%.*}
  local stamp="-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1
    -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean
    -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z
    -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1
    -X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitTreeState=clean
    -X k8s.io/client-go/pkg/version.buildDate=1970-01-01T00:00:00Z"
  local cmd
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    GO_TAGS=providerless go_build "$cmd" "k8s.io/kubernetes/cmd/$cmd" $stamp
  done
  GO_TAGS=providerless go_build etcd go.etcd.io/etcd/server/v3
}
