"""The non-default options render valid objects, and the privileged engine says so."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import by_kind, load_docs, one, run_validate


def test_variant_passes_argo_validation(argo_validate: Path, variant_manifests: Path) -> None:
    code, report, stderr = run_validate(argo_validate, "lint", str(variant_manifests))
    assert code == 0, [r for r in report.get("results", []) if not r["ok"]] or stderr


def test_organization_hook_creation_on_ghes(variant_manifests: Path) -> None:
    gh = one(load_docs(variant_manifests), "EventSource", "github").body["spec"]["github"]["github"]
    assert gh["organizations"] == ["example"] and "repositories" not in gh
    assert gh["apiToken"] == {"name": "luban-github-api", "key": "token"}
    assert gh["webhook"]["url"] == "https://ci.example.com"
    assert gh["githubBaseURL"] == "https://ghe.example.com/api/v3/"
    assert gh["webhookSecret"]["name"] == "luban-github-webhook"


def test_pack_engine_is_opt_in_and_marked_privileged(docs, variant_manifests: Path) -> None:
    default_build = one(docs, "WorkflowTemplate", "luban-build-python").body
    assert "annotations" not in default_build["metadata"]
    build, rebase = default_build["spec"]["templates"]
    assert rebase["container"]["command"] == ["/cnb/lifecycle/rebaser"]
    assert [c["command"][-1] for c in build["containerSet"]["containers"]] == [
        "/cnb/lifecycle/analyzer", "/cnb/lifecycle/detector", "/cnb/lifecycle/restorer", "/cnb/lifecycle/builder",
        "/cnb/lifecycle/exporter"]

    variant = load_docs(variant_manifests)
    pack_build = one(variant, "WorkflowTemplate", "luban-build-python").body
    assert pack_build["metadata"]["annotations"]["luban.ci/privileged"].startswith("true")
    (create,) = pack_build["spec"]["templates"]
    # pack always builds: no inputs step, no rebase, nothing named by the step that is not there.
    for lane in ("luban-ci", "luban-ci-pr"):
        spec = one(variant, "WorkflowTemplate", lane).body["spec"]
        assert "inputs" not in {t["name"] for t in spec["templates"]}
        pipeline = next(t for t in spec["templates"] if t["name"] == "pipeline")
        assert "rebase" not in {s["name"] for group in pipeline["steps"] for s in group}
    assert create["sidecars"][0]["securityContext"]["privileged"] is True
    ns = one(variant, "Namespace", "luban-ci").body["metadata"]["labels"]
    assert ns["pod-security.kubernetes.io/enforce"] == "privileged"
    assert [d.name for d in by_kind(variant, "WorkflowTemplate") if "annotations" in d.body["metadata"]] == ["luban-build-python"]


def test_single_server_bus_asks_for_single_copy_streams(docs) -> None:
    # The orbstack inventory runs one JetStream server; the controller's default stream config
    # asks for 3 copies, which one server refuses (EventSources and Sensors then crash-loop).
    bus = one(docs, "EventBus", "default").body["spec"]["jetstream"]
    assert bus["replicas"] == 1
    assert yaml.safe_load(bus["streamConfig"]) == {"replicas": 1}
