"""A registry without TLS and a git server / GitHub API behind an internal CA: the two options
render what the lifecycle and the step tool read, and nothing when left at their defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_docs, one, render, run_validate

PRIVATE = {
    "argo_workflows_insecure_registries": ["10.0.0.5:5000", "registry.internal"],
    "argo_workflows_ca_bundle_configmap": "internal-ca",
}
BUNDLE = "/etc/luban-ci/ca/ca-certificates.crt"


@pytest.fixture(scope="module")
def private_manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("private"), PRIVATE)


def _templates(docs, name: str) -> dict[str, dict]:
    return {t["name"]: t for t in one(docs, "WorkflowTemplate", name).body["spec"]["templates"]}


def test_private_variant_passes_argo_validation(argo_validate: Path, private_manifests: Path) -> None:
    code, report, stderr = run_validate(argo_validate, "lint", str(private_manifests))
    assert code == 0, [r for r in report.get("results", []) if not r["ok"]] or stderr


def test_insecure_registries_reach_the_lifecycle(private_manifests: Path) -> None:
    docs = load_docs(private_manifests)
    build, rebase = one(docs, "WorkflowTemplate", "luban-build-python").body["spec"]["templates"]
    for phase in build["containerSet"]["containers"]:
        env = {e["name"]: e["value"] for e in phase["env"]}
        # Only the phases that talk to the registry.
        expected = "10.0.0.5:5000,registry.internal" if phase["name"] in ("analyze", "restore", "export") else None
        assert env.get("CNB_INSECURE_REGISTRIES") == expected, phase["name"]
    assert {"name": "CNB_INSECURE_REGISTRIES", "value": "10.0.0.5:5000,registry.internal"} in rebase["container"]["env"]
    # The step that looks the inputs' image up reads the same registries.
    for name in ("luban-ci", "luban-ci-pr"):
        args = _templates(docs, name)["inputs"]["container"]["args"]
        assert [a for a in args if a.startswith("--insecure-registry=")] == [
            "--insecure-registry=10.0.0.5:5000", "--insecure-registry=registry.internal"]


def test_ca_bundle_is_trusted_by_the_steps_that_reach_git_or_github(private_manifests: Path) -> None:
    docs = load_docs(private_manifests)
    for name, steps in (("luban-ci", ("checkout", "deploy", "status")), ("luban-ci-pr", ("checkout", "status"))):
        wft = one(docs, "WorkflowTemplate", name).body["spec"]
        assert {"name": "ca-bundle", "configMap": {"name": "internal-ca"}} in wft["volumes"]
        templates = _templates(docs, name)
        for step in steps:
            container = templates[step]["container"]
            env = {e["name"]: e["value"] for e in container["env"]}
            assert env == {"SSL_CERT_FILE": BUNDLE, "GIT_SSL_CAINFO": BUNDLE}, (name, step)
            assert {"name": "ca-bundle", "mountPath": "/etc/luban-ci/ca", "readOnly": True} in container["volumeMounts"]
        # Steps that reach neither keep the image's own trust store.
        for step in ("detect", "digest"):
            assert "env" not in templates[step]["container"], (name, step)


def test_defaults_add_neither(docs) -> None:
    build, rebase = one(docs, "WorkflowTemplate", "luban-build-python").body["spec"]["templates"]
    for phase in build["containerSet"]["containers"] + [rebase["container"]]:
        assert "CNB_INSECURE_REGISTRIES" not in {e["name"] for e in phase["env"]}
    for name in ("luban-ci", "luban-ci-pr"):
        spec = one(docs, "WorkflowTemplate", name).body["spec"]
        assert "ca-bundle" not in {v["name"] for v in spec["volumes"]}
        for template in spec["templates"]:
            assert "SSL_CERT_FILE" not in {e["name"] for e in template.get("container", {}).get("env", [])}
