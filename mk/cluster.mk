# The test cluster: a single-node Kubernetes built on this machine from Go modules (tools/) and
# Debian packages, with the Argo platform installed (scripts/cluster/, files/cluster/).
# Needs root; everything listens on 127.0.0.1 or the cluster's own bridge (10.213.0.1).
CLUSTER_KUBECONFIG := /var/lib/luban-cluster/admin.kubeconfig

.PHONY: cluster cluster-images cluster-node cluster-platform cluster-down cluster-status

cluster-images: docker-engine registry ## build the images the test cluster runs into the local registry
	@scripts/cluster/images.sh

cluster-node: cluster-images ## bring up the test cluster's node (control plane, kubelet, DNS, volumes)
	@scripts/cluster/up.sh

cluster-platform: cluster-node ## install Argo Workflows, Argo Events and Argo CD into the test cluster
	@scripts/cluster/platform.sh

cluster: cluster-platform ## a single-node Kubernetes with the Argo platform, built here (idempotent)
	@scripts/cluster/status.sh

cluster-status: ## what the test cluster runs, where, and its kubeconfig
	@scripts/cluster/status.sh

cluster-down: ## remove the test cluster and everything it changed on this machine (idempotent)
	@scripts/cluster/down.sh

# Last tier of `make test`: removes the cluster the earlier tiers used and checks that nothing of
# it is left on the machine (and that a second cluster-down is a no-op).
.PHONY: test-cluster-teardown
test-cluster-teardown: venv ## remove the test cluster and check it left no trace (make test's last tier)
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/pytest -q -p no:cacheprovider tests/cluster
