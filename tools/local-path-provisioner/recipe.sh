# local-path-provisioner: dynamic hostPath volumes on the test cluster's one node.
recipe() {
  go_build local-path-provisioner github.com/rancher/local-path-provisioner \
    "-X main.VERSION=$(pinned github.com/rancher/local-path-provisioner)"
}
