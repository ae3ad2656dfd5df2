# The pipeline's step tool (files/steptool, console script `luban-step`): image source and tests.
STEPTOOL_OUT := $(OUT)/steptool

# The image is built from out/steptool: files/steptool as committed (its _vendor package included),
# without what a local run leaves in the tree (bytecode, a venv, build metadata).
.PHONY: steptool-src
steptool-src: ## copy the step tool's image source to out/steptool, without local caches
	@rm -rf $(STEPTOOL_OUT) && mkdir -p $(dir $(STEPTOOL_OUT))
	@cp -R files/steptool $(STEPTOOL_OUT)
	@find $(STEPTOOL_OUT) \( -name __pycache__ -o -name .venv -o -name '*.egg-info' \) -prune -exec rm -rf {} +
	@echo "$(STEPTOOL_OUT)"

.PHONY: steptool-lock
steptool-lock: venv ## re-resolve files/steptool/uv.lock against PyPI
	cd files/steptool && UV_CACHE_DIR=$(LUBAN_CACHE)/uv $(BIN)/uv lock

.PHONY: test-steptool-unit test-steptool-image
test-steptool-unit: venv ## step tool, no Docker, no network: real git remotes on loopback, fake GitHub and Kubernetes APIs, hostile input
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/pytest -q -p no:cacheprovider tests/steptool/unit

test-steptool-image: venv steptool-image-deps ## the step tool packaged (uv lock, uv sync) and as an image built by our builder, run as the pipeline runs it
	PYTHONDONTWRITEBYTECODE=1 UV_CACHE_DIR=$(LUBAN_CACHE)/uv $(BIN)/pytest -q -p no:cacheprovider tests/steptool/image
