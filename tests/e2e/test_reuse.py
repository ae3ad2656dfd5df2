"""Scenarios 12 and 13: a commit whose app was built already builds nothing.

12. An empty commit after a deploy (the same tree) is found by the key of its build's inputs: the
    run's inputs step says reuse, the build is skipped, the tag step points the second commit's
    tags at the image of the first (the same manifest), and deploy pins the same digest again.
13. An OS patch: the run image's publisher pushes a new image (one more layer), the operator moves
    the digest pinned in ``argo_workflows_run_images`` to it, and an empty commit is rebased, not
    built: the rebase step puts the first image's app layers on the new run image.
"""

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


def _move_pin(env, old: str, new: str) -> int:
    """What applying the playbook with another digest in ``argo_workflows_run_images`` changes: the
    WorkflowTemplates that name the pinned run image (the build's analyze and the inputs step)."""
    moved = 0
    for template in env.kube.json("-n", e2e.NAMESPACE, "get", "workflowtemplates")["items"]:
        text = json.dumps(template)
        if old in text:
            env.kube.run("-n", e2e.NAMESPACE, "replace", "-f", "-", input=text.replace(old, new))
            moved += 1
    return moved


def test_moving_the_pinned_run_image_rebases_the_image_of_the_same_inputs(env) -> None:
    marker = uuid.uuid4().hex[:10]
    first_push, first = scenario.deploy(env, APP, tree=ROOT / "examples" / APP, files=_app_py(marker),
                                        message="scenario 13 first " + marker)
    assert first.phase == "Succeeded", first.logs[-6000:]
    assert "build" in _ran(env, first.workflow)

    pinned = json.loads((ROOT / "out" / "cluster-images.json").read_text())["run_image"]
    patched = e2e.patch_run_image(env.services, pinned, "debian-e2e-patch", marker)
    try:
        assert _move_pin(env, pinned, patched) >= 2  # the ci template's inputs step and the build template
        second_push, second = scenario.deploy(env, APP, message="scenario 13 empty commit after an OS patch " + marker)
    finally:
        _move_pin(env, patched, pinned)
    assert second.phase == "Succeeded", second.logs[-6000:]
    ran = _ran(env, second.workflow)
    assert "rebase" in ran and not {"build", "tag"} & ran, ran
    found = "%s/%s@%s" % (env.services["E2E_REGISTRY"], REPOSITORY, first.image.partition("@")[2])
    assert "luban-step: Not building: %s was built from the same inputs (key " % found in second.logs, second.logs[-6000:]
    assert "); rebasing it onto %s." % patched in second.logs, second.logs[-6000:]

    # The first image's app layers, on the patched run image: its layers, then the same app layers.
    before, after = (e2e.image_config(env.services, image)["config"] for image in (first.image, second.image))
    run_layers = e2e.image_config(env.services, e2e.repository_of(patched) + "@" + patched.partition("@")[2])["config"]["rootfs"]["diff_ids"]
    assert second.image != first.image
    assert after["rootfs"]["diff_ids"][:len(run_layers)] == run_layers
    assert after["rootfs"]["diff_ids"][len(run_layers):] == before["rootfs"]["diff_ids"][len(run_layers) - 1:]
    metadata = json.loads(after["config"]["Labels"]["io.buildpacks.lifecycle.metadata"])
    assert metadata["runImage"]["reference"].endswith("@" + patched.partition("@")[2])
    assert metadata["runImage"]["topLayer"] == run_layers[-1]
    assert e2e.manifest_digest(env.services, REPOSITORY, second_push.sha) == second.image.partition("@")[2]
    assert json.loads(second.answer["body"])["message"] == "hello from luban-ci " + marker
