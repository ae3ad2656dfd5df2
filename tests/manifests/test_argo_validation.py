"""Strict decoding into the Argo Workflows v4 / Argo Events v1.9 Go types and Argo's own
validators (the code behind `argo lint` and the Argo Events controller), via argo-validate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import run_validate


@pytest.fixture(scope="module")
def lint_report(argo_validate: Path, manifests_dir: Path) -> dict:
    code, report, stderr = run_validate(argo_validate, "lint", str(manifests_dir))
    assert report, stderr
    failures = [r for r in report["results"] if not r["ok"]]
    assert code == 0 and not failures, failures
    return report


def _checks(report: dict) -> set[tuple[str, str, str]]:
    return {(r["kind"], r["name"], r["check"]) for r in report["results"]}


def test_every_argo_object_passes_argo_validation(lint_report: dict) -> None:
    assert _checks(lint_report) == {
        ("WorkflowTemplate", "luban-build-python", "argo-workflows-validate"),
        ("WorkflowTemplate", "luban-ci", "argo-workflows-validate"),
        ("WorkflowTemplate", "luban-ci-pr", "argo-workflows-validate"),
        ("WorkflowTemplate", "luban-ci", "argo-workflows-validate-templateref"),
        ("WorkflowTemplate", "luban-ci-pr", "argo-workflows-validate-templateref"),
        ("WorkflowTemplate", "luban-ci", "argo-workflows-podspecpatch"),
        ("WorkflowTemplate", "luban-ci-pr", "argo-workflows-podspecpatch"),
        ("NetworkPolicy", "luban-ci-pr", "strict-decode"),
        ("EventBus", "default", "argo-events-validate"),
        ("EventSource", "github", "argo-events-validate"),
        ("Sensor", "github", "argo-events-validate"),
    }


def test_run_time_build_reference_is_resolved_for_every_registered_language(lint_report: dict) -> None:
    details = {r["detail"] for r in lint_report["results"] if r["check"] == "argo-workflows-validate-templateref"}
    # The build and, for a run of inputs built already, the rebase (luban-step inputs decides).
    assert details == {"2 run-time templateRef(s) resolved to luban-build-python"}


def _copy_with(manifests_dir: Path, tmp: Path, rel: str, edit) -> Path:
    out = tmp / "m"
    shutil.copytree(manifests_dir, out)
    path = out / rel
    docs = list(yaml.safe_load_all(path.read_text()))
    edit(docs[0])
    path.write_text(yaml.safe_dump_all(docs))
    return out


def _failures(argo_validate: Path, root: Path) -> list[dict]:
    code, report, stderr = run_validate(argo_validate, "lint", str(root))
    assert code == 1, f"expected a failure, got exit {code}: {stderr}"
    return [r for r in report["results"] if not r["ok"]]


def test_a_misspelled_workflow_field_is_refused(argo_validate: Path, manifests_dir: Path, tmp_path: Path) -> None:
    root = _copy_with(manifests_dir, tmp_path, "argo_workflows/40-workflowtemplate-luban-ci.yaml",
                      lambda d: d["spec"].update(activeDeadlineSecond=5))
    (failure,) = _failures(argo_validate, root)
    assert failure["check"] == "strict-decode"
    assert 'unknown field "spec.activeDeadlineSecond"' in failure["error"]


def test_a_misspelled_sensor_field_is_refused(argo_validate: Path, manifests_dir: Path, tmp_path: Path) -> None:
    root = _copy_with(manifests_dir, tmp_path, "argo_events/40-sensor-github.yaml",
                      lambda d: d["spec"]["dependencies"][0].update(filter=d["spec"]["dependencies"][0].pop("filters")))
    (failure,) = _failures(argo_validate, root)
    assert failure["check"] == "strict-decode"
    assert 'unknown field "spec.dependencies[0].filter"' in failure["error"]


def test_a_missing_language_template_is_caught(argo_validate: Path, manifests_dir: Path, tmp_path: Path) -> None:
    def add_language(cm: dict) -> None:
        cm["data"]["registry.json"] = cm["data"]["registry.json"].replace(
            "}]", '}, {"name": "go", "detect": ["go.mod"], "builder": "b:1", "template": "luban-build-go"}]')
    root = _copy_with(manifests_dir, tmp_path, "argo_workflows/20-configmap-luban-languages.yaml", add_language)
    failures = _failures(argo_validate, root)
    assert {f["name"] for f in failures} == {"luban-ci", "luban-ci-pr"}
    assert all("luban-build-go" in f["error"] for f in failures)


def test_a_sensor_trigger_with_an_unknown_operation_is_refused(argo_validate: Path, manifests_dir: Path, tmp_path: Path) -> None:
    root = _copy_with(manifests_dir, tmp_path, "argo_events/40-sensor-github.yaml",
                      lambda d: d["spec"]["triggers"][0]["template"]["k8s"].update(operation="replace"))
    (failure,) = _failures(argo_validate, root)
    assert failure["check"] == "argo-events-validate"
    assert "unknown operation type replace" in failure["error"]
