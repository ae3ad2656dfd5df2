#!/usr/bin/env bash
# Puts the images the end-to-end pipeline runs into the authenticated registry on the cluster
# bridge (scripts/cluster/services.sh), as a Quay user would have them, and records them by
# digest in out/cluster-images.json for inventories/cluster:
#   steptool   the step tool image `make steptool-image` built (out/steptool.json)
#   builder    the builder, rebuilt as builder-python-cluster with a run-image mirror in that
#              registry: a build pod cannot reach 127.0.0.1:5000, and the lifecycle takes the
#              run image's mirror in the registry the app image is pushed to
#   run_image  that mirror (the builder's own run image, copied unchanged)
# The network's settings (proxy, CPython mirror, CA) are not baked in: inventories/cluster gives
# them to every build through argo_workflows_build_env and argo_workflows_build_bindings.
# Needs: make steptool-image (and so the builder), services.sh start. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

envfile=$("$here/services.sh" credentials)
# shellcheck source=/dev/null
. "$envfile"
tools=$("$root/scripts/tools.sh")
crane=$tools/bin/crane
[ -f "$root/out/steptool.json" ] || die "no out/steptool.json: run make steptool-image first"
local_steptool=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image"])' "$root/out/steptool.json")
local_builder=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["builder"])' "$root/out/steptool.json")

# crane pushes with the release robot's dockerconfigjson, over plain http.
auth=$(mktemp -d)
trap 'rm -rf "$auth"' EXIT
cp "$E2E_SECRETS/robot-release.json" "$auth/config.json"
rcrane() { DOCKER_CONFIG=$auth "$crane" --insecure "$@"; }

# The builder's run image, read from its own metadata.
run_image=$("$crane" config "$local_builder" | python3 -c '
import json, sys
meta = json.loads(json.load(sys.stdin)["config"]["Labels"]["io.buildpacks.builder.metadata"])
images = meta.get("images") or [(meta.get("stack") or {}).get("runImage") or {}]  # current, then pre-0.12 shape
print(images[0].get("image", ""))')
[[ $run_image == "$CLUSTER_LOCAL_REGISTRY/"* ]] || die "the builder's run image $run_image is not in $CLUSTER_LOCAL_REGISTRY"
mirror=$E2E_REGISTRY/${run_image#"$CLUSTER_LOCAL_REGISTRY/"}
cluster_builder=$CLUSTER_LOCAL_REGISTRY/luban/builder-python-cluster

# pack checks every run-image mirror through the Docker engine, which speaks only https to
# 10.213.0.1:5001: give the engine the same image under the mirror's name.
docker pull -q "$run_image" >/dev/null
docker tag "$run_image" "$mirror"
say "building $cluster_builder (run image $run_image, mirror $mirror)"
ANSIBLE_CONFIG=$root/ansible.cfg "$LUBAN_CACHE/venv/bin/ansible-playbook" -i "$root/inventories/local" "$root/playbooks/site.yml" --tags builder \
  -e builder_name=python-cluster -e "builder_work_dir=$root/out/builder-cluster" \
  -e "{\"builder_run_image\": \"$run_image\", \"builder_run_image_mirrors\": [\"$mirror\"]}" \
  >"$root/out/builder-cluster.log" 2>&1 || die "building the cluster builder failed; see out/builder-cluster.log"

# After the play: it may have rebuilt the stack, and the mirror must be the run image it used.
say "copying the run image to $mirror"
rcrane copy "$run_image" "$mirror" >/dev/null

copy() {  # copy SRC DST-REPO: prints DST-REPO@DIGEST
  local digest
  rcrane copy "$1" "$2:latest" >/dev/null
  digest=$(rcrane digest "$2:latest")
  echo "$2@$digest"
}
say "copying the step tool and the builder to $E2E_REGISTRY"
steptool=$(copy "$local_steptool" "$E2E_REGISTRY/luban/luban-step")
builder=$(copy "$cluster_builder:latest" "$E2E_REGISTRY/luban/builder-python-cluster")
run_digest=$(rcrane digest "$mirror")
mkdir -p "$root/out"
python3 - "$root/out/cluster-images.json" "$steptool" "$builder" "$mirror@$run_digest" <<'EOF'
import json, sys
path, steptool, builder, run_image = sys.argv[1:]
with open(path, "w") as out:
    json.dump({"steptool": steptool, "builder": builder, "run_image": run_image}, out, indent=1)
    out.write("\n")
EOF
cat "$root/out/cluster-images.json"
