"""Scenario 12: a commit whose app was built already builds nothing. An empty commit after a deploy
(the same tree) is found by the key of its build's inputs: the run's inputs step says reuse, the
build is skipped, the tag step points the second commit's tags at the image of the first (the same
manifest), and deploy pins the same digest again (issue 11, item 4, the pipeline's half)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import e2e_lib as e2e
import scenario

ROOT = Path(__file__).resolve().parents[2]
APP = "web-flask"
REPOSITORY = "luban/e2e-" + APP


def _app_py(marker: str) -> dict[str, str]:
    source = (ROOT / "examples" / APP / "app.py").read_text()
    return {"app.py": source.replace('"hello from luban-ci"', '"hello from luban-ci %s"' % marker)}


def _ran(env, workflow: str) -> set[str]:
    wf = e2e.workflow_phase(env.kube, workflow)
    return {n.get("displayName") for n in wf["status"]["nodes"].values() if n.get("phase") not in ("Skipped", None)}


def test_an_empty_commit_reuses_the_image_of_the_same_inputs(env) -> None:
    marker = uuid.uuid4().hex[:10]
    first_push, first = scenario.deploy(env, APP, tree=ROOT / "examples" / APP, files=_app_py(marker),
                                        message="scenario 12 first " + marker)
    assert first.phase == "Succeeded", first.logs[-6000:]
    assert "build" in _ran(env, first.workflow) and not {"tag", "rebase"} & _ran(env, first.workflow)
    assert "luban-step: Building: no image was built from these inputs yet (uv.lock, key " in first.logs, first.logs[-6000:]

    second_push, second = scenario.deploy(env, APP, message="scenario 12 empty commit " + marker)
    assert second_push.sha != first_push.sha
    assert second.phase == "Succeeded", second.logs[-6000:]
    ran = _ran(env, second.workflow)
    assert "tag" in ran and not {"build", "rebase"} & ran, ran
    found = "%s/%s@%s" % (env.services["E2E_REGISTRY"], REPOSITORY, first.image.partition("@")[2])
    assert "luban-step: Not building: %s was built from the same inputs" % found in second.logs, second.logs[-6000:]

    # The same image, deployed for the second commit and tagged for it.
    assert second.image == first.image
    assert e2e.manifest_digest(env.services, REPOSITORY, second_push.sha) == first.image.partition("@")[2]
    assert json.loads(second.answer["body"])["message"] == "hello from luban-ci " + marker
