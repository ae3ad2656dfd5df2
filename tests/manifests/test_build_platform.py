"""The cluster build sees what `pack build` would give the lifecycle: the app detect prepared
(project.toml include/exclude, no .git) at /workspace, the build env files at /platform/env, the
operator's bindings at /platform/bindings/<name>; never a credential in an argument or the image."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ANALYZE, REPO, Doc, by_kind, load_docs, one, render, run_validate

BINDINGS = {
    "argo_workflows_build_bindings": [
        {"name": "corporate-ca", "type": "ca-certificates", "configMap": "corporate-ca"},
        {"name": "pypi", "type": "netrc", "secret": "pypi-netrc"},
        {"name": "python-mirror", "type": "uv-python-mirror", "persistentVolumeClaim": "python-mirror"},
    ],
    "argo_workflows_build_env": {"UV_INDEX_URL": "https://pypi.example.org/simple",
                                 "HTTPS_PROXY": "http://proxy.internal:3128"},
}


@pytest.fixture(scope="module")
def bindings_manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("bindings"), BINDINGS)


def build_template(docs: list[Doc], name: str = "build") -> dict:
    templates = one(docs, "WorkflowTemplate", "luban-build-python").body["spec"]["templates"]
    assert [t["name"] for t in templates] == ["build", "rebase"]
    return next(t for t in templates if t["name"] == name)


def phases(docs: list[Doc]) -> dict[str, dict]:
    """The build's containers by name: the lifecycle's phases, in the order they run."""
    return {c["name"]: c for c in build_template(docs)["containerSet"]["containers"]}


def detect_args(docs: list[Doc], lane: str) -> list[str]:
    templates = one(docs, "WorkflowTemplate", lane).body["spec"]["templates"]
    return next(t for t in templates if t["name"] == "detect")["container"]["args"]


def mounts(container: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in container["volumeMounts"]}


CREDENTIALED = ("analyze", "restore", "export")
APP_CODE = ("detect", "build")  # where the buildpacks, and through them the app's own code, run


def test_the_lifecycle_runs_as_five_phases_in_order(docs: list[Doc]) -> None:
    containers = phases(docs)
    assert list(containers) == ["analyze", "detect", "restore", "build", "export"]
    assert {name: c.get("dependencies") for name, c in containers.items()} == {
        "analyze": None, "detect": ["analyze"], "restore": ["detect"], "build": ["restore"], "export": ["build"]}
    assert {name: c["command"] for name, c in containers.items()} == {
        "analyze": ANALYZE, "detect": ["/cnb/lifecycle/detector"],
        "restore": ["/cnb/lifecycle/restorer"], "build": ["/cnb/lifecycle/builder"],
        "export": ["/cnb/lifecycle/exporter"]}
    assert {c["image"] for c in containers.values()} == {"{{inputs.parameters.builder}}"}
    export = containers["export"]["args"]
    assert export[-3:] == ["{{inputs.parameters.image-repository}}:{{inputs.parameters.image-tag}}",
                           "{{inputs.parameters.image-repository}}:{{inputs.parameters.moving-tag}}",
                           "{{inputs.parameters.inputs-tag}}"]
    assert "-report=/work/report.toml" in export


def test_the_app_build_code_never_holds_a_credential(docs: list[Doc]) -> None:
    """detect and build run the buildpacks and, through them, the app's build backend and every
    sdist's setup.py: no registry credential, no workspace (the checkout), no service account token."""
    containers = phases(docs)
    spec = one(docs, "WorkflowTemplate", "luban-ci").body["spec"]
    secret_volumes = ({v["name"] for v in spec["volumes"] + build_template(docs)["volumes"] if "secret" in v}
                      | {"workspace"})
    for name in APP_CODE:
        c = containers[name]
        env = {e["name"] for e in c.get("env", [])}
        assert env == {"CNB_PLATFORM_API"}, name
        assert not [m for m in c["volumeMounts"] if m["name"] in secret_volumes and m.get("subPath") is None], name
        assert {(m["name"], m.get("subPath")) for m in c["volumeMounts"] if m["name"] == "workspace"} == {
            ("workspace", "build/app"), ("workspace", "build/platform/env")}, name
    for name in CREDENTIALED:
        c = containers[name]
        assert {"name": "registry", "mountPath": "/secrets/registry", "readOnly": True} in c["volumeMounts"], name
        assert {"name": "DOCKER_CONFIG", "value": "/secrets/registry"} in c["env"], name
        assert not [m for m in c["volumeMounts"] if m["mountPath"].startswith("/platform")], name
    # No token in any of them: the Workflow mounts none unless a template asks for one.
    assert spec["automountServiceAccountToken"] is False
    assert "automountServiceAccountToken" not in build_template(docs)


