"""Policy on the rendered defaults: restricted Pod Security for every pipeline pod, pinned
images, secrets only as mounted files, anchored filter regexes, least-privilege RBAC."""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import yaml

from conftest import REPO, Doc, by_kind, one

# By digest, with or without the tag it was published under: a tag alone can be moved.
PINNED = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}$")
SECRETISH = re.compile(r"(?i)(token|password|secret|private.?key|dockerconfig|credential)")


def containers(doc: Doc) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(template name, container, template) for every container a WorkflowTemplate can start."""
    for t in doc.body["spec"]["templates"]:
        if "container" in t:
            yield t["name"], t["container"], t
        for c in t.get("containerSet", {}).get("containers", []):
            yield t["name"] + "/" + c["name"], c, t
        for s in t.get("sidecars", []):
            yield t["name"] + "/" + s["name"], s, t


def test_every_default_pipeline_container_meets_restricted_pod_security(docs: list[Doc]) -> None:
    checked = 0
    for wt in by_kind(docs, "WorkflowTemplate"):
        for name, c, _unused in containers(wt):
            sc = c.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, (wt.name, name)
            assert sc.get("runAsNonRoot") is True, (wt.name, name)
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], (wt.name, name)
            assert sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", (wt.name, name)
            assert not sc.get("privileged"), (wt.name, name)
            assert "add" not in sc.get("capabilities", {}), (wt.name, name)
            checked += 1
    assert checked >= 9


def assert_restricted(sc: dict[str, Any], where: tuple[str, ...]) -> None:
    """A container securityContext the restricted Pod Security Standard admits on its own."""
    assert sc.get("allowPrivilegeEscalation") is False, where
    assert sc.get("runAsNonRoot") is True, where
    assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
    assert sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
    assert not sc.get("privileged"), where
    assert "add" not in sc.get("capabilities", {}), where


def test_every_argo_events_container_meets_restricted_pod_security(docs: list[Doc]) -> None:
    # The Argo Events controller builds each Deployment/StatefulSet container from these templates
    # only (the pod-level securityContext does not fill in allowPrivilegeEscalation or the dropped
    # capabilities), and the namespace enforces the restricted standard.
    checked = 0
    for kind in ("Sensor", "EventSource"):
        for d in by_kind(docs, kind):
            template = d.body["spec"]["template"]
            assert template["securityContext"]["runAsNonRoot"] is True, (kind, d.name)
            assert_restricted(template.get("container", {}).get("securityContext", {}), (kind, d.name))
            checked += 1
    for bus in by_kind(docs, "EventBus"):
        js = bus.body["spec"]["jetstream"]
        assert js["securityContext"]["runAsNonRoot"] is True
        for field in ("containerTemplate", "reloaderContainerTemplate", "metricsContainerTemplate"):
            assert_restricted(js.get(field, {}).get("securityContext", {}), ("EventBus", bus.name, field))
            checked += 1
    assert checked == 5


def test_pipeline_pods_run_as_the_builders_non_root_user(docs: list[Doc]) -> None:
    for name in ("luban-ci", "luban-ci-pr"):
        sc = one(docs, "WorkflowTemplate", name).body["spec"]["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0 and sc["fsGroup"] > 0
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    ns = one(docs, "Namespace", "luban-ci").body["metadata"]["labels"]
    assert ns["pod-security.kubernetes.io/enforce"] == "restricted"


def test_no_docker_socket_and_no_host_paths(docs: list[Doc]) -> None:
    text = "\n".join(json.dumps(d.body) for d in docs)
    assert "docker.sock" not in text
    assert "hostPath" not in text


def test_images_are_pinned_by_digest(docs: list[Doc]) -> None:
    images = set()
    for wt in by_kind(docs, "WorkflowTemplate"):
        for _name, c, _template in containers(wt):
            images.add(c["image"])
    for entry in json.loads(one(docs, "ConfigMap", "luban-languages").body["data"]["registry.json"]):
        images.add(entry["builder"])
    static = {i for i in images if "{{" not in i}
    assert static, "no images found"
    for image in static:
        assert PINNED.match(image), image
    # The only computed image is the builder detect chose from the (pinned) registry.
    assert images - static == {"{{inputs.parameters.builder}}"}


def test_no_secret_travels_in_a_parameter_argument_or_env(docs: list[Doc]) -> None:
    for wt in by_kind(docs, "WorkflowTemplate"):
        spec = wt.body["spec"]
        for p in spec.get("arguments", {}).get("parameters", []):
            assert not SECRETISH.search(p["name"]), (wt.name, p["name"])
        for name, c, t in containers(wt):
            for p in t.get("inputs", {}).get("parameters", []):
                assert not SECRETISH.search(p["name"]), (wt.name, name, p["name"])
            for e in c.get("env", []):
                assert "valueFrom" not in e, (wt.name, name, e)
            for a in c.get("args", []):
                flag = a.split("=", 1)[0]
                if SECRETISH.search(flag):
                    # Only paths to mounted files may be passed (…-file / …-dir flags).
                    assert flag in {"--credentials-dir", "--source-credentials-dir", "--token-file"}, (wt.name, name, a)
                    assert a.split("=", 1)[1].startswith("/secrets/"), (wt.name, name, a)
        for v in spec.get("volumes", []):
            if "secret" in v:
                assert "items" not in v["secret"] or all(i["path"] for i in v["secret"]["items"])
    for s in by_kind(docs, "Secret"):
        assert s.body["type"] == "kubernetes.io/service-account-token"
        assert "data" not in s.body and "stringData" not in s.body


def test_pr_lane_never_sees_release_or_gitops_credentials(docs: list[Doc]) -> None:
    pr = one(docs, "WorkflowTemplate", "luban-ci-pr").body["spec"]
    secrets = {v["secret"]["secretName"] for v in pr["volumes"] if "secret" in v}
    assert secrets == {"luban-git-credentials", "luban-github-status", "luban-registry-pr"}
    assert pr["serviceAccountName"] == "luban-ci-pr"
    assert all(t["name"] != "deploy" for t in pr["templates"])
    release = one(docs, "WorkflowTemplate", "luban-ci").body["spec"]
    assert {v["secret"]["secretName"] for v in release["volumes"] if "secret" in v} == {
        "luban-git-credentials", "luban-github-status", "luban-registry", "luban-gitops-credentials"}


def test_every_sensor_filter_regex_is_anchored_and_filters_on_the_body_event(docs: list[Doc]) -> None:
    sensor = one(docs, "Sensor", "github").body["spec"]
    for dep in sensor["dependencies"]:
        paths = [f["path"] for f in dep["filters"]["data"]]
        assert "body.X-GitHub-Event" in paths, dep["name"]
        for f in dep["filters"]["data"]:
            if f["type"] == "string":
                for value in f["value"]:
                    # Anchored; a leading flag group such as (?i) is allowed before the anchor.
                    assert re.sub(r"^\(\?[a-z]+\)", "", value).startswith("^") and value.endswith("$"), (
                        dep["name"], f["path"], value)
                    re.compile(value)
    for trig in sensor["triggers"]:
        assert trig["template"]["conditions"] in {d["name"] for d in sensor["dependencies"]}
        assert trig["template"]["k8s"]["operation"] == "create"


def test_webhook_secret_is_mandatory_and_the_route_targets_the_eventsource_service(docs: list[Doc]) -> None:
    gh = one(docs, "EventSource", "github").body["spec"]["github"]["github"]
    assert gh["webhookSecret"] == {"name": "luban-github-webhook", "key": "secret"}
    route = one(docs, "HTTPRoute", "github-webhook").body["spec"]
    (rule,) = route["rules"]
    assert rule["backendRefs"][0]["name"] == "github-eventsource-svc"
    assert rule["backendRefs"][0]["port"] == int(gh["webhook"]["port"])
    assert rule["matches"][0]["path"] == {"type": "Exact", "value": gh["webhook"]["endpoint"]}


def test_rbac_grants_each_service_account_only_what_its_steps_need(docs: list[Doc]) -> None:
    rules = {d.name: d.body["rules"] for d in by_kind(docs, "Role")}
    assert rules == {
        "luban-sensor": [{"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]}],
        "luban-ci-executor": [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}],
        "luban-ci-supersede": [{"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["list", "patch"]}],
        "luban-ci-viewer": [
            {"apiGroups": ["argoproj.io"], "resources": ["workflows", "workflowtemplates"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}],
    }
    assert not list(by_kind(docs, "ClusterRole"))
    for name in ("luban-ci", "luban-ci-pr"):
        spec = one(docs, "WorkflowTemplate", name).body["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert not [t["name"] for t in spec["templates"] if t.get("automountServiceAccountToken")]
        # Only supersede holds an API token, projected explicitly: Argo mounts none into the main
        # container while executor.serviceAccountName is set, whatever automount says.
        tokens = [t["name"] for t in spec["templates"]
                  for v in t.get("volumes", []) for src in v.get("projected", {}).get("sources", [])
                  if "serviceAccountToken" in src]
        assert tokens == ["supersede"]
        supersede = next(t for t in spec["templates"] if t["name"] == "supersede")
        assert {"name": "kube-api", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "readOnly": True} in supersede["container"]["volumeMounts"]


def test_superseding_runs_the_step_tool_not_an_argo_cli_image(docs: list[Doc]) -> None:
    # `luban-step supersede` lists and merge-patches through the API (list + patch, above); the
    # argocli image is neither built here nor needed.
    for name in ("luban-ci", "luban-ci-pr"):
        spec = one(docs, "WorkflowTemplate", name).body["spec"]
        images = {t["name"]: t["container"]["image"] for t in spec["templates"] if "container" in t}
        supersede = next(t for t in spec["templates"] if t["name"] == "supersede")
        assert supersede["serviceAccountName"] == "luban-ci-supersede"
        assert supersede["container"]["command"] == ["luban-step"]
        assert supersede["container"]["args"] == [
            "supersede", "--lane={{workflow.parameters.lane}}", "--workflow={{workflow.name}}",
            "--workflow-created={{workflow.creationTimestamp}}", "--namespace={{workflow.namespace}}",
            "--revision={{workflow.parameters.revision}}", "--ref={{workflow.parameters.ref}}",
            "--source-url=https://github.com/{{workflow.parameters.repo}}.git", "--git-host=github.com",
            "--source-credentials-dir=/secrets/git", "--history-limit=5000", "--outputs=/tmp/outputs"]
        # Ancestry decides what it stops: the source history is read with the checkout's read-only
        # credentials, the only secret it mounts besides its API token.
        assert {m["name"] for m in supersede["container"]["volumeMounts"]} == {"tmp", "kube-api", "git-credentials"}
        assert set(images.values()) == {images["checkout"]}, images
    assert "argocli" not in "\n".join(json.dumps(d.body) for d in docs)


def test_a_superseded_run_reports_from_its_annotations(docs: list[Doc]) -> None:
    # supersede annotates the run it stops; the exit handler's status step reads them and posts
    # pending "superseded" instead of failure (tests/steptool/unit/test_status.py).
    for name in ("luban-ci", "luban-ci-pr"):
        spec = one(docs, "WorkflowTemplate", name).body["spec"]
        status = next(t for t in spec["templates"] if t["name"] == "status")
        assert "--workflow-annotations={{workflow.annotations.json}}" in status["container"]["args"]
        report = next(t for t in spec["templates"] if t["name"] == "report")
        assert [s["template"] for group in report["steps"] for s in group] == ["status"]


def test_one_run_per_lane_with_deadlines_retries_on_errors_only_ttl_and_pod_gc(docs: list[Doc]) -> None:
    for name in ("luban-ci", "luban-ci-pr"):
        spec = one(docs, "WorkflowTemplate", name).body["spec"]
        pipeline = next(t for t in spec["templates"] if t["name"] == "pipeline")
        assert pipeline["synchronization"]["mutexes"] == [{"name": "{{workflow.parameters.lane}}"}]
        assert spec["activeDeadlineSeconds"] > 0
        assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0
        assert spec["podGC"]["strategy"] == "OnPodSuccess"
        assert spec["onExit"] == "report"


def test_a_duplicate_delivery_builds_nothing_and_posts_no_status(docs: list[Doc]) -> None:
    # supersede says whether this run builds (result run) or repeats a commit that is being built or
    # was built (duplicate): pending and the pipeline run only for "run", and no `running` hook posts
    # pending before supersede has decided (it would cover the original's final status).
    for name in ("luban-ci", "luban-ci-pr"):
        spec = one(docs, "WorkflowTemplate", name).body["spec"]
        assert "hooks" not in spec
        main = next(t for t in spec["templates"] if t["name"] == "main")
        supersede, (pending, pipeline) = main["steps"]
        assert [s["name"] for s in supersede] == ["supersede"]
        when = "'{{steps.supersede.outputs.parameters.result}}' == 'run'"
        assert (pending["template"], pending["when"]) == ("status", when)
        assert {p["name"]: p["value"] for p in pending["arguments"]["parameters"]} == {
            "state": "pending", "description": "build running"}
        assert (pipeline["template"], pipeline["when"]) == ("pipeline", when)
        template = next(t for t in spec["templates"] if t["name"] == "supersede")
        assert template["outputs"]["parameters"] == [{"name": "result", "valueFrom": {"path": "/tmp/outputs/result"}}]


def test_retries_sit_on_container_templates_only_and_only_for_errors(docs: list[Doc]) -> None:
    # A retryStrategy on a steps/dag template (or in templateDefaults, which reaches them too)
    # re-runs every step under it: retries multiply and a whole pipeline, deploy included, re-runs.
    containers_seen = 0
    for wt in by_kind(docs, "WorkflowTemplate"):
        spec = wt.body["spec"]
        assert "retryStrategy" not in spec.get("templateDefaults", {}), wt.name
        assert "retryStrategy" not in spec, wt.name
        for t in spec["templates"]:
            if "steps" in t or "dag" in t:
                assert "retryStrategy" not in t, (wt.name, t["name"])
            if "container" in t or "containerSet" in t:
                assert t.get("retryStrategy", {}).get("retryPolicy") == "OnError", (wt.name, t["name"])
                assert int(t["retryStrategy"]["limit"]) > 0, (wt.name, t["name"])
                assert "retryStrategy" not in t.get("containerSet", {}), (wt.name, t["name"])  # no in-pod re-runs
                containers_seen += 1
    assert containers_seen >= 12


def test_argocd_applications_sync_automatically(docs: list[Doc]) -> None:
    for app in by_kind(docs, "Application"):
        policy = app.body["spec"]["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": True}
        assert "CreateNamespace=true" in policy["syncOptions"]


def test_no_container_mounts_over_the_cnb_app_directory(docs: list[Doc]) -> None:
    # /workspace is the app directory of every image our builder makes (the step tool's included):
    # a volume mounted there hides the app's own code. The one exception is the build itself, where
    # /workspace is the app to build: the lifecycle's detect, build and export phases get the app
    # detect prepared there, as pack gives it.
    mounts = [
        (wt.name, name, m["mountPath"], m.get("subPath"), c.get("command"))
        for wt in by_kind(docs, "WorkflowTemplate")
        for name, c, _unused in containers(wt)
        for m in c.get("volumeMounts", [])
    ]
    assert mounts
    assert [m[:3] for m in mounts if (m[2] == "/workspace" or m[2].startswith("/workspace/"))
            and not (m[0].startswith("luban-build-")
                     and m[4] in (["/cnb/lifecycle/detector"], ["/cnb/lifecycle/builder"], ["/cnb/lifecycle/exporter"])
                     and m[2:4] == ("/workspace", "build/app"))] == []


def test_only_the_sensor_may_start_a_run(docs: list[Doc]) -> None:
    # Issue 10 item 4: whoever creates (or resubmits, or updates and retries) a Workflow in the
    # pipeline namespace chooses its parameters: any code to any app. Only the Sensor's service
    # account may create one; supersede may patch (stop); people get luban-ci-viewer (read only).
    writers = {}
    for role in by_kind(docs, "Role"):
        for rule in role.body["rules"]:
            if "argoproj.io" in rule["apiGroups"] and {"workflows", "*"} & set(rule["resources"]):
                verbs = set(rule["verbs"]) & {"create", "update", "patch", "delete", "deletecollection", "*"}
                if verbs:
                    writers[role.name] = sorted(verbs)
    assert writers == {"luban-sensor": ["create"], "luban-ci-supersede": ["patch"]}
    bound = {(b.body["roleRef"]["name"], s["kind"], s["name"]) for b in by_kind(docs, "RoleBinding")
             for s in b.body["subjects"]}
    assert {name for role, _kind, name in bound if role == "luban-sensor"} == {"luban-sensor"}
    assert {name for role, _kind, name in bound if role == "luban-ci-supersede"} == {"luban-ci-supersede"}
    # The Workflows the Sensor creates carry a template reference and arguments, nothing that
    # templateReferencing: Strict would have to refuse.
    sensor = one(docs, "Sensor", "github").body
    for trigger in sensor["spec"]["triggers"]:
        spec = trigger["template"]["k8s"]["source"]["resource"]["spec"]
        assert set(spec) == {"workflowTemplateRef", "arguments"}, spec


def test_the_test_cluster_runs_the_controller_with_template_referencing_strict() -> None:
    # The platform setting the install guide requires; the end-to-end tier runs under it.
    cm = yaml.safe_load((REPO / "files/cluster/platform/argo-workflows/workflow-controller-configmap.yaml").read_text())
    assert yaml.safe_load(cm["data"]["workflowRestrictions"]) == {"templateReferencing": "Strict"}
    guide = (REPO / "docs/install-orbstack.md").read_text()
    assert "templateReferencing: Strict" in guide


def test_a_release_deploys_only_when_its_workflow_says_so(docs: list[Doc]) -> None:
    # The Sensor passes deploy=false for a tag push unless argo_events_release_gitops_path_prefix
    # is set (tests/manifests/test_webhooks.py); the build's second tag is the Sensor's too.
    spec = one(docs, "WorkflowTemplate", "luban-ci").body["spec"]
    pipeline = next(t for t in spec["templates"] if t["name"] == "pipeline")
    steps = {s["name"]: s for group in pipeline["steps"] for s in group}
    assert steps["deploy"]["when"] == "'{{workflow.parameters.deploy}}' == 'true'"
    build = {p["name"]: p["value"] for p in steps["build"]["arguments"]["parameters"]}
    assert (build["image-tag"], build["moving-tag"]) == ("{{workflow.parameters.image-tag}}",
                                                         "{{workflow.parameters.moving-tag}}")
    build_template = one(docs, "WorkflowTemplate", "luban-build-python").body["spec"]["templates"][0]
    phases = {c["name"]: c for c in build_template["containerSet"]["containers"]}
    # analyze checks it may write the tag export then pushes.
    assert "-tag={{inputs.parameters.image-repository}}:{{inputs.parameters.moving-tag}}" in phases["analyze"]["args"]
    assert phases["export"]["args"][-2:] == ["{{inputs.parameters.image-repository}}:{{inputs.parameters.moving-tag}}",
                                             "{{inputs.parameters.inputs-tag}}"]
    # A run of inputs built already tags the found image the same way.
    rebase = {p["name"]: p["value"] for p in steps["rebase"]["arguments"]["parameters"]}
    assert (rebase["image-tag"], rebase["moving-tag"]) == (build["image-tag"], build["moving-tag"])
    assert {"name": "moving-tag", "default": "latest"} in build_template["inputs"]["parameters"]
