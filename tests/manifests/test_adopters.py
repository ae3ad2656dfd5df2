"""What adopters hit first: the argo_events role's argument spec says what
argo_events_github_repositories really is (a list of {owner, names}), and owner and repository
filters match GitHub names whatever their case, through Argo Events' own filter code."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, REPO, Delivery, simulate


def _push(tmp: Path, name: str, full_name: str) -> Delivery:
    body = copy.deepcopy(json.loads((FIXTURES / "push-main.json").read_text()))
    owner, repo = full_name.split("/")
    body["repository"].update(name=repo, full_name=full_name)
    body["repository"]["owner"].update(login=owner, name=owner)
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(body))
    return Delivery(name, "push", path)


CASES = {
    "as-configured": "example/example-python",
    "owner-capitalised": "Example/example-python",
    "all-upper": "EXAMPLE/EXAMPLE-PYTHON",
    "mixed": "eXample/Example-Python",
}


@pytest.mark.parametrize("mode", ["repositories", "organizations"])
def test_owner_and_repository_filters_ignore_case_as_github_does(
        argo_validate: Path, manifests_dir: Path, variant_manifests: Path, tmp_path: Path, mode: str) -> None:
    manifests = manifests_dir if mode == "repositories" else variant_manifests  # variant: organization example
    deliveries = [_push(tmp_path, case, full) for case, full in CASES.items()]
    deliveries.append(_push(tmp_path, "other-owner", "exampIe/example-python"))  # a capital i, not an l
    if mode == "repositories":
        deliveries.append(_push(tmp_path, "longer-name", "Example/Example-Python-Two"))
    results = simulate(argo_validate, manifests, tmp_path, deliveries)
    for case, full in CASES.items():
        (fired,) = results[case]["fired"]
        assert fired["valid"], fired["validError"]
        assert fired["parameters"]["repo"] == full  # GitHub's own spelling travels on
        assert fired["parameters"]["image-repository"] == "quay.io/example/example-example-python"
    assert results["other-owner"]["fired"] == []
    if mode == "repositories":
        assert results["longer-name"]["fired"] == []


def _render_refused(tmp_path: Path, repositories: object) -> str:
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/orbstack", "playbooks/manifests.yml",
         "-e", json.dumps({"luban_manifests_dir": str(tmp_path), "argo_events_github_repositories": repositories})],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    return " ".join(proc.stdout.split())


def test_the_argument_spec_declares_repositories_as_owner_and_names() -> None:
    spec = yaml.safe_load((REPO / "roles" / "argo_events" / "meta" / "argument_specs.yml").read_text())
    option = spec["argument_specs"]["main"]["options"]["argo_events_github_repositories"]
    assert (option["type"], option["elements"]) == ("list", "dict")
    assert option["options"]["owner"] == {"description": option["options"]["owner"]["description"],
                                          "type": "str", "required": True}
    assert option["options"]["names"]["type"] == "list" and option["options"]["names"]["elements"] == "str"
    assert option["options"]["names"]["required"] is True


def test_a_repository_entry_without_names_is_refused_by_the_argument_spec(tmp_path: Path) -> None:
    out = _render_refused(tmp_path, [{"owner": "example"}])
    assert "Validation of arguments failed" in out
    assert "missing required arguments: names found in argo_events_github_repositories" in out


def test_a_repository_given_as_a_string_is_refused_by_the_argument_spec(tmp_path: Path) -> None:
    out = _render_refused(tmp_path, ["example/example-python"])
    assert "Validation of arguments failed" in out
    assert "argo_events_github_repositories" in out and "dict" in out
