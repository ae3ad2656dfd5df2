"""Scenario 10: a release tag publishes REPO:<tag> and nothing else. It never moves REPO:latest, which
the deploy branch's builds own, and with no release path in the inventory
(argo_events_release_gitops_path_prefix empty, the default) it deploys nothing, so a tag on an old
commit can never roll the branch's deployment back (issue 10 item 11)."""

from __future__ import annotations

import random
from pathlib import Path

import e2e_lib as e2e
import scenario

ROOT = Path(__file__).resolve().parents[2]
APP = "web-flask"
REPOSITORY = "luban/e2e-" + APP


def test_a_release_tag_publishes_its_own_tag_and_deploys_nothing(env) -> None:
    scenario.ensure_gitops(env, APP)
    full_name = "%s/%s" % (e2e.OWNER, APP)
    work = env.git.work_copy(full_name, env.work / "release-src")
    work.copy_tree(ROOT / "examples" / APP)
    work.commit("scenario 10 release")
    tag = "v0.%d.%d" % (random.randrange(1, 10**6), random.randrange(10**6))  # a new release each run
    work.push_ref("refs/tags/" + tag)  # the tag only
    head = work.head()
    latest = e2e.manifest_digest(env.services, REPOSITORY, "latest")
    gitops = env.git.tip(e2e.GITOPS)

    payload = e2e.push_payload(env.git, full_name, "refs/tags/" + tag, "0" * 40, head)
    assert env.webhook.post(e2e.delivery("push", payload, env.secret)).status == 200
    wf = scenario.find_workflow(env, head["sha"], kind="release")
    params = {p["name"]: p["value"] for p in wf["spec"]["arguments"]["parameters"]}
    assert (params["image-tag"], params["moving-tag"], params["deploy"]) == (tag, tag, "false"), params
    wf = e2e.wait_workflow_done(env.kube, wf["metadata"]["name"])
    assert wf["status"]["phase"] == "Succeeded", e2e.pod_logs(env.kube, wf)[-6000:]

    image = scenario.output_parameter(wf, "digest", "image")
    assert image.startswith("%s/%s@sha256:" % (env.services["E2E_REGISTRY"], REPOSITORY)), image
    assert e2e.manifest_digest(env.services, REPOSITORY, tag) == image.partition("@")[2]
    # A release never publishes REPO:<sha> either.
    assert e2e.manifest_digest(env.services, REPOSITORY, head["sha"]) is None
    assert e2e.manifest_digest(env.services, REPOSITORY, "latest") == latest
    ran = {n.get("displayName") for n in wf["status"]["nodes"].values() if n.get("phase") != "Skipped"}
    assert "deploy" not in ran, ran
    assert env.git.tip(e2e.GITOPS) == gitops
