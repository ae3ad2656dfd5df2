"""Pull requests from forks never build unattended (issue 10): recorded GitHub deliveries through
the real HMAC check and the rendered Sensor's filters (its Lua script filter included) and k8s
trigger, via argo-validate simulate. A PR whose head branch is in the watched repository builds on
opened/synchronize/reopened; a fork's builds only on the `labeled` delivery of the approval label
(argo_events_fork_pr_label), and only the head commit that delivery names: a new push to the fork
builds nothing while the label stays on."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import FIXTURES, Delivery, render, simulate

REPO_NAME = "example/example-python"
FORK_SHA = "f0f0f0f0a1a1a1a1b2b2b2b2c3c3c3c3d4d4d4d4"
FORK_SHA2 = "f1f1f1f1e2e2e2e2d3d3d3d3c4c4c4c4b5b5b5b5"
SAME_REPO_SHA = "89e6c98d92887913cadf06b2adb97f26cde4849b"
REPO_HASH = hashlib.sha256(REPO_NAME.encode()).hexdigest()[:8]


def _payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _relabel(name: str) -> Callable[[dict[str, Any]], None]:
    def mutate(p: dict[str, Any]) -> None:
        p["label"] = dict(p["label"], name=name)
    return mutate


def _same_repo_labeled(p: dict[str, Any]) -> None:
    p["pull_request"]["head"]["repo"] = copy.deepcopy(p["pull_request"]["base"]["repo"])


def _deleted_fork(p: dict[str, Any]) -> None:
    p["pull_request"]["head"]["repo"] = None


# case -> (fixture, mutation or None, expected (trigger, revision) or None)
CASES: dict[str, tuple[str, Callable[[dict[str, Any]], None] | None, tuple[str, str] | None]] = {
    "same-repo-opened": ("pull-request-opened.json", None, ("pull-request-build", SAME_REPO_SHA)),
    "same-repo-reopened": ("pull-request-opened.json", lambda p: p.update(action="reopened"),
                           ("pull-request-build", SAME_REPO_SHA)),
    "fork-opened": ("pull-request-fork-opened.json", None, None),
    "fork-reopened-with-the-label-on": ("pull-request-fork-synchronize.json", lambda p: p.update(action="reopened"), None),
    "fork-synchronize-with-the-label-on": ("pull-request-fork-synchronize.json", None, None),
    "fork-labeled-approved": ("pull-request-fork-labeled.json", None, ("pull-request-fork-approved-build", FORK_SHA)),
    "fork-labeled-another-label": ("pull-request-fork-labeled.json", _relabel("bug"), None),
    "fork-labeled-approved-in-other-case": ("pull-request-fork-labeled.json", _relabel("Luban-CI/Approved"), None),
    "fork-labeled-approved-as-prefix": ("pull-request-fork-labeled.json", _relabel("luban-ci/approved-not"), None),
    "fork-unlabeled": ("pull-request-fork-labeled.json", lambda p: p.update(action="unlabeled"), None),
    "same-repo-labeled-approved": ("pull-request-fork-labeled.json", _same_repo_labeled, None),
    "deleted-fork-opened": ("pull-request-fork-opened.json", _deleted_fork, None),
    "deleted-fork-labeled-approved": ("pull-request-fork-labeled.json", _deleted_fork, None),
    "fork-without-head-repo-field": ("pull-request-fork-labeled.json",
                                     lambda p: p["pull_request"]["head"].pop("repo"), None),
}


def _deliveries(tmp: Path, cases: dict[str, Any]) -> list[Delivery]:
    out = []
    for name, (fixture, mutate, _expected) in cases.items():
        body = _payload(fixture)
        if mutate:
            mutate(body)
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(body))
        out.append(Delivery(name, "pull_request", path))
    return out


@pytest.fixture(scope="module")
def results(argo_validate: Path, manifests_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("fork-prs")
    return simulate(argo_validate, manifests_dir, tmp, _deliveries(tmp, CASES))


def test_the_fixtures_have_github_shapes() -> None:
    fork = _payload("pull-request-fork-labeled.json")
    assert fork["action"] == "labeled" and fork["label"]["name"] == "luban-ci/approved"
    assert fork["pull_request"]["head"]["repo"]["fork"] is True
    assert fork["pull_request"]["head"]["repo"]["full_name"] == "octocat/example-python"
    assert fork["pull_request"]["base"]["repo"]["full_name"] == REPO_NAME == fork["repository"]["full_name"]
    sync = _payload("pull-request-fork-synchronize.json")
    assert (sync["before"], sync["after"]) == (FORK_SHA, FORK_SHA2) == (FORK_SHA, sync["pull_request"]["head"]["sha"])
    assert [label["name"] for label in sync["pull_request"]["labels"]] == ["luban-ci/approved"]
    same = _payload("pull-request-opened.json")
    assert same["pull_request"]["head"]["repo"]["full_name"] == same["pull_request"]["base"]["repo"]["full_name"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_only_same_repo_prs_and_approved_fork_commits_build(results: dict[str, dict], case: str) -> None:
    result = results[case]
    assert result["accepted"], result
    # The script filter runs for every delivery; it must never fail (a failure reads as "no match").
    assert not result.get("filterErrors"), result["filterErrors"]
    expected = CASES[case][2]
    fired = [(f["trigger"], f["parameters"]["revision"]) for f in result["fired"]]
    assert fired == ([expected] if expected else [])


def test_an_approved_fork_commit_builds_in_the_pr_lane_by_its_head_sha(results: dict[str, dict]) -> None:
    (fired,) = results["fork-labeled-approved"]["fired"]
    assert fired["valid"], fired["validError"]
    # The event id's 8 characters end it (tests/manifests/test_webhooks.py checks which).
    assert re.fullmatch(rf"ci-example-python-{REPO_HASH}-{FORK_SHA[:12]}-pr-[0-9a-f]{{8}}", fired["workflow"])
    assert fired["workflowTemplate"] == "luban-ci-pr"
    lane = hashlib.sha256(f"{REPO_NAME}@refs/pull/43/head".encode()).hexdigest()[:16]
    assert fired["parameters"] == {
        "repo": REPO_NAME,  # the base repository: the fork's name never reaches the Workflow
        "revision": FORK_SHA,
        "ref": "refs/pull/43/head",
        "kind": "pr",
        "lane": lane,
        "app-path": ".",
        "image-repository": "quay.io/example-pr/example-example-python",
        "app-name": "example-example-python",
    }
    assert fired["labels"] == {"luban.ci/kind": "pr", "luban.ci/lane": lane}
    # Labelling the same head again (or a redelivery) builds nothing twice.
    assert "already exists" in fired["redelivery"]


def test_without_an_approval_label_fork_prs_never_build(argo_validate: Path, tmp_path: Path) -> None:
    manifests = render(tmp_path, {"argo_events_fork_pr_label": ""})
    cases = {k: CASES[k] for k in ("same-repo-opened", "fork-labeled-approved", "fork-labeled-another-label")}
    results = simulate(argo_validate, manifests, tmp_path, _deliveries(tmp_path, cases))
    assert [f["trigger"] for f in results["same-repo-opened"]["fired"]] == ["pull-request-build"]
    assert results["fork-labeled-approved"]["fired"] == []
    assert results["fork-labeled-another-label"]["fired"] == []


def test_another_approval_label_name_is_matched_exactly(argo_validate: Path, tmp_path: Path) -> None:
    manifests = render(tmp_path, {"argo_events_fork_pr_label": "ok to test (v1.2)"})
    cases = {
        "configured": ("pull-request-fork-labeled.json", _relabel("ok to test (v1.2)"),
                       ("pull-request-fork-approved-build", FORK_SHA)),
        "regex-lookalike": ("pull-request-fork-labeled.json", _relabel("ok to test (v112)"), None),
        "default-label": ("pull-request-fork-labeled.json", None, None),
    }
    results = simulate(argo_validate, manifests, tmp_path, _deliveries(tmp_path, cases))
    for case, (_fixture, _mutate, expected) in cases.items():
        fired = [(f["trigger"], f["parameters"]["revision"]) for f in results[case]["fired"]]
        assert fired == ([expected] if expected else []), case
