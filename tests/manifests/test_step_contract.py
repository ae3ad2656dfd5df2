"""Every `luban-step` call in the rendered templates parses with the step tool's own argument
parser (files/steptool), so a renamed or missing flag fails here, not in a cluster."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO, Doc, by_kind

STEPTOOL_SRC = REPO / "files" / "steptool" / "src"


@pytest.fixture(scope="module")
def step_parser():
    if not (STEPTOOL_SRC / "luban_step" / "cli.py").is_file():
        pytest.fail("files/steptool/src/luban_step/cli.py is missing: the step tool is part of the product.")
    sys.path.insert(0, str(STEPTOOL_SRC))
    try:
        from luban_step.cli import parser
    finally:
        sys.path.remove(str(STEPTOOL_SRC))
    return parser()


def test_every_step_tool_call_parses(docs: list[Doc], step_parser) -> None:
    seen = set()
    for wt in by_kind(docs, "WorkflowTemplate"):
        for t in wt.body["spec"]["templates"]:
            c = t.get("container")
            if not c or c.get("command") != ["luban-step"]:
                continue
            args = step_parser.parse_args(c["args"])
            seen.add(args.command)
            # Secrets arrive as mounted files only.
            for name in ("credentials_dir", "token_file"):
                value = getattr(args, name, None)
                assert value is None or value.startswith("/secrets/"), (wt.name, t["name"], value)
    assert seen == {"supersede", "checkout", "detect", "inputs", "tag", "digest", "deploy", "status"}


def test_checkout_clones_from_the_configured_github_host_only(docs: list[Doc], step_parser) -> None:
    from luban_step.validate import git_host, git_url

    checked = 0
    for wt in by_kind(docs, "WorkflowTemplate"):
        params = [p["name"] for p in wt.body["spec"].get("arguments", {}).get("parameters", [])]
        assert "repo-url" not in params, wt.name  # a Workflow's creator cannot point the clone elsewhere
        for t in wt.body["spec"]["templates"]:
            c = t.get("container") or {}
            if c.get("args", [None])[0] != "checkout":
                continue
            args = step_parser.parse_args(c["args"])
            assert args.repo_url == "https://github.com/{{workflow.parameters.repo}}.git"
            assert args.git_host == "github.com"
            sample = args.repo_url.replace("{{workflow.parameters.repo}}", "example/example-python")
            assert git_host(args.git_host, "--git-host").admits(git_url(sample, "--repo-url"))
            checked += 1
    assert checked == 2


@pytest.mark.parametrize("url, host", [("https://ghe.example.com", "ghe.example.com"),
                                       ("https://10.213.0.1:8418", "10.213.0.1:8418"),
                                       ("ssh://git@ghe.example.com:2222", "ghe.example.com:2222")])
def test_a_github_enterprise_or_private_git_host_is_what_checkout_is_given(tmp_path, url: str, host: str) -> None:
    from conftest import load_docs, render

    manifests = render(tmp_path, {"argo_workflows_github_url": url})
    (ci,) = [d for d in load_docs(manifests) if d.kind == "WorkflowTemplate" and d.name == "luban-ci"]
    (checkout,) = [t for t in ci.body["spec"]["templates"] if t["name"] == "checkout"]
    assert "--repo-url=%s/{{workflow.parameters.repo}}.git" % url in checkout["container"]["args"]
    assert "--git-host=" + host in checkout["container"]["args"]


@pytest.mark.parametrize("url", ["http://github.com", "https://github.com/", "https://github.com/acme",
                                 "https://user:pw@github.com", "github.com"])
def test_a_github_url_that_is_not_a_base_url_is_refused(tmp_path, url: str) -> None:
    import json
    import subprocess

    import yaml

    message = yaml.safe_load((REPO / "roles" / "argo_workflows" / "vars" / "main.yml").read_text())[
        "argo_workflows_messages"]["bad_github_url"].format(url=url.replace("user:pw@", "***@"))
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/orbstack", "playbooks/manifests.yml",
         "-e", json.dumps({"luban_manifests_dir": str(tmp_path), "argo_workflows_github_url": url})],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode != 0
    assert " ".join(message.split()) in " ".join(proc.stdout.split())
    assert "pw@" not in proc.stdout


def test_deploy_orders_commits_by_the_source_history_and_the_status_shows_a_refusal(docs: list[Doc], step_parser) -> None:
    ci = next(d for d in by_kind(docs, "WorkflowTemplate") if d.name == "luban-ci").body["spec"]
    templates = {t["name"]: t for t in ci["templates"]}
    deploy = templates["deploy"]["container"]
    args = step_parser.parse_args(deploy["args"])
    # The history comes from the same place as the checkout, with the same read credentials.
    assert args.source_url == "https://github.com/{{workflow.parameters.repo}}.git"
    assert args.git_host == "github.com" and args.source_credentials_dir == "/secrets/git"
    assert args.history_limit == "5000"
    assert not any(a.startswith(("--source-dir", "--source-time")) for a in deploy["args"])  # no clock
    assert {"name": "git-credentials", "mountPath": "/secrets/git", "readOnly": True} in deploy["volumeMounts"]
    assert args.outputs == "/work/deploy"
    status = step_parser.parse_args(templates["status"]["container"]["args"])
    assert status.description_file == args.outputs + "/outcome"
    assert {"name": "workspace", "mountPath": "/work", "readOnly": True} in templates["status"]["container"]["volumeMounts"]
    pr = next(d for d in by_kind(docs, "WorkflowTemplate") if d.name == "luban-ci-pr").body["spec"]
    (pr_status,) = [t for t in pr["templates"] if t["name"] == "status"]
    assert step_parser.parse_args(pr_status["container"]["args"]).description_file is None


@pytest.mark.parametrize("engine, key", [("creator", "creator_engine"), ("kaniko", "bad_build_engine")])
def test_an_unknown_or_retired_build_engine_is_refused_word_for_word(tmp_path, engine: str, key: str) -> None:
    import json
    import subprocess

    import yaml

    message = yaml.safe_load((REPO / "roles" / "argo_workflows" / "vars" / "main.yml").read_text())[
        "argo_workflows_messages"][key].format(engine=engine)
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventories/orbstack", "playbooks/manifests.yml",
         "-e", json.dumps({"luban_manifests_dir": str(tmp_path), "argo_workflows_build_engine": engine})],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode != 0
    assert " ".join(message.split()) in " ".join(proc.stdout.split())
    assert not list(tmp_path.iterdir())  # refused before anything is rendered