def test_the_phases_running_app_code_get_the_app_detect_prepared_with_its_env_files(docs: list[Doc]) -> None:
    containers = phases(docs)
    for name in APP_CODE:
        args = containers[name]["args"]
        assert "-app=/workspace" in args and "-platform=/platform" in args and "-layers=/layers" in args
    # detect writes DIR/app and DIR/platform/env on the workspace volume; the phases mount exactly
    # those directories where the lifecycle reads them.
    for lane in ("luban-ci", "luban-ci-pr"):
        detect = next(t for t in one(docs, "WorkflowTemplate", lane).body["spec"]["templates"] if t["name"] == "detect")
        work = mounts(detect["container"])["/work"]
        assert work["name"] == "workspace" and not work.get("readOnly")
        (prepare,) = [a.split("=", 1)[1] for a in detect["container"]["args"] if a.startswith("--prepare-dir=")]
        assert prepare.startswith("/work/")
        relative = prepare[len("/work/"):]
        for name in APP_CODE:
            by_path = mounts(containers[name])
            assert by_path["/workspace"] == {"name": "workspace", "mountPath": "/workspace", "subPath": relative + "/app"}
            assert by_path["/platform/env"] == {"name": "workspace", "mountPath": "/platform/env",
                                                "subPath": relative + "/platform/env", "readOnly": True}
            assert by_path["/platform"]["name"] == "platform"
            assert not [p for p in by_path if p.startswith("/platform/bindings")]  # none by default
        assert mounts(containers["export"])["/workspace"]["subPath"] == relative + "/app"


def test_bindings_are_mounted_where_the_buildpack_reads_them_with_their_type(bindings_manifests: Path) -> None:
    docs = load_docs(bindings_manifests)
    build = build_template(docs)
    volumes = {v["name"]: v for v in build["volumes"]}
    annotations = build["metadata"]["annotations"]
    assert annotations == {"bindings.luban.ci/corporate-ca": "ca-certificates", "bindings.luban.ci/pypi": "netrc",
                           "bindings.luban.ci/python-mirror": "uv-python-mirror"}
    for name, container in phases(docs).items():
        by_path = mounts(container)
        bound = [p for p in by_path if p.startswith("/platform/bindings/")]
        if name in CREDENTIALED:
            assert bound == [], name  # the phases holding credentials never see the bindings either
            continue
        for binding in BINDINGS["argo_workflows_build_bindings"]:
            mount = by_path["/platform/bindings/" + binding["name"]]
            assert mount["readOnly"] is True
            volume = volumes[mount["name"]]
            if "persistentVolumeClaim" in binding:
                assert volume["persistentVolumeClaim"] == {"claimName": binding["persistentVolumeClaim"], "readOnly": True}
                continue
            kind = "secret" if "secret" in binding else "configMap"
            source, type_file = volume["projected"]["sources"]
            assert source == {kind: {"name": binding[kind]}}
            # The type comes last, so a `type` key of the Secret or ConfigMap cannot override it.
            assert type_file == {"downwardAPI": {"items": [{"path": "type", "fieldRef": {
                "fieldPath": "metadata.annotations['bindings.luban.ci/%s']" % binding["name"]}}]}}
            assert volume["projected"]["defaultMode"] == 0o440
        # Nothing secret is mounted where the lifecycle exports from (the app, the layers).
        for path, mount in by_path.items():
            if mount["name"].startswith("binding-"):
                assert path.startswith("/platform/bindings/"), path


