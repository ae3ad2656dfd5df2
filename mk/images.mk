# Images area: the stack, the builder, app builds and the real-image test tier.

.PHONY: docker-engine images-host-deps tools registry stack builder demo build-app test-images

# debootstrap makes the offline twin's base; curl and git are used by the scripts and the role app_image.
images-host-deps:
	@source scripts/lib.sh && apt_install debootstrap curl git

docker-engine: images-host-deps ## install and start a Docker engine if none answers
	@scripts/docker-engine.sh

tools: ## build the pinned Go tools (pack, lifecycle archive, registry, crane) into $(LUBAN_CACHE)/tools
	@scripts/tools.sh

registry: tools ## start the local registry on 127.0.0.1:5000 if it is not running
	@scripts/registry.sh

stack: venv docker-engine registry ## build and push the stack images (AL2023, or the Debian twin offline)
	ansible-playbook -i inventories/local playbooks/site.yml --tags stack

builder: venv docker-engine registry python-mirror ## build the stack and the builder
	ansible-playbook -i inventories/local playbooks/site.yml --tags builder

demo: venv docker-engine tools registry python-mirror ## the main job: stack, buildpack, builder and an example app, built, run, probed
	ansible-playbook -i inventories/local playbooks/site.yml

build-app: venv docker-engine registry python-mirror ## build one app: make build-app APP=PATH_OR_GIT_URL[@REF] [APP_PATH=dir]
	@test -n "$(APP)" || { echo "usage: make build-app APP=PATH_OR_GIT_URL[@REF] [APP_PATH=subdir]" >&2; exit 2; }
	ansible-playbook -i inventories/local playbooks/build_app.yml -e app="$(APP)" -e app_path="$(or $(APP_PATH),.)"

test-images: venv docker-engine tools registry python-mirror ## real images: Molecule default + pytest image tests
	$(BIN)/molecule test -s default
	$(BIN)/pytest -q -p no:cacheprovider tests/images

# The README's main job, exactly as a newcomer runs it: it fails unless the example app answers.
.PHONY: test-demo
test-demo: ## run `make demo` as a test tier
	$(MAKE) --no-print-directory demo

