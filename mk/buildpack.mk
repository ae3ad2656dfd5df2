# The Python (uv) buildpack: packaging, the offline CPython mirror, and its two test tiers.
BUILDPACK_DIR := $(OUT)/buildpacks/python-uv
PYTHON_MIRROR := $(LUBAN_CACHE)/python-mirror

.PHONY: buildpacks
buildpacks: venv python-mirror ## package the Python (uv) buildpack into out/buildpacks/python-uv (CPython 3.12 preinstalled from the mirror)
	@source scripts/lib.sh && apt_install unzip
	$(BIN)/ansible-playbook playbooks/buildpacks.yml

.PHONY: python-mirror
python-mirror: venv ## build the offline CPython mirror for uv from pyenv's CPythons and print its env
	@source scripts/lib.sh && apt_install patchelf binutils
	@$(PYTHON) scripts/python_mirror.py --out $(PYTHON_MIRROR) --verify-with $(BIN)/uv

.PHONY: test-buildpack-unit
test-buildpack-unit: venv ## buildpack unit tests: every rule and every catalog message
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/pytest -q -p no:cacheprovider tests/buildpack/unit

.PHONY: test-buildpack-contract
# The lifecycle comes from scripts/tools.sh (images area), which builds the pinned Go tools once.
test-buildpack-contract: buildpacks python-mirror ## the packaged bin/detect and bin/build on fixture apps (real uv, PyPI, mirror, lifecycle)
	LUBAN_BUILDPACK_DIR=$(BUILDPACK_DIR) LUBAN_PYTHON_MIRROR=$(PYTHON_MIRROR) LUBAN_LIFECYCLE=$$(scripts/tools.sh)/bin/lifecycle \
	  PYTHONDONTWRITEBYTECODE=1 $(BIN)/pytest -q -p no:cacheprovider tests/buildpack/contract