def test_the_operator_build_env_reaches_detect_in_both_lanes(bindings_manifests: Path) -> None:
    docs = load_docs(bindings_manifests)
    for lane in ("luban-ci", "luban-ci-pr"):
        args = detect_args(docs, lane)
        assert [a for a in args if a.startswith("--build-env=")] == [
            "--build-env=HTTPS_PROXY=http://proxy.internal:3128",
            "--build-env=UV_INDEX_URL=https://pypi.example.org/simple"]


def test_the_templates_with_bindings_pass_argo_validation(argo_validate: Path, bindings_manifests: Path) -> None:
    code, report, stderr = run_validate(argo_validate, "lint", str(bindings_manifests))
    assert code == 0, [r for r in report.get("results", []) if not r["ok"]] or stderr


def test_every_detect_call_with_bindings_parses_with_the_step_tool(bindings_manifests: Path) -> None:
    import sys

    sys.path.insert(0, str(REPO / "files" / "steptool" / "src"))
    try:
        from luban_step.cli import parser
    finally:
        sys.path.pop(0)
    for lane in ("luban-ci", "luban-ci-pr"):
        args = parser().parse_args(detect_args(load_docs(bindings_manifests), lane))
        assert args.prepare_dir == "/work/build"
        assert args.build_env == ["HTTPS_PROXY=http://proxy.internal:3128", "UV_INDEX_URL=https://pypi.example.org/simple"]


def _render_fails(tmp: Path, extra: dict) -> str:
    """The failed task's message, exactly (the JSON callback: no YAML quoting or line folding),
    followed by everything else the run printed."""
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/orbstack", "playbooks/manifests.yml",
         "-e", json.dumps({"luban_manifests_dir": str(tmp / "m"), **extra})],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    assert proc.returncode != 0, "the role accepted %s" % extra
    report = json.loads(proc.stdout)
    results = [result for play in report["plays"] for task in play["tasks"] for result in task["hosts"].values()]
    results += [item for result in results for item in result.get("results", [])]  # a loop's items
    failed = [result["msg"] for result in results if "results" not in result
              and (result.get("failed") or result.get("evaluated_to") is False)]
    assert len(failed) == 1, proc.stdout[-3000:]
    return failed[0] + "\n" + proc.stdout + proc.stderr


def test_bad_bindings_and_credential_env_are_refused_word_for_word(tmp_path: Path) -> None:
    out = _render_fails(tmp_path, {
        "argo_workflows_build_bindings": [{"name": "Bad_Name", "type": "netrc", "secret": "a", "configMap": "b"}]})
    assert (
        'The build binding {"configMap": "b", "name": "Bad_Name", "secret": "a", "type": "netrc"} is refused: the '
        "name is not valid; it names 2 sources. Each entry of argo_workflows_build_bindings is mounted at "
        "/platform/bindings/<name> of every cluster build, so it needs a name of lowercase letters, digits and '-' "
        "(at most 55, unique), a lowercase type, and exactly one of secret, configMap or persistentVolumeClaim "
        "naming an object in the namespace. Fix the entry and run again.") in out
    out = _render_fails(tmp_path, {"argo_workflows_build_env": {"PYPI_TOKEN": "abc"}})
    assert (
        "The build env variable PYPI_TOKEN is refused: the name looks like a credential. argo_workflows_build_env "
        "is written into the WorkflowTemplate, readable by everyone who can read Workflows, and into every "
        "build's /platform/env. Give it a name of letters, digits and '_' and a plain value; pass credentials as "
        "a binding (netrc) instead.") in out
    out = _render_fails(tmp_path, {"argo_workflows_build_env": {"UV_INDEX_URL": "https://me:pw@pypi.internal/simple"}})
    assert "The build env variable UV_INDEX_URL is refused: the value holds a URL with a password." in out
    assert "me:pw" not in out  # the refusal never echoes the value


