# The step tool image: our builder, on a run image variant with git and an SSH client
# (playbooks/steptool.yml). Publishes to the local registry and records the image by digest in
# out/steptool.json; an unchanged source, builder and run image is not rebuilt.

# What building the image needs on this machine: the engine, the tools, the registry, the offline
# Python mirror and the builder. The step tool tier depends on it, so that its image tests build
# (and run) the image instead of skipping.
.PHONY: steptool-image-deps
steptool-image-deps: venv docker-engine tools registry python-mirror builder

.PHONY: steptool-image
steptool-image: steptool-image-deps ## build and publish the step tool image (run image variant with git) -> out/steptool.json
	ansible-playbook -i inventories/local playbooks/steptool.yml
