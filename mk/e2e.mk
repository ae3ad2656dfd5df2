# The end-to-end tier: luban-ci installed by its own playbooks (inventories/cluster) on the test
# cluster, host services standing in for GitHub and Quay (scripts/cluster/services.sh), signed
# deliveries posted to the EventSource, outcomes read back from the real parts.
E2E_INVENTORY := inventories/cluster

.PHONY: cluster-services cluster-services-down e2e-images e2e-install test-e2e e2e

cluster-services: ## start the e2e host services on the cluster bridge (registry with auth, git HTTPS/SSH, fake GitHub)
	@scripts/cluster/services.sh start

cluster-services-down: ## stop the e2e host services
	@scripts/cluster/services.sh stop

# The step tool image and the cluster builder (run-image mirror in the e2e registry), by digest.
e2e-images: steptool-image cluster-services
	@scripts/cluster/e2e-images.sh

# Secrets and trust first (tests/e2e/setup.yml), then the pipeline with the collection's playbook.
e2e-install: venv cluster e2e-images
	$(BIN)/ansible-playbook -i $(E2E_INVENTORY) tests/e2e/setup.yml
	$(BIN)/ansible-playbook -i $(E2E_INVENTORY) playbooks/cluster.yml

test-e2e: e2e-install ## end to end on the test cluster: push -> Workflow -> GitOps -> Argo CD -> HTTP (scenarios 1-13)
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/pytest -q -p no:cacheprovider tests/e2e $(E2E_PYTEST_ARGS)

e2e: e2e-install ## scenario 1 for one app: make e2e APP=DIR (git repo or folder) -> prints its answer, out/e2e.json
	@test -n "$(APP)" || { echo "usage: make e2e APP=DIR" >&2; exit 2; }
	$(PYTHON) tests/e2e/run_app.py "$(APP)" $(OUT)/e2e.json


# Molecule `cluster` against the test cluster (make test-cluster keeps using the current
# kubeconfig, for a user's own cluster, and says SKIPPED plainly when nothing answers).
.PHONY: test-cluster-local
test-cluster-local: venv cluster ## Molecule `cluster` (prepare, converge, idempotence, verify, cleanup) on the test cluster
	. $(LUBAN_CACHE)/cluster/platform.env && \
	  KUBECONFIG=$(CLUSTER_KUBECONFIG) LUBAN_CLUSTER_HTTPROUTE=false \
	  LUBAN_CLUSTER_JETSTREAM_VERSION=$$ARGO_EVENTS_JETSTREAM_VERSION $(MAKE) --no-print-directory test-cluster

# The services listen on the bridge: stop them before the cluster removes it.
cluster-down: cluster-services-down

# Not a test: numbers depend on the machine (bench/pipeline.py; make bench compares the builds).
BENCH_PIPELINE_RUNS ?= 3
.PHONY: bench-pipeline
bench-pipeline: e2e-install python-mirror builder ## pipeline latency on scenario 1 (webhook -> answering pod, per stage) beside bare pack build -> bench/results/pipeline.json
	$(PYTHON) bench/pipeline.py --runs $(BENCH_PIPELINE_RUNS)
