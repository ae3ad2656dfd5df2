# The collection's Python plugins (unit tests) and collection-level QA.

.PHONY: test-plugins-unit
test-plugins-unit: venv ## plugin unit tests: language selection, builder.toml, TOML writer, filters, module
	$(BIN)/pytest -q -p no:cacheprovider tests/unit/plugins

.PHONY: test-collection
test-collection: venv ## collection QA: ansible-lint, ansible-test sanity + integration, galaxy build+install+playbook
	tests/collection/qa.sh

# The shared modules of plugins/module_utils that the buildpack and the step tool carry as copies.
.PHONY: vendor
vendor: ## rewrite the vendored copies of plugins/module_utils modules (list in scripts/vendor.py)
	python3 scripts/vendor.py

.PHONY: lint
lint: venv ## ansible-lint (production profile) over the repository
	tests/collection/qa.sh lint

.PHONY: sanity
sanity: venv ## ansible-test sanity on a staged copy of the collection
	tests/collection/qa.sh sanity

