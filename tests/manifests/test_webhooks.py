"""Recorded GitHub deliveries through the real HMAC check, the rendered Sensor's filters and its
k8s trigger (Argo Events' own code, via argo-validate simulate): which trigger fires, with which
Workflow name and arguments; that the same event handed over twice creates one Workflow, and that
a new request with the same delivery (GitHub's "Redeliver") creates another one."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from conftest import FIXTURES, Delivery, Doc, by_kind, render, simulate

REPO_NAME = "example/example-python"
A_SHA = "89e6c98d92887913cadf06b2adb97f26cde4849b"
PR_SYNC_SHA = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"


def h(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


REPO_HASH = h(REPO_NAME, 8)


def event_id(case: str) -> str:
    """The first 8 characters of the event id argo-validate gives the i-th delivery (the
    EventSource's id is a random UUID as 32 hex digits; the simulator derives one from the
    delivery id, as conftest.simulate numbers them)."""
    index = [d.name for d in DELIVERIES].index(case)
    return h("00000000-0000-4000-8000-%012d" % index, 8)


DELIVERIES = [
    Delivery("push-main", "push", FIXTURES / "push-main.json"),
    Delivery("push-other-branch", "push", FIXTURES / "push-other-branch.json"),
    Delivery("push-tag", "push", FIXTURES / "push-tag.json"),
    Delivery("push-branch-delete", "push", FIXTURES / "push-branch-delete.json"),
    Delivery("pr-opened", "pull_request", FIXTURES / "pull-request-opened.json"),
    Delivery("pr-synchronize", "pull_request", FIXTURES / "pull-request-synchronize.json"),
    Delivery("pr-closed", "pull_request", FIXTURES / "pull-request-closed.json"),
    Delivery("ping", "ping", FIXTURES / "ping.json"),
    Delivery("push-main-bad-signature", "push", FIXTURES / "push-main.json", signature="bad"),
    Delivery("push-main-no-signature", "push", FIXTURES / "push-main.json", signature="missing"),
]

# case -> (trigger, Workflow name, WorkflowTemplate) or None when nothing may fire.
EXPECTED = {
    "push-main": ("build-and-deploy", f"ci-example-python-{REPO_HASH}-{A_SHA[:12]}-push-{event_id('push-main')}",
                  "luban-ci"),
    "push-other-branch": None,
    "push-tag": ("release", f"ci-example-python-{REPO_HASH}-{A_SHA[:12]}-release-{event_id('push-tag')}",
                 "luban-ci"),
    "push-branch-delete": None,
    "pr-opened": ("pull-request-build", f"ci-example-python-{REPO_HASH}-{A_SHA[:12]}-pr-{event_id('pr-opened')}",
                  "luban-ci-pr"),
    "pr-synchronize": ("pull-request-build",
                       f"ci-example-python-{REPO_HASH}-{PR_SYNC_SHA[:12]}-pr-{event_id('pr-synchronize')}",
                       "luban-ci-pr"),
    "pr-closed": None,
    "ping": None,
}


@pytest.fixture(scope="module")
def results(argo_validate: Path, manifests_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return simulate(argo_validate, manifests_dir, tmp_path_factory.mktemp("webhooks"), DELIVERIES)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_the_right_trigger_fires_with_a_deterministic_workflow_name(results: dict[str, dict], case: str) -> None:
    result = results[case]
    assert result["accepted"], result
    fired = [(f["trigger"], f["workflow"], f["workflowTemplate"]) for f in result["fired"]]
    assert fired == ([EXPECTED[case]] if EXPECTED[case] else [])


@pytest.mark.parametrize("case", [c for c, e in EXPECTED.items() if e])
def test_created_workflow_passes_argo_validation_and_redelivery_is_deduplicated(results: dict[str, dict], case: str) -> None:
    (fired,) = results[case]["fired"]
    assert fired["valid"], fired["validError"]
    # The same event again (EventBus redelivery, the trigger's own retry): no second Workflow.
    assert "already exists" in fired["redelivery"]
    # The same delivery as a new request (GitHub's "Redeliver" after a failure, a replay): a new
    # Workflow, whose supersede step builds nothing while the commit is being built or was built.
    assert fired["newReceipt"].startswith("created " + fired["workflow"][:-8]), fired["newReceipt"]
    assert fired["newReceipt"] != "created " + fired["workflow"]
    assert len(fired["workflow"]) <= 63


def test_workflow_names_stay_within_label_values_for_the_longest_repository_name(
        argo_validate: Path, tmp_path: Path) -> None:
    # Argo copies the Workflow name into label values (63 characters at most).
    long_name = "a" * 100
    manifests = render(tmp_path, {"argo_events_github_repositories": [{"owner": "example", "names": [long_name]}]})
    body = json.loads((FIXTURES / "push-main.json").read_text())
    body["repository"].update(name=long_name, full_name="example/" + long_name)
    path = tmp_path / "long.json"
    path.write_text(json.dumps(body))
    (fired,) = simulate(argo_validate, manifests, tmp_path, [Delivery("long", "push", path)])["long"]["fired"]
    assert fired["valid"], fired["validError"]
    assert fired["workflow"].startswith("ci-%s-%s-%s-push-" % ("a" * 20, h("example/" + long_name, 8), A_SHA[:12]))
    assert len(fired["workflow"]) + len("release") - len("push") == 62, fired["workflow"]  # the longest kind


def test_push_to_main_builds_and_deploys_the_exact_commit(results: dict[str, dict]) -> None:
    (fired,) = results["push-main"]["fired"]
    assert fired["parameters"] == {
        "repo": REPO_NAME,
        "revision": A_SHA,
        "ref": "refs/heads/main",
        "kind": "push",
        "lane": h(f"{REPO_NAME}@refs/heads/main", 16),
        "app-path": ".",
        "image-repository": "quay.io/example/example-example-python",
        "app-name": "example-example-python",
        "image-name": "quay.io/example/example-example-python",
        "gitops-path": "apps/example-example-python",
        "image-tag": A_SHA,
        "moving-tag": "latest",
        "deploy": "true",
    }
    assert fired["labels"] == {"luban.ci/kind": "push", "luban.ci/lane": h(f"{REPO_NAME}@refs/heads/main", 16)}


def test_tag_push_builds_the_tagged_commit_not_the_tag_object(results: dict[str, dict]) -> None:
    (fired,) = results["push-tag"]["fired"]
    assert fired["parameters"]["revision"] == A_SHA
    assert fired["parameters"]["ref"] == "refs/tags/v1.2.0"
    assert fired["parameters"]["kind"] == "release"


def test_a_release_publishes_its_tag_and_deploys_nothing_by_default(results: dict[str, dict]) -> None:
    # Issue 10 item 11: a tag on an old commit must not roll the deploy branch's deployment back,
    # and a tag and a branch push of one commit must not race on one image tag.
    (fired,) = results["push-tag"]["fired"]
    assert (fired["parameters"]["image-tag"], fired["parameters"]["moving-tag"]) == ("v1.2.0", "v1.2.0")
    assert fired["parameters"]["deploy"] == "false"
    (push,) = results["push-main"]["fired"]
    assert {push["parameters"]["image-tag"], push["parameters"]["moving-tag"]}.isdisjoint(
        {fired["parameters"]["image-tag"], fired["parameters"]["moving-tag"]})


def test_a_release_deploys_only_under_the_release_path_the_inventory_names(argo_validate: Path, tmp_path: Path) -> None:
    manifests = render(tmp_path, {"argo_events_release_gitops_path_prefix": "releases"})
    body = json.loads((FIXTURES / "push-tag.json").read_text())
    body["ref"] = "refs/tags/v1.2.0+build.7"
    path = tmp_path / "tag.json"
    path.write_text(json.dumps(body))
    results = simulate(argo_validate, manifests, tmp_path, [Delivery("tag", "push", path),
                                                            Delivery("main", "push", FIXTURES / "push-main.json")])
    (release,) = results["tag"]["fired"]
    assert release["valid"], release["validError"]
    assert release["parameters"]["gitops-path"] == "releases/example-example-python"
    assert release["parameters"]["deploy"] == "true"
    assert release["parameters"]["image-tag"] == "v1.2.0_build.7"  # '+' is not allowed in an image tag
    (push,) = results["main"]["fired"]
    assert push["parameters"]["gitops-path"] == "apps/example-example-python"


def test_pull_request_builds_go_to_the_pr_lane_without_deploy_parameters(results: dict[str, dict]) -> None:
    (fired,) = results["pr-synchronize"]["fired"]
    assert fired["workflowTemplate"] == "luban-ci-pr"
    assert fired["parameters"] == {
        "repo": REPO_NAME,
        "revision": PR_SYNC_SHA,
        "ref": "refs/pull/42/head",
        "kind": "pr",
        "lane": h(f"{REPO_NAME}@refs/pull/42/head", 16),
        "app-path": ".",
        "image-repository": "quay.io/example-pr/example-example-python",
        "app-name": "example-example-python",
    }


@pytest.mark.parametrize("case", ["push-main-bad-signature", "push-main-no-signature"])
def test_unsigned_or_badly_signed_deliveries_are_rejected_by_the_hmac_check(results: dict[str, dict], case: str) -> None:
    result = results[case]
    assert not result["accepted"]
    assert result["fired"] == []
    expected = "payload signature check failed" if case.endswith("bad-signature") else "missing signature"
    assert expected in result["rejectedWith"]


def test_two_owners_with_the_same_repo_name_get_distinct_images_paths_and_lanes(
        argo_validate: Path, tmp_path: Path) -> None:
    # Several owners (organizations mode, or several owners listed) may each have an `app`; named
    # after `app` alone they would push to one image repository and one GitOps directory.
    manifests = render(tmp_path, {"argo_events_github_repositories": [
        {"owner": "OrgA", "names": ["app"]}, {"owner": "orgB", "names": ["app"]}]})
    deliveries = []
    for owner in ("OrgA", "orgB"):
        body = copy.deepcopy(json.loads((FIXTURES / "push-main.json").read_text()))
        body["repository"].update(name="app", full_name=f"{owner}/app")
        path = tmp_path / f"{owner}.json"
        path.write_text(json.dumps(body))
        deliveries.append(Delivery(owner, "push", path))
    results = simulate(argo_validate, manifests, tmp_path, deliveries)
    params = {}
    for owner in ("OrgA", "orgB"):
        (fired,) = results[owner]["fired"]
        assert fired["valid"], fired["validError"]
        params[owner] = fired["parameters"]
    assert params["OrgA"]["image-repository"] == "quay.io/example/orga-app"
    assert params["orgB"]["image-repository"] == "quay.io/example/orgb-app"
    assert params["OrgA"]["image-name"] == "quay.io/example/orga-app"
    # The app's name, which its own registry robot is named after (argo_workflows_registry_robot_per_app).
    assert (params["OrgA"]["app-name"], params["orgB"]["app-name"]) == ("orga-app", "orgb-app")
    assert params["OrgA"]["gitops-path"] == "apps/orga-app"
    assert params["orgB"]["gitops-path"] == "apps/orgb-app"
    assert params["OrgA"]["lane"] != params["orgB"]["lane"]
    assert results["OrgA"]["fired"][0]["workflow"] != results["orgB"]["fired"][0]["workflow"]


@pytest.mark.parametrize("case", [c for c, e in EXPECTED.items() if e])
def test_lane_label_and_lane_parameter_agree(results: dict[str, dict], case: str) -> None:
    # supersede selects runs by the label; the mutex is named after the parameter.
    (fired,) = results[case]["fired"]
    assert fired["labels"]["luban.ci/lane"] == fired["parameters"]["lane"]
    assert len(fired["parameters"]["lane"]) == 16


def test_the_example_application_watches_the_path_the_pipeline_deploys_to(
    results: dict[str, dict], docs: list[Doc]
) -> None:
    (fired,) = results["push-main"]["fired"]
    paths = [a.body["spec"]["source"]["path"] for a in by_kind(docs, "Application") if a.name != "luban-ci"]
    assert fired["parameters"]["gitops-path"] in paths, paths
