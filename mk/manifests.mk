# The cluster resources (roles argo_workflows, argo_events, argocd_apps): rendering, the offline
# validation tier (Argo's own Go code on the rendered files) and the cluster tier.
MANIFESTS_DIR := $(OUT)/manifests/orbstack
GO ?= $(firstword $(wildcard /usr/local/go/bin/go) go)
ARGO_VALIDATE_SRC := tests/manifests/argo-validate
# Argo Workflows and Argo Events both link an HDFS client registering the same protobuf names;
# their registration conflict is ignored (the helper never touches HDFS).
ARGO_VALIDATE_LDFLAGS := -X google.golang.org/protobuf/reflect/protoregistry.conflictPolicy=ignore
# Built into the cache, keyed by the helper's sources and pins; Go's module and build caches stay
# in their defaults (~/go/pkg/mod, ~/.cache/go-build) which outlive a fresh clone.
ARGO_VALIDATE := $(LUBAN_CACHE)/bin/argo-validate-$(shell (echo '$(ARGO_VALIDATE_LDFLAGS)'; cat $(ARGO_VALIDATE_SRC)/go.mod $(ARGO_VALIDATE_SRC)/go.sum $(ARGO_VALIDATE_SRC)/*.go) 2>/dev/null | sha256sum | cut -c1-12)

.PHONY: manifests
manifests: venv ## render the orbstack inventory's cluster resources into out/manifests/orbstack (no cluster)
	@rm -rf $(MANIFESTS_DIR)
	$(BIN)/ansible-playbook -i inventories/orbstack playbooks/manifests.yml

$(ARGO_VALIDATE):
	@mkdir -p $(dir $@)
	@start=$$(date +%s); cd $(ARGO_VALIDATE_SRC) && $(GO) build -mod=readonly -trimpath \
	    -ldflags '$(ARGO_VALIDATE_LDFLAGS)' -o $@ . && \
	  echo "argo-validate built in $$(( $$(date +%s) - start ))s -> $@"

CRD_SCHEMAS_SRC := tests/manifests/crd-schemas
CRD_SCHEMAS := $(LUBAN_CACHE)/bin/crd-schemas-$(shell cat $(CRD_SCHEMAS_SRC)/go.mod $(CRD_SCHEMAS_SRC)/go.sum $(CRD_SCHEMAS_SRC)/*.go 2>/dev/null | sha256sum | cut -c1-12)
SCHEMAS_DIR := $(OUT)/schemas

$(CRD_SCHEMAS):
	@mkdir -p $(dir $@)
	@start=$$(date +%s); cd $(CRD_SCHEMAS_SRC) && $(GO) build -mod=readonly -trimpath -o $@ . && \
	  echo "crd-schemas built in $$(( $$(date +%s) - start ))s -> $@"

.PHONY: schemas
schemas: $(CRD_SCHEMAS) ## JSON Schemas (unknown fields refused) for Argo CD and Gateway API objects, from their Go types
	@$(CRD_SCHEMAS) $(SCHEMAS_DIR)

.PHONY: argo-validate
argo-validate: $(ARGO_VALIDATE) ## build the Go helper that runs Argo's validation and Sensor code

.PHONY: test-manifests
test-manifests: manifests argo-validate schemas ## offline tier: Argo's own validators, webhook payloads through the Sensor, schemas, policy
	LUBAN_MANIFESTS=$(MANIFESTS_DIR) ARGO_VALIDATE=$(ARGO_VALIDATE) LUBAN_SCHEMAS=$(SCHEMAS_DIR) \
	  PYTHONDONTWRITEBYTECODE=1 $(BIN)/pytest -q -p no:cacheprovider tests/manifests

.PHONY: test-cluster
test-cluster: venv ## Molecule `cluster`: apply the roles to the current kubeconfig's cluster and verify
	@$(PYTHON) molecule/cluster/reachable.py || { \
	  echo "test-cluster: no Kubernetes cluster is reachable from the current kubeconfig, so nothing"; \
	  echo "was applied or verified. Point KUBECONFIG at a cluster (OrbStack: enable Kubernetes) and retry."; \
	  exit 1; }
	$(BIN)/molecule test -s cluster

# `make test` runs the cluster tier only when a cluster answers; otherwise it says so loudly.
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

TEST_TIERS += test-manifests test-cluster-if-reachable