def test_no_binding_appears_without_being_asked_for(docs: list[Doc]) -> None:
    for wt in by_kind(docs, "WorkflowTemplate"):
        text = json.dumps(wt.body)
        assert "bindings.luban.ci" not in text and "--build-env" not in text, wt.name


def test_the_phases_find_the_workflow_volumes_they_mount_in_their_own_template(docs: list[Doc]) -> None:
    """Argo adds a Workflow-level volume to a containerSet pod only for the set's shared mounts
    (found on the test cluster: "volumeMounts[1].name: Not found: registry"), so the build template
    declares the two it mounts phase by phase, the push secret being the calling lane's."""
    build = build_template(docs)
    volumes = {v["name"]: v for v in build["volumes"]}
    assert volumes["workspace"] == {"name": "workspace", "persistentVolumeClaim": {"claimName": "{{workflow.name}}-workspace"}}
    assert volumes["registry"]["secret"]["secretName"] == "{{inputs.parameters.registry-robot}}"
    assert volumes["registry"]["secret"]["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
    assert "volumeMounts" not in build["containerSet"]
    for lane, secret in (("luban-ci", "luban-registry"), ("luban-ci-pr", "luban-registry-pr")):
        spec = one(docs, "WorkflowTemplate", lane).body["spec"]
        assert [c["metadata"]["name"] for c in spec["volumeClaimTemplates"]] == ["workspace"]
        assert {"name": "registry", "secret": {"secretName": secret, "defaultMode": 0o440,
                "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}} in spec["volumes"]
        pipeline = next(t for t in spec["templates"] if t["name"] == "pipeline")
        (build_step,) = [s for group in pipeline["steps"] for s in group if s["name"] == "build"]
        assert {"name": "registry-robot", "value": secret} in build_step["arguments"]["parameters"]


def test_one_registry_robot_per_app_when_asked(tmp_path: Path) -> None:
    """argo_workflows_registry_robot_per_app: each lane's build (and, with the pack engine, the
    Workflow's own registry volume) mounts <lane secret>-<app-name>, the Sensor's OWNER-NAME."""
    docs = load_docs(render(tmp_path, {"argo_workflows_registry_robot_per_app": True}))
    for lane, secret in (("luban-ci", "luban-registry"), ("luban-ci-pr", "luban-registry-pr")):
        spec = one(docs, "WorkflowTemplate", lane).body["spec"]
        per_app = secret + "-{{workflow.parameters.app-name}}"
        assert "app-name" in [p["name"] for p in spec["arguments"]["parameters"]]
        (volume,) = [v for v in spec["volumes"] if v["name"] == "registry"]
        assert volume["secret"]["secretName"] == per_app
        pipeline = next(t for t in spec["templates"] if t["name"] == "pipeline")
        (build_step,) = [s for group in pipeline["steps"] for s in group if s["name"] == "build"]
        assert {"name": "registry-robot", "value": per_app} in build_step["arguments"]["parameters"]


def test_a_run_of_built_inputs_rebases_the_found_image_with_the_lifecycle_and_runs_no_app_code(docs: list[Doc]) -> None:
    """reuse and rebase: the lifecycle's rebaser in the builder image, with the registry credentials
    like export, the workspace for the report and nothing of /platform (no buildpack runs)."""
    rebase = build_template(docs, "rebase")
    c = rebase["container"]
    assert (c["image"], c["command"]) == ("{{inputs.parameters.builder}}", ["/cnb/lifecycle/rebaser"])
    assert c["args"][:3] == ["-previous-image={{inputs.parameters.previous-image}}",
                             "-run-image={{inputs.parameters.run-image}}", "-report=/work/report.toml"]
    assert c["args"][-3:] == ["{{inputs.parameters.image-repository}}:{{inputs.parameters.image-tag}}",
                              "{{inputs.parameters.image-repository}}:{{inputs.parameters.moving-tag}}",
                              "{{inputs.parameters.inputs-tag}}"]
    assert {(m["name"], m["mountPath"]) for m in c["volumeMounts"]} == {("workspace", "/work"),
                                                                        ("registry", "/secrets/registry")}
    assert {"name": "DOCKER_CONFIG", "value": "/secrets/registry"} in c["env"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False and c["securityContext"]["runAsNonRoot"] is True
    assert "automountServiceAccountToken" not in rebase


@pytest.mark.parametrize("lane", ["luban-ci", "luban-ci-pr"])
def test_the_inputs_step_decides_between_the_build_and_the_rebase(docs: list[Doc], lane: str) -> None:
    spec = one(docs, "WorkflowTemplate", lane).body["spec"]
    pipeline = next(t for t in spec["templates"] if t["name"] == "pipeline")
    names = [[step["name"] for step in group] for group in pipeline["steps"]]
    assert names[:4] == [["checkout"], ["detect"], ["inputs"], ["build", "tag", "rebase"]]
    build, tag, rebase = pipeline["steps"][3]
    assert build["when"] == "'{{steps.inputs.outputs.parameters.action}}' == 'build'"
    assert tag["when"] == "'{{steps.inputs.outputs.parameters.action}}' == 'reuse'"
    assert rebase["when"] == "'{{steps.inputs.outputs.parameters.action}}' == 'rebase'"
    assert tag["arguments"]["parameters"] == [{"name": "image", "value": "{{steps.inputs.outputs.parameters.image}}"}]
    # A reuse keeps the found manifest: the run's tags point at it, with the build's robot.
    container = next(t for t in spec["templates"] if t["name"] == "tag")["container"]
    assert container["args"][:2] == ["tag", "--image={{inputs.parameters.image}}"]
    assert {"name": "registry", "mountPath": "/secrets/registry", "readOnly": True} in container["volumeMounts"]
    assert rebase["templateRef"] == {"name": "{{steps.detect.outputs.parameters.template}}", "template": "rebase"}
    for step in (build, rebase):
        given = {p["name"]: p["value"] for p in step["arguments"]["parameters"]}
        assert given["inputs-tag"] == "{{steps.inputs.outputs.parameters.tag}}"
    inputs = next(t for t in spec["templates"] if t["name"] == "inputs")["container"]
    # The step reads the app detect laid out and the registry; it writes nothing of the run's.
    assert {"name": "workspace", "mountPath": "/work", "readOnly": True} in inputs["volumeMounts"]
    assert {"name": "registry", "mountPath": "/secrets/registry", "readOnly": True} in inputs["volumeMounts"]
    assert "--app=/work/build/app" in inputs["args"] and "--platform-env=/work/build/platform/env" in inputs["args"]
    assert "--reuse=true" in inputs["args"]


def test_the_inputs_step_reads_the_bindings_the_build_mounts_to_count_their_contents(bindings_manifests: Path) -> None:
    docs = load_docs(bindings_manifests)
    build = build_template(docs)
    for lane in ("luban-ci", "luban-ci-pr"):
        inputs = next(t for t in one(docs, "WorkflowTemplate", lane).body["spec"]["templates"] if t["name"] == "inputs")
        # The same volumes and type annotations as the build's, read-only at /bindings/<name>.
        assert inputs["volumes"] == build["volumes"][-3:] and inputs["metadata"] == build["metadata"]
        assert [a for a in inputs["container"]["args"] if a.startswith("--binding=")] == [
            "--binding=corporate-ca=/bindings/corporate-ca", "--binding=pypi=/bindings/pypi",
            "--binding=python-mirror=/bindings/python-mirror"]
        bound = {m["mountPath"]: m for m in inputs["container"]["volumeMounts"] if m["name"].startswith("binding-")}
        assert sorted(bound) == ["/bindings/corporate-ca", "/bindings/pypi", "/bindings/python-mirror"]
        assert all(m["readOnly"] is True for m in bound.values())
