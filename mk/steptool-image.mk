# The step tool image: our builder, on a run image variant with git and an SSH client
# (playbooks/steptool.yml). Publishes to the local registry and records the image by digest in
# out/steptool.json; an unchanged source, builder and run image is not rebuilt.
.PHONY: steptool-image
steptool-image: venv docker-engine tools registry python-mirror builder ## build and publish the step tool image (run image variant with git) -> out/steptool.json
	ansible-playbook -i inventories/local playbooks/steptool.yml
