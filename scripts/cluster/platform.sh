#!/usr/bin/env bash
# Installs the Argo platform luban-ci expects into the running test cluster (scripts/cluster/up.sh):
# Argo Workflows (namespace argo), Argo Events (argo-events) and Argo CD core (argocd), each from
# upstream's own install manifests and CRDs in the Go module of the version the cluster builds
# (tools/<name>/go.mod), with the local images of scripts/cluster/images.sh, and waits until every
# Deployment and StatefulSet is available. Test infrastructure, never part of the collection: a
# real platform team installs Argo its own way, with the settings docs/install-orbstack.md lists.
#
# The overlays (files/cluster/platform/<component>/) are rendered with envsubst into
# $LUBAN_CACHE/cluster/platform/<component>/ and point at the module cache by a relative path
# (kustomize refuses absolute ones); kubectl's built-in kustomize renders them and they are applied
# server-side (the full Argo Workflows CRDs are too big for client-side apply). A component whose
# rendered manifests match what this script last applied to this cluster is not sent again, so a
# second run only checks that everything is available. Idempotent.
# Usage: scripts/cluster/platform.sh [--render] [COMPONENT...]
#   COMPONENT: argo-workflows, argo-events, argocd (default: all); --render: write the manifests
#   under $LUBAN_CACHE/cluster/platform/ and apply nothing (no cluster needed).
# Writes $LUBAN_CACHE/cluster/platform.env (versions, namespaces, the EventBus's JetStream version).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
export PATH="$PATH:/usr/local/go/bin"

