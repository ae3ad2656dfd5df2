"""Rendering: every role renders its files, and Jinja ate none of Argo's {{...}} expressions."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO, Doc, one

ARGO_EXPR = re.compile(r"\{\{.*?\}\}")
ROLES = REPO / "roles"

EXPECTED_FILES = {
    "argo_workflows/00-namespace.yaml",
    "argo_workflows/10-rbac.yaml",
    "argo_workflows/20-configmap-luban-languages.yaml",
    "argo_workflows/21-configmap-luban-ci-limits.yaml",
    "argo_workflows/30-workflowtemplate-luban-build-python.yaml",
    "argo_workflows/40-workflowtemplate-luban-ci.yaml",
    "argo_workflows/41-workflowtemplate-luban-ci-pr.yaml",
    "argo_workflows/50-networkpolicy-luban-ci-pr.yaml",
    "argo_events/10-rbac.yaml",
    "argo_events/20-eventbus-default.yaml",
    "argo_events/30-eventsource-github.yaml",
    "argo_events/40-sensor-github.yaml",
    "argo_events/50-httproute-webhook.yaml",
    "argocd_apps/10-appproject.yaml",
    "argocd_apps/11-appproject-install.yaml",
    "argocd_apps/20-application-luban-ci.yaml",
    "argocd_apps/30-applications.yaml",
}

# The Sensor composes its Go templates from Jinja pieces, so its expressions are listed whole.
SENSOR_EXPRESSIONS = {
    '{{ regexReplaceAll "[^a-z0-9-]+" (lower .Input.body.repository.name) "-" | trimAll "-" | trunc 20 | trimAll "-" }}',
    "{{ .Input.id | lower | trunc 8 }}",
    '{{ trimPrefix "refs/tags/" .Input.body.ref | replace "+" "_" }}',
    "{{ .Input.body.repository.full_name | sha256sum | trunc 8 }}",
    "{{ .Input.body.after | trunc 12 }}",
    "{{ .Input.body.head_commit.id | trunc 12 }}",
    "{{ .Input.body.pull_request.head.sha | trunc 12 }}",
    '{{ print .Input.body.repository.full_name "@" (.Input.body.ref) | sha256sum | trunc 16 }}',
    '{{ print .Input.body.repository.full_name "@" (printf "refs/pull/%.0f/head" .Input.body.number) | sha256sum | trunc 16 }}',
    "{{ .Input.body.after }}",
    "{{ .Input.body.head_commit.id }}",
    "{{ .Input.body.pull_request.head.sha }}",
    "{{ .Input.body.ref }}",
    '{{ printf "refs/pull/%.0f/head" .Input.body.number }}',
    '{{ regexReplaceAll "[^a-z0-9-]+" (lower .Input.body.repository.full_name) "-" | trimAll "-" }}',
}


def _rendered(manifests_dir: Path) -> set[str]:
    return {str(p.relative_to(manifests_dir)) for p in manifests_dir.rglob("*.yaml")}


def test_every_role_renders_its_files(manifests_dir: Path) -> None:
    assert _rendered(manifests_dir) == EXPECTED_FILES


def test_no_jinja_leftovers_in_the_output(manifests_dir: Path) -> None:
    for path in manifests_dir.rglob("*.yaml"):
        text = path.read_text()
        for marker in ("[[", "]]", "{%", "%}", "{#", "#jinja2"):
            assert marker not in text, f"{path.name} still contains {marker!r}"


def test_argo_expressions_of_the_workflow_templates_survive_verbatim(
        manifests_dir: Path, variant_manifests: Path) -> None:
    """Every {{...}} written in a WorkflowTemplate source appears unchanged in the output (the
    build template's engines are rendered apart: the default lifecycle phases and the variant's pack)."""
    sources = {
        "workflowtemplate-ci.yaml.j2": ["40-workflowtemplate-luban-ci.yaml", "41-workflowtemplate-luban-ci-pr.yaml"],
        "workflowtemplate-build.yaml.j2": ["30-workflowtemplate-luban-build-python.yaml"],
    }
    for source, outputs in sources.items():
        expected = set(ARGO_EXPR.findall((ROLES / "argo_workflows" / "templates" / source).read_text()))
        assert len(expected) >= 4, f"{source}: too few Argo expressions found; the test lost its subject"
        rendered: set[str] = set()
        for out in outputs:
            for root in (manifests_dir, variant_manifests):
                rendered |= set(ARGO_EXPR.findall((root / "argo_workflows" / out).read_text()))
        assert rendered == expected, f"{source}: eaten {sorted(expected - rendered)}, new {sorted(rendered - expected)}"


def test_sensor_parameter_templates_survive_as_written(manifests_dir: Path) -> None:
    text = (manifests_dir / "argo_events" / "40-sensor-github.yaml").read_text()
    rendered = set(re.findall(r"\{\{ .*? \}\}", text))
    assert rendered == SENSOR_EXPRESSIONS


def test_workflow_name_and_status_expressions_are_intact(docs: list[Doc]) -> None:
    ci = one(docs, "WorkflowTemplate", "luban-ci").body
    report = next(t for t in ci["spec"]["templates"] if t["name"] == "report")
    state = report["steps"][0][0]["arguments"]["parameters"][0]["value"]
    assert state == "{{=workflow.status == 'Succeeded' ? 'success' : (workflow.status == 'Failed' ? 'failure' : 'error')}}"
    status = next(t for t in ci["spec"]["templates"] if t["name"] == "status")
    assert "--target-url=https://argo.example.com/workflows/{{workflow.namespace}}/{{workflow.name}}" in status["container"]["args"]


def test_argo_versions_are_pinned_once_and_the_validators_use_the_same() -> None:
    """Role defaults name the Argo releases; the Go helpers import exactly those."""
    import yaml

    defaults = {r: yaml.safe_load((ROLES / r / "defaults" / "main.yml").read_text())
                for r in ("argo_workflows", "argo_events", "argocd_apps")}
    validate_mod = (REPO / "tools" / "argo-validate" / "go.mod").read_text()
    schemas_mod = (REPO / "tools" / "crd-schemas" / "go.mod").read_text()
    assert f"github.com/argoproj/argo-workflows/v4 {defaults['argo_workflows']['argo_workflows_version']}\n" in validate_mod
    assert f"github.com/argoproj/argo-events {defaults['argo_events']['argo_events_version']}\n" in validate_mod
    assert f"github.com/argoproj/argo-cd/v3 {defaults['argocd_apps']['argocd_apps_version']}\n" in schemas_mod
    assert defaults["argo_workflows"]["argo_workflows_version"].startswith("v4.")
    assert defaults["argo_events"]["argo_events_version"].startswith("v1.9.")
    assert defaults["argocd_apps"]["argocd_apps_version"].startswith("v3.")
