"""Scenarios 3-6: a broken commit fails visibly and deploys nothing, pull requests build without
deploying, deliveries are idempotent and authenticated, and a newer push supersedes an older run."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import e2e_lib as e2e
import scenario

ROOT = Path(__file__).resolve().parents[2]
APP = "web-flask"
STALE = "uv.lock is out of date with pyproject.toml"
# Every scenario pushes the whole example app (plus its change), so none inherits another's state.
EXAMPLE = ROOT / "examples" / APP


def _marker_files(marker: str) -> dict[str, str]:
    source = (ROOT / "examples" / APP / "app.py").read_text()
    return {"app.py": source.replace('"hello from luban-ci"', '"hello from luban-ci %s"' % marker)}


def _deployed_image(env) -> str:
    return env.kube.json("-n", "e2e-" + APP, "get", "deployment", "app")["spec"]["template"]["spec"]["containers"][0]["image"]


def _stop(env, name: str) -> None:
    env.kube.run("-n", e2e.NAMESPACE, "patch", "workflow", name, "--type", "merge", "-p", '{"spec":{"shutdown":"Stop"}}')


def test_a_stale_lock_fails_with_the_buildpacks_message_and_deploys_nothing(env) -> None:
    _p, good = scenario.deploy(env, APP, tree=EXAMPLE, files=_marker_files(uuid.uuid4().hex[:8]),
                               message="scenario 3 baseline")
    assert good.phase == "Succeeded", good.logs[-6000:]
    gitops_before = env.git.tip(e2e.GITOPS)
    pyproject = (ROOT / "examples" / APP / "pyproject.toml").read_text()
    stale = pyproject.replace('"gunicorn>=23,<24"]', '"gunicorn>=23,<24", "itsdangerous>=2.2"]')
    assert stale != pyproject
    push, broken = scenario.deploy(env, APP, files={"pyproject.toml": stale}, message="scenario 3 stale lock",
                                   expect="Failed")
    assert broken.phase == "Failed"
    assert STALE in broken.logs, broken.logs[-6000:]
    states = [s["state"] for s in broken.statuses]
    assert states[0] == "pending" and states[-1] == "failure", states
    assert env.git.tip(e2e.GITOPS) == gitops_before
    assert _deployed_image(env) == good.image


def test_a_pull_request_builds_to_the_pr_repository_and_never_deploys(env) -> None:
    scenario.ensure_gitops(env, APP)
    gitops_before = env.git.tip(e2e.GITOPS)
    full_name = "%s/%s" % (e2e.OWNER, APP)
    work = env.git.work_copy(full_name, env.work / "pr-src")
    base = env.git.tip(full_name)
    work.copy_tree(EXAMPLE)  # whatever an earlier scenario left on main (a stale lock) is replaced
    work.write(_marker_files("pr-" + uuid.uuid4().hex[:8]))
    work.commit("scenario 4 pull request")
    branch = "feature/e2e-pr-" + uuid.uuid4().hex[:8]  # a new pull request each run
    work.push(branch)
    head = work.head()
    payload = e2e.pull_request_payload(env.git, full_name, 7, branch, head, base)
    d = env.webhook.post(e2e.delivery("pull_request", payload, env.secret))
    assert d.status == 200, d.answer
    wf = scenario.find_workflow(env, head["sha"], kind="pr")
    assert wf["spec"]["workflowTemplateRef"]["name"] == "luban-ci-pr"
    wf = e2e.wait_workflow_done(env.kube, wf["metadata"]["name"])
    assert wf["status"]["phase"] == "Succeeded", e2e.pod_logs(env.kube, wf)[-6000:]
    image = scenario.output_parameter(wf, "digest", "image")
    assert image.startswith("10.213.0.1:5001/luban-pr/e2e-web-flask@sha256:"), image
    assert e2e.image_config(env.services, image)["manifest"]["layers"]
    assert "deploy" not in {n.get("displayName") for n in wf["status"]["nodes"].values()}
    assert env.git.tip(e2e.GITOPS) == gitops_before
    contexts = {s["context"] for s in e2e.statuses(env.services, full_name, head["sha"])}
    assert contexts == {"luban-ci/pr"}


def test_a_redelivery_creates_no_second_workflow_and_bad_signatures_none(env) -> None:
    scenario.ensure_gitops(env, APP)
    full_name = "%s/%s" % (e2e.OWNER, APP)
    work = env.git.work_copy(full_name, env.work / "dedup-src")
    work.copy_tree(EXAMPLE)
    work.write(_marker_files("dedup-" + uuid.uuid4().hex[:8]))
    work.commit("scenario 5")
    before = work.push()
    head = work.head()
    payload = e2e.push_payload(env.git, full_name, "refs/heads/main", before, head)
    first = e2e.delivery("push", payload, env.secret)
    assert env.webhook.post(first).status == 200
    wf = scenario.find_workflow(env, head["sha"])
    # GitHub's "Redeliver" sends the same body with the same delivery id.
    again = e2e.Delivery(first.event, first.body, first.delivery_id, dict(first.headers))
    assert env.webhook.post(again).status == 200
    # A forged delivery (wrong secret) and an unsigned one for another commit.
    other = dict(head, sha="f" * 40)
    forged_payload = e2e.push_payload(env.git, full_name, "refs/heads/main", before, other)
    forged = env.webhook.post(e2e.delivery("push", forged_payload, "not-the-secret"))
    unsigned = env.webhook.post(e2e.delivery("push", forged_payload, None))
    assert forged.status == 400 and unsigned.status == 400, (forged.status, unsigned.status)
    time.sleep(15)  # what the Sensor would have done by now, it has done
    assert [w["metadata"]["name"] for w in e2e.workflows_for(env.kube, head["sha"])] == [wf["metadata"]["name"]]
    assert e2e.workflows_for(env.kube, "f" * 40) == []
    _stop(env, wf["metadata"]["name"])


def test_a_newer_push_stops_the_older_run_and_is_deployed(env) -> None:
    scenario.ensure_gitops(env, APP)
    scenario.ensure_application(env, APP)
    older_marker, newer_marker = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    _w1, older = scenario.push_app(env, APP, tree=EXAMPLE, files=_marker_files(older_marker), message="scenario 6 older")
    older_wf = scenario.find_workflow(env, older.sha)
    _w2, newer = scenario.push_app(env, APP, files=_marker_files(newer_marker), message="scenario 6 newer")
    newer_wf = scenario.find_workflow(env, newer.sha)
    newer_done = e2e.wait_workflow_done(env.kube, newer_wf["metadata"]["name"])
    older_done = e2e.wait_workflow_done(env.kube, older_wf["metadata"]["name"], timeout=300)
    assert newer_done["status"]["phase"] == "Succeeded", e2e.pod_logs(env.kube, newer_done)[-6000:]
    assert older_done["status"]["phase"] in ("Failed", "Error"), older_done["status"]
    assert "superseded" in json.dumps(older_done["status"]).lower() or older_done["spec"].get("shutdown") == "Stop"
    image = scenario.output_parameter(newer_done, "digest", "image")
    commit = e2e.wait("the GitOps commit", lambda: scenario.gitops_commit_for(env, newer.sha), 30, 1)
    e2e.wait_synced_healthy(env.kube, "e2e-" + APP, commit["sha"])
    answer = e2e.app_answer(env.kube, "e2e-" + APP, image)
    assert json.loads(answer["body"])["message"] == "hello from luban-ci " + newer_marker
    assert scenario.gitops_commit_for(env, older.sha) is None