render_only=false
[ "${1:-}" != --render ] || { render_only=true; shift; }
components=("$@")
[ ${#components[@]} -gt 0 ] || components=(argo-workflows argo-events argocd)
declare -A images_of=([argo-workflows]="IMAGE_WORKFLOW_CONTROLLER IMAGE_ARGOEXEC"
  [argo-events]="IMAGE_ARGO_EVENTS IMAGE_NATS IMAGE_NATS_SIDECAR" [argocd]="IMAGE_ARGOCD IMAGE_REDIS")
for c in "${components[@]}"; do
  [ -n "${images_of[$c]:-}" ] || die "unknown component '$c' (components: ${!images_of[*]})"
done
declare -A namespace=([argo-workflows]=argo [argo-events]=argo-events [argocd]=argocd)
out="$CLUSTER_CACHE/platform"
field_manager=luban-cluster-platform
timeout=${LUBAN_PLATFORM_TIMEOUT:-300}

kubectl_bin=$(k8s_bin kubectl)
kc() { "$kubectl_bin" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

images_env=$CLUSTER_CACHE/images.env
[ -f "$images_env" ] || die "no cluster images recorded in $images_env; run scripts/cluster/images.sh first"
# shellcheck source=/dev/null
. "$images_env"
for c in "${components[@]}"; do
  for v in ${images_of[$c]}; do
    [ -n "${!v:-}" ] || die "$images_env has no $v (needed by $c); run scripts/cluster/images.sh"
  done
done

# pinned TOOL MODULE: the version tools/TOOL/go.mod requires of MODULE.
pinned() { (cd "$root/tools/$1" && go list -mod=readonly -m -f '{{.Version}}' "$2"); }
# manifests TOOL MODULE VERSION: the module's manifests/ directory in the Go module cache,
# relative to the overlay directory $2 (downloaded from the Go module proxy if missing).
manifests_rel() {
  local dir
  dir=$(cd "$root/tools/$1" && GOFLAGS=-mod=mod go mod download -json "$2@$3" |
        sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/manifests" ] || die "no manifests/ in the Go module $2@$3 (dir '$dir'); check tools/$1/go.mod"
  realpath --relative-to="$4" "$dir/manifests"
}

ARGO_WORKFLOWS_VERSION=$(pinned argo-workflows github.com/argoproj/argo-workflows/v4)
ARGO_EVENTS_VERSION=$(pinned argo-events github.com/argoproj/argo-events)
ARGOCD_VERSION=$(pinned argocd github.com/argoproj/argo-cd/v3)
NATS_VERSION=$(pinned nats github.com/nats-io/nats-server/v2)
NATS_VERSION=${NATS_VERSION#v}

mkdir -p "$out"
for c in "${components[@]}"; do
  rm -rf "${out:?}/$c"
  cp -R "$CLUSTER_FILES/platform/$c" "$out/$c"
done
ARGO_WORKFLOWS_MANIFESTS=$(manifests_rel argo-workflows github.com/argoproj/argo-workflows/v4 "$ARGO_WORKFLOWS_VERSION" "$out/argo-workflows")
ARGO_EVENTS_MANIFESTS=$(manifests_rel argo-events github.com/argoproj/argo-events "$ARGO_EVENTS_VERSION" "$out/argo-events")
ARGOCD_MANIFESTS=$(manifests_rel argocd github.com/argoproj/argo-cd/v3 "$ARGOCD_VERSION" "$out/argocd")
IMAGE_ARGOCD=${IMAGE_ARGOCD:-} IMAGE_REDIS=${IMAGE_REDIS:-}
ARGOCD_IMAGE_NAME=${IMAGE_ARGOCD%:*} ARGOCD_IMAGE_TAG=${IMAGE_ARGOCD##*:}
REDIS_IMAGE_NAME=${IMAGE_REDIS%:*} REDIS_IMAGE_TAG=${IMAGE_REDIS##*:}
export ARGO_WORKFLOWS_MANIFESTS ARGO_EVENTS_MANIFESTS ARGOCD_MANIFESTS NATS_VERSION \
  ARGOCD_IMAGE_NAME ARGOCD_IMAGE_TAG REDIS_IMAGE_NAME REDIS_IMAGE_TAG \
  IMAGE_WORKFLOW_CONTROLLER IMAGE_ARGOEXEC IMAGE_ARGO_EVENTS IMAGE_NATS IMAGE_NATS_SIDECAR
# shellcheck disable=SC2016 # the variable names envsubst may replace, not their values
substituted='$ARGO_WORKFLOWS_MANIFESTS $ARGO_EVENTS_MANIFESTS $ARGOCD_MANIFESTS $NATS_VERSION
  $ARGOCD_IMAGE_NAME $ARGOCD_IMAGE_TAG $REDIS_IMAGE_NAME $REDIS_IMAGE_TAG
  $IMAGE_WORKFLOW_CONTROLLER $IMAGE_ARGOEXEC $IMAGE_ARGO_EVENTS $IMAGE_NATS $IMAGE_NATS_SIDECAR'
command -v envsubst >/dev/null || apt_install gettext-base
for dir in "${components[@]/#/$out/}"; do
  for f in "$dir"/*.yaml; do
    envsubst "$substituted" <"$f" >"$f.tmp"
    mv "$f.tmp" "$f"
  done
done

# kustomize takes tens of seconds over the full CRDs: the output is kept while the overlay (which
# names the module version) and kubectl are the same.
for c in "${components[@]}"; do
  key=$( (cat "$out/$c"/*; echo "$kubectl_bin") | sha256sum | cut -c1-16)
  if [ ! -s "$out/$c.rendered.yaml" ] || [ "$(cat "$out/$c.rendered.key" 2>/dev/null)" != "$key" ]; then
    kc kustomize "$out/$c" >"$out/$c.rendered.yaml" 2>"$out/$c.kustomize.log" ||
      die "rendering $c failed: $(tail -3 "$out/$c.kustomize.log") (overlay $out/$c)"
    echo "$key" >"$out/$c.rendered.key"
  fi
  # Every image must come from the local registry: upstream's would fail (no public registry).
  foreign=$(grep -E '^ *image: ' "$out/$c.rendered.yaml" | grep -v "image: $CLUSTER_LOCAL_REGISTRY/" | sort -u || true)
  [ -z "$foreign" ] || die "$c still names images outside $CLUSTER_LOCAL_REGISTRY: $foreign (fix files/cluster/platform/$c)"
done
if $render_only; then
  say "rendered: $(printf "$out/%s.rendered.yaml " "${components[@]}")"
  exit 0
fi
[ -f "$KUBECONFIG_ADMIN" ] || die "no test cluster: $KUBECONFIG_ADMIN does not exist; start it with scripts/cluster/up.sh (or make cluster)"
kc get --raw /readyz >/dev/null 2>&1 ||
  die "the test cluster's API server does not answer (kubeconfig $KUBECONFIG_ADMIN); start it with scripts/cluster/up.sh and see $CLUSTER_STATE/logs"

# objects COMPONENT: "Kind namespace name" of every rendered object (namespace "-" when none),
# read from kustomize's normalised output (kubectl would take seconds to parse the CRDs).
objects() {
  awk 'function flush() { if (kind != "") print kind, (ns == "" ? "-" : ns), name; kind = name = ns = "" }
       /^---/ { flush(); next }
       /^kind: / { kind = $2 }
       /^metadata:/ { meta = 1; next }
       /^[^ ]/ { meta = 0 }
       meta && /^  name: / { name = $2 }
       meta && /^  namespace: / { ns = $2 }
       END { flush() }' "$out/$1.rendered.yaml"
}
# workloads COMPONENT: "namespace kind/name" of its Deployments and StatefulSets.
workloads() { objects "$1" | awk '$1 == "Deployment" || $1 == "StatefulSet" { print $2, tolower($1) "/" $3 }'; }
crds() { objects "$1" | awk '$1 == "CustomResourceDefinition" { print "crd/" $3 }'; }
# present COMPONENT: its CRDs and workloads exist (nobody deleted them since the last apply).
present() {
  local ns w list
  mapfile -t list < <(crds "$1")
  [ ${#list[@]} -eq 0 ] || kc get "${list[@]}" -o name >/dev/null 2>&1 || return 1
  while read -r ns w; do
    kc -n "$ns" get "$w" -o name >/dev/null 2>&1 || return 1
  done < <(workloads "$1")
}

# What this script last applied, per component (a hash of the rendered manifests), lives in the
# cluster itself, so a new cluster gets everything and an unchanged one nothing.
state_cm=luban-cluster-platform
applied_hash() { kc -n kube-system get configmap "$state_cm" -o "jsonpath={.data.$1}" 2>/dev/null || true; }
record_hash() {
  kc -n kube-system get configmap "$state_cm" >/dev/null 2>&1 ||
    kc -n kube-system create configmap "$state_cm" >/dev/null
  kc -n kube-system patch configmap "$state_cm" --type merge -p "{\"data\":{\"$1\":\"$2\"}}" >/dev/null
}

apply_component() {
  local c=$1 rendered="$out/$1.rendered.yaml" hash before
  hash=$(sha256sum <"$rendered" | cut -c1-16)
  before=$(applied_hash "$c")
  if [ "$before" = "$hash" ] && present "$c"; then
    say "$c: unchanged since the last apply ($hash)"
    return 0
  fi
  say "$c: applying $(objects "$c" | wc -l) objects server-side"
  if ! kc apply --server-side --force-conflicts --field-manager="$field_manager" -f "$rendered" \
      >"$out/$c.apply.log" 2>&1; then
    # Objects of a kind whose CRD is in the same apply can fail until the CRD is Established.
    local list
    mapfile -t list < <(crds "$c")
    [ ${#list[@]} -eq 0 ] || kc wait --for=condition=Established --timeout=60s "${list[@]}" >/dev/null 2>&1 || true
    kc apply --server-side --force-conflicts --field-manager="$field_manager" -f "$rendered" \
      >"$out/$c.apply.log" 2>&1 ||
      die "applying $c failed: $(grep -i error "$out/$c.apply.log" | head -3) (full log: $out/$c.apply.log; manifests: $rendered)"
  fi
  # Some settings are read only at start (environment from ConfigMaps, Argo Events' controller
  # config): a changed install restarts the component's workloads.
  if [ -n "$before" ] && [ "$before" != "$hash" ]; then
    local ns w
    while read -r ns w; do
      kc -n "$ns" rollout restart "$w" >/dev/null
    done < <(workloads "$c")
  fi
  record_hash "$c" "$hash"
}

# wait_available COMPONENT: each of its Deployments and StatefulSets rolled out and ready, or a
# message naming what did not come up and where to look.
wait_available() {
  local c=$1 ns w deadline=$((SECONDS + timeout)) pending namespaces
  while :; do
    pending=()
    while read -r ns w; do
      kc -n "$ns" rollout status "$w" --timeout=1s >/dev/null 2>&1 || pending+=("$ns/$w")
    done < <(workloads "$c")
    [ ${#pending[@]} -gt 0 ] || return 0
    if [ $SECONDS -ge $deadline ]; then
      printf 'error: %s: not available after %ss: %s\n' "$c" "$timeout" "${pending[*]}" >&2
      namespaces=$(printf '%s\n' "${pending[@]%%/*}" | sort -u)
      for ns in $namespaces; do
        kc -n "$ns" get pods -o wide >&2 || true
        kc -n "$ns" get events --sort-by=.lastTimestamp 2>/dev/null | tail -10 >&2 || true
      done
      die "$c did not come up; look with: KUBECONFIG=$KUBECONFIG_ADMIN kubectl -n ${namespaces//$'\n'/,} describe pods; kubectl -n NS logs POD --all-containers; the node's logs are in $CLUSTER_STATE/logs"
    fi
    sleep 2
  done
}

start=$SECONDS
for c in "${components[@]}"; do
  apply_component "$c"
done
for c in "${components[@]}"; do
  wait_available "$c"
done

cat >"$CLUSTER_CACHE/platform.env.tmp" <<EOF
# Written by scripts/cluster/platform.sh: what the test cluster's Argo platform runs.
ARGO_WORKFLOWS_VERSION=$ARGO_WORKFLOWS_VERSION
ARGO_WORKFLOWS_NAMESPACE=${namespace[argo-workflows]}
ARGO_EVENTS_VERSION=$ARGO_EVENTS_VERSION
ARGO_EVENTS_NAMESPACE=${namespace[argo-events]}
# The only JetStream version the Argo Events controller offers (EventBus spec.jetstream.version).
ARGO_EVENTS_JETSTREAM_VERSION=$NATS_VERSION
ARGOCD_VERSION=$ARGOCD_VERSION
ARGOCD_NAMESPACE=${namespace[argocd]}
EOF
mv "$CLUSTER_CACHE/platform.env.tmp" "$CLUSTER_CACHE/platform.env"

say "platform ready in $((SECONDS - start))s (kubeconfig $KUBECONFIG_ADMIN):"
for c in "${components[@]}"; do
  case $c in
    argo-workflows) set -- "Argo Workflows" "$ARGO_WORKFLOWS_VERSION" \
      "workflow-controller (watches all namespaces), executor $IMAGE_ARGOEXEC" ;;
    argo-events) set -- "Argo Events" "$ARGO_EVENTS_VERSION" \
      "controller-manager; EventBus JetStream version $NATS_VERSION (nats-server; sidecars are stand-ins: no reload, no metrics)" ;;
    argocd) set -- "Argo CD" "$ARGOCD_VERSION" \
      "application-controller, repo-server, redis, applicationset-controller (core install: no API server, no dex)" ;;
  esac
  printf '  %-15s %-8s namespace %-12s %s\n' "$1" "$2" "${namespace[$c]}" "$3" >&2
done
