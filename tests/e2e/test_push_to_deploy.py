"""Scenario 1 and 2: a signed push becomes a running deployment, and the next commit replaces it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import e2e_lib as e2e
import scenario

ROOT = Path(__file__).resolve().parents[2]
APP = "web-flask"
UI = "https://argo.luban-e2e.test/workflows/luban-ci/"


def _app_py(marker: str) -> dict[str, str]:
    source = (ROOT / "examples" / APP / "app.py").read_text()
    assert '"hello from luban-ci"' in source
    return {"app.py": source.replace('"hello from luban-ci"', '"hello from luban-ci %s"' % marker)}


def test_push_builds_deploys_and_the_pod_answers_with_the_pushed_content(env, tmp_path: Path) -> None:
    marker = uuid.uuid4().hex[:10]
    push, result = scenario.deploy(env, APP, tree=ROOT / "examples" / APP, files=_app_py(marker),
                                   message="scenario 1 " + marker)
    scenario.record(ROOT / "out" / "e2e-scenario1.json", push, result)
    assert result.phase == "Succeeded", result.logs[-6000:]

    # Built by the creator and pushed by digest to the app's repository in the registry.
    assert result.image.startswith("10.213.0.1:5001/luban/e2e-web-flask@sha256:"), result.image
    # The GitOps commit pins exactly that digest, with the source recorded in its trailers.
    kustomization = env.git.show(e2e.GITOPS, result.gitops_commit, "apps/e2e-web-flask/kustomization.yaml")
    assert result.image.split("@")[1] in kustomization
    message = env.git.git(e2e.GITOPS, "log", "-1", "--format=%B", result.gitops_commit)
    assert "Luban-Source-Sha: " + push.sha in message

    # The app's pod answers with the pushed commit's content, as a non-root user.
    body = json.loads(result.answer["body"])
    assert body["message"] == "hello from luban-ci " + marker
    assert body["uid"] != 0 and body["gid"] != 0

    # GitHub was told: pending (linking the run), then success, with the status token.
    token = (Path(env.services["E2E_SECRETS"]) / "status-token").read_text().strip()
    states = [s["state"] for s in result.statuses]
    assert states[0] == "pending" and states[-1] == "success", states
    assert all(s["context"] == "luban-ci" for s in result.statuses)
    assert all(s["target_url"] == UI + result.workflow for s in result.statuses)
    assert all(s["authorization"] == "Bearer " + token for s in result.statuses)

    # The image carries its SBOM (the lifecycle's SBOM layer, listed in its metadata label).
    image = e2e.image_config(env.services, result.image)
    labels = image["config"]["config"]["Labels"]
    metadata = json.loads(labels["io.buildpacks.lifecycle.metadata"])
    sbom = metadata.get("sbom", {}).get("sha")
    assert sbom, sorted(metadata)
    files = e2e.image_layer_files(env.services, result.image, sbom)
    assert any(name.endswith("/sbom.cdx.json") and "/layers/sbom/launch/" in "/" + name.lstrip("/") for name in files), files[:20]
    # .git never reaches the app image: the pipeline builds the checkout's files only.
    app_files = [name for layer in metadata["app"] for name in e2e.image_layer_files(env.services, result.image, layer["sha"])]
    assert any(name.endswith("/app.py") for name in app_files), app_files[:20]
    assert not [n for n in app_files if ".git" in n.split("/")], "a .git directory is in the app layer"


def test_a_second_commit_deploys_its_new_digest(env) -> None:
    first_marker, second_marker = uuid.uuid4().hex[:10], uuid.uuid4().hex[:10]
    _push1, first = scenario.deploy(env, APP, tree=ROOT / "examples" / APP, files=_app_py(first_marker),
                                    message="scenario 2 first " + first_marker)
    assert first.phase == "Succeeded", first.logs[-6000:]
    _push2, second = scenario.deploy(env, APP, tree=ROOT / "examples" / APP, files=_app_py(second_marker),
                                     message="scenario 2 second " + second_marker)
    assert second.phase == "Succeeded", second.logs[-6000:]
    assert second.image != first.image
    assert json.loads(second.answer["body"])["message"] == "hello from luban-ci " + second_marker
    deployment = env.kube.json("-n", "e2e-web-flask", "get", "deployment", "app")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == second.image
