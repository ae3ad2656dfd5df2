# The cluster resources (roles argo_workflows, argo_events, argocd_apps): rendering, the offline
# validation tier (Argo's own Go code on the rendered files) and the cluster tier.
MANIFESTS_DIR := $(OUT)/manifests/orbstack
SCHEMAS_DIR := $(OUT)/schemas
# The two Go helpers of the offline tier, tools/argo-validate and tools/crd-schemas, are built
# once by scripts/gotool.sh into $(LUBAN_CACHE)/gotools/<name>/<key>/bin (key = their sources and
# pins); each call prints that directory.
GOTOOL := $(CURDIR)/scripts/gotool.sh

.PHONY: manifests
manifests: venv ## render the orbstack inventory's cluster resources into out/manifests/orbstack (no cluster)
	@rm -rf $(MANIFESTS_DIR)
	$(BIN)/ansible-playbook -i inventories/orbstack playbooks/manifests.yml

.PHONY: schemas
schemas: ## JSON Schemas (unknown fields refused) for Argo CD and Gateway API objects, from their Go types
	@dir=$$($(GOTOOL) crd-schemas) && $$dir/bin/crd-schemas $(SCHEMAS_DIR)

.PHONY: argo-validate
argo-validate: ## build the Go helper that runs Argo's validation and Sensor code
	@$(GOTOOL) argo-validate

.PHONY: test-manifests
test-manifests: manifests argo-validate schemas ## offline tier: Argo's own validators, webhook payloads through the Sensor, schemas, policy
	dir=$$(LUBAN_GOTOOL_QUIET=1 $(GOTOOL) argo-validate) && \
	  LUBAN_MANIFESTS=$(MANIFESTS_DIR) ARGO_VALIDATE=$$dir/bin/argo-validate LUBAN_SCHEMAS=$(SCHEMAS_DIR) \
	  PYTHONDONTWRITEBYTECODE=1 $(BIN)/pytest -q -p no:cacheprovider tests/manifests

.PHONY: test-cluster
test-cluster: venv ## Molecule `cluster`: apply the roles to the current kubeconfig's cluster and verify
	@$(PYTHON) molecule/cluster/reachable.py || { \
	  echo "test-cluster: no Kubernetes cluster is reachable from the current kubeconfig, so nothing"; \
	  echo "was applied or verified. Point KUBECONFIG at a cluster (OrbStack: enable Kubernetes) and retry."; \
	  exit 1; }
	$(BIN)/molecule test -s cluster

# For your own kubeconfig: the cluster tier runs only when a cluster answers, otherwise it says
# SKIPPED loudly. (`make test` uses the test cluster it builds instead: test-cluster-local.)
.PHONY: test-cluster-if-reachable
test-cluster-if-reachable: venv
	@if $(PYTHON) molecule/cluster/reachable.py; then \
	  $(MAKE) --no-print-directory test-cluster; \
	else \
	  echo "################################################################"; \
	  echo "## SKIPPED: test-cluster — no Kubernetes cluster is reachable   ##"; \
	  echo "## from the current kubeconfig. Nothing was applied or verified. ##"; \
	  echo "################################################################"; \
	fi

# `make test` runs the cluster scenario on the test cluster it starts (test-cluster-local, mk/e2e.mk).
