"""Scenario 8: an app whose own build code hunts for credentials (its in-tree PEP 517 backend runs
in the pipeline's build, as any build backend or sdist's setup.py does) finds none: the registry
robot, the service account token, the workspace with the checkout and every other secret stay out
of reach of the lifecycle's detect and build phases. The probe proves first that it sees a planted
Docker config, fails the build on any real finding, and otherwise bakes its report into the image,
so the deployed app answers with it."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import e2e_lib as e2e
import scenario

APP_DIR = Path(__file__).resolve().parent / "apps" / "hostile-build"


def test_the_app_build_code_finds_no_credential(env) -> None:
    # A new pyproject.toml each run (a comment: the lock still matches): the venv, and with it the
    # probe, is built again instead of kept from an earlier run's image.
    pyproject = (APP_DIR / "pyproject.toml").read_text() + "# run %s\n" % uuid.uuid4().hex
    _push, result = scenario.deploy(env, "hostile-build", tree=APP_DIR, files={"pyproject.toml": pyproject},
                                    message="scenario 8")
    # A finding fails the build, with the probe's list in the build phase's log (uv shows a build
    # backend's output only when it fails).
    assert result.phase == "Succeeded", result.logs[-8000:]
    assert "Running: uv sync --locked --no-dev" in result.logs, result.logs[-8000:]

    body = json.loads(result.answer["body"])
    assert body["app"] == "hostile-build" and body["uid"] != 0
    probe = body["probe"]
    # The report is this build's: the probe read the pyproject.toml pushed above.
    assert probe["pyproject_sha256"] == hashlib.sha256(pyproject.encode()).hexdigest()
    assert probe["findings"] == []
    # It can see: the planted Docker config and token were found before the real search.
    assert probe["self_test"] == ["JSON web token", "registry auths"]
    # It looked: the phase's environment, its processes, every mount the build phase has.
    assert probe["env_checked"] > 5 and probe["processes_checked"] >= 1
    assert {"/workspace", "/layers", "/platform", "/platform/env"} <= set(probe["mounts_scanned"]), probe
    assert not [m for m in probe["mounts_scanned"] if "secret" in m or m.startswith("/work/") or m == "/work"]
    assert probe["files_checked"] > 0
    # The operator's bindings are build inputs every build gets, by design (docs/pipeline.md).
    assert probe["granted"] == ["ca-certificates", "private-index"]

    # The registry phases held this app's own robot (argo_workflows_registry_robot_per_app in
    # inventories/cluster), not the lane's: the Secret the build pod mounted.
    wf = e2e.workflow_phase(env.kube, result.workflow)
    builds = [n for n in wf["status"]["nodes"].values()
              if "build" in (n.get("templateName"), (n.get("templateRef") or {}).get("template"))]
    robots = {p["value"] for n in builds for p in n.get("inputs", {}).get("parameters", [])
              if p["name"] == "registry-robot"}
    assert robots == {"luban-registry-e2e-hostile-build"}, robots

    # No secret of the setup appears in any log of the run: the registry robots (the phases that
    # hold one print nothing of it), the git and GitHub tokens, the index password.
    secrets = Path(env.services["E2E_SECRETS"])
    for name in ("robot-release", "robot-pr", "git-read-token", "git-write-token", "status-token", "index-password"):
        value = (secrets / name).read_text().strip()
        assert len(value) >= 32 and value not in result.logs, name
