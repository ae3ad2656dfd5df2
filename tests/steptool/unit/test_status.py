"""status against a fake that speaks GitHub's commit statuses API (paths, headers, JSON, codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import fake_github
from conftest import TOKEN, run_cli
from fake_github import DOCS, FakeGitHub

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


@pytest.fixture()
def github():
    """``github(**kwargs) -> FakeGitHub`` on 127.0.0.1 (tests/support/fake_github.py, shared with
    the end-to-end tier), accepting ``acme/shop`` and the step tool tests' token."""
    servers = []

    def start(**kwargs: object) -> FakeGitHub:
        fake, server = fake_github.start(**{"token": TOKEN, **kwargs})
        servers.append(server)
        return fake

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "github-token"
    path.write_text(TOKEN + "\n")
    return path


def status_args(fake: FakeGitHub, token_file: Path, **overrides: str) -> list[str]:
    values = {"--api-url": fake.url, "--repo": "acme/shop", "--sha": SHA, "--state": "success",
              "--context": "luban-ci/build", "--description": "Build succeeded",
              "--target-url": "https://argo.example.org/workflows/luban/shop-6dcb09b", "--token-file": str(token_file)}
    values.update(overrides)
    args = ["status"]
    for key, value in values.items():
        args += [key, value]
    return args


def test_status_posts_the_exact_request_github_documents(github, token_file: Path) -> None:
    fake = github()
    result = run_cli(*status_args(fake, token_file))
    assert result.code == 0, result.err
    assert result.out == "luban-step: Set commit status success for 'luban-ci/build' on 'acme/shop' at '%s'.\n" % SHA
    (request,) = fake.requests
    assert request["method"] == "POST"
    assert request["path"] == "/repos/acme/shop/statuses/" + SHA
    assert request["headers"]["accept"] == "application/vnd.github+json"
    assert request["headers"]["authorization"] == "Bearer " + TOKEN
    assert request["headers"]["x-github-api-version"] == "2022-11-28"
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["user-agent"].startswith("luban-step/")
    assert json.loads(request["body"]) == {
        "state": "success", "target_url": "https://argo.example.org/workflows/luban/shop-6dcb09b",
        "description": "Build succeeded", "context": "luban-ci/build"}
    assert TOKEN not in result.both


def test_status_on_github_enterprise_server_uses_the_api_v3_base(github, token_file: Path) -> None:
    fake = github(prefix="/api/v3")
    result = run_cli(*status_args(fake, token_file, **{"--api-url": fake.url + "/", "--state": "pending"}))
    assert result.code == 0, result.err
    assert fake.requests[0]["path"] == "/api/v3/repos/acme/shop/statuses/" + SHA


def test_status_description_is_flattened_and_cut_to_140_characters(github, token_file: Path) -> None:
    fake = github()
    text = "Build failed:\nstep\tdeploy " + "x" * 200
    assert run_cli(*status_args(fake, token_file, **{"--description": text, "--state": "failure"})).code == 0
    sent = json.loads(fake.requests[0]["body"])["description"]
    assert len(sent) == 140
    assert sent.startswith("Build failed: step deploy xxx") and sent.endswith("x\u2026")


def test_status_without_a_target_url_sends_null(github, token_file: Path) -> None:
    fake = github()
    assert run_cli(*status_args(fake, token_file, **{"--target-url": ""})).code == 0
    assert json.loads(fake.requests[0]["body"])["target_url"] is None


def test_status_with_a_bad_token_is_unauthorized(github, tmp_path: Path) -> None:
    fake = github()
    wrong = tmp_path / "wrong"
    wrong.write_text("ghp_notTheRightTokenAtAll000000000000")
    result = run_cli(*status_args(fake, wrong))
    assert result.code == 4
    assert result.err == (
        "luban-step: error: GitHub answered 401 (Bad credentials) for '%s/repos/acme/shop/statuses/%s'. The "
        "token in '%s' is wrong, expired or revoked. Renew the token and update the secret.\n" % (fake.url, SHA, wrong))
    assert "ghp_notTheRightToken" not in result.both
    assert len(fake.requests) == 1  # a 4xx is never retried


def test_status_forbidden(github, token_file: Path) -> None:
    fake = github(script=[(403, {"message": "Resource not accessible by integration",
                                 "documentation_url": DOCS, "status": "403"})])
    result = run_cli(*status_args(fake, token_file))
    assert result.code == 4
    assert result.err == (
        "luban-step: error: GitHub answered 403 (Resource not accessible by integration) for '%s/repos/acme/shop/"
        "statuses/%s'. The token may not write commit statuses to this repository, or a rate limit was hit. "
        "Grant the token 'Commit statuses: write' (or repo:status) on the repository, or wait for the limit to "
        "reset.\n" % (fake.url, SHA))


def test_status_for_an_unknown_repository_is_not_found(github, token_file: Path) -> None:
    fake = github()
    result = run_cli(*status_args(fake, token_file, **{"--repo": "acme/other"}))
    assert result.code == 4
    assert result.err == (
        "luban-step: error: GitHub answered 404 (Not Found) for '%s/repos/acme/other/statuses/%s'. The "
        "repository or commit does not exist, or the token cannot see it. Check --repo, --sha, --api-url and "
        "the token's repository access.\n" % (fake.url, SHA))


def test_status_refused_by_validation_quotes_githubs_field_errors(github, token_file: Path) -> None:
    fake = github(script=[(422, {"message": "Validation Failed", "errors": [
        {"resource": "Status", "code": "custom", "field": "context",
         "message": "This SHA and context has reached the maximum number of statuses."}],
        "documentation_url": DOCS, "status": "422"})])
    result = run_cli(*status_args(fake, token_file))
    assert result.code == 4
    assert result.err == (
        "luban-step: error: GitHub answered 422 (Validation Failed: This SHA and context has reached the maximum "
        "number of statuses.) for '%s/repos/acme/shop/statuses/%s'. It refused the status's content (GitHub "
        "keeps at most 1000 statuses per commit and context). Check the state, context and target URL.\n"
        % (fake.url, SHA))


def test_status_retries_a_server_error_then_succeeds(github, token_file: Path) -> None:
    fake = github(script=[(502, {"message": "Server Error"})])
    result = run_cli(*status_args(fake, token_file))
    assert result.code == 0, result.err
    assert result.err == ("luban-step: GitHub did not answer cleanly (HTTP 502 Server Error); retrying in 1s "
                          "(attempt 2 of 4).\n")
    assert len(fake.requests) == 2


def test_status_gives_up_after_the_attempts_with_backoff(github, token_file: Path) -> None:
    from luban_step.errors import StepError
    from luban_step.status import StatusRequest, set_status

    fake = github(script=[(503, {"message": "Service Unavailable"})] * 4)
    slept: list[float] = []
    request = StatusRequest(fake.url, "acme/shop", SHA, "error", "luban-ci/build", "x", "", str(token_file))
    with pytest.raises(StepError) as caught:
        set_status(request, sleep=slept.append)
    assert slept == [1, 2, 4]
    assert caught.value.message == (
        "GitHub could not be reached at '%s/repos/acme/shop/statuses/%s' after 4 attempts: HTTP 503 Service "
        "Unavailable. The server or the network failed. Retry later; check proxies and --api-url." % (fake.url, SHA))


def test_status_network_failure_is_retried_then_reported(token_file: Path) -> None:
    import socket

    from luban_step.errors import StepError
    from luban_step.status import StatusRequest, set_status

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = StatusRequest("http://127.0.0.1:%d" % port, "acme/shop", SHA, "error", "c", "", "", str(token_file))
    with pytest.raises(StepError) as caught:
        set_status(request, sleep=lambda s: None, attempts=2)
    assert caught.value.key == "api_unavailable"
    assert "after 2 attempts: URLError: [Errno 111] Connection refused." in caught.value.message


def test_status_unexpected_client_error(github, token_file: Path) -> None:
    fake = github(script=[(400, {"message": "Problems parsing JSON"})])
    result = run_cli(*status_args(fake, token_file))
    assert result.code == 4
    assert result.err == (
        "luban-step: error: GitHub answered 400 (Problems parsing JSON) for '%s/repos/acme/shop/statuses/%s', "
        "which the statuses API does not document for this call. Check --api-url points at the REST API root.\n"
        % (fake.url, SHA))


def test_a_refused_deploy_shows_in_the_status_description(github, token_file: Path, tmp_path: Path) -> None:
    # report passes deploy's DIR/outcome: the commit shows that it was built but not deployed.
    fake = github()
    outcome = tmp_path / "deploy" / "outcome"
    outcome.parent.mkdir()
    outcome.write_text("not deployed: the deployed 1a2b3c4d5e6f of refs/heads/main descends from it")
    result = run_cli(*status_args(fake, token_file, **{"--description": "build Succeeded",
                                                       "--description-file": str(outcome)}))
    assert result.code == 0, result.err
    assert json.loads(fake.requests[0]["body"])["description"] == (
        "build Succeeded; not deployed: the deployed 1a2b3c4d5e6f of refs/heads/main descends from it")
    # No deploy ran (a failed build, the pending hook, a pull request): the description stays.
    missing = run_cli(*status_args(fake, token_file, **{"--description": "build Failed",
                                                        "--description-file": str(tmp_path / "none")}))
    assert missing.code == 0, missing.err
    assert json.loads(fake.requests[1]["body"])["description"] == "build Failed"


NEWER = "89e6c98d92887913cadf06b2adb97f26cde4849b"
SUPERSEDED = json.dumps({"luban.ci/superseded-by": "ci-shop-0a1b2c3d-89e6c98d9288-push",
                         "luban.ci/superseded-by-revision": NEWER, "workflows.argoproj.io/pod-name-format": "v2"})


@pytest.mark.parametrize("state", ["failure", "error"])
def test_a_superseded_run_posts_pending_superseded_never_failure(
        github, token_file: Path, tmp_path: Path, state: str) -> None:
    # What the exit handler of a run that supersede stopped passes: its final state, its annotations.
    outcome = tmp_path / "outcome"
    outcome.write_text("deployed to apps/shop")
    fake = github()
    result = run_cli(*status_args(fake, token_file, **{"--state": state, "--description": "build Failed",
                                                       "--description-file": str(outcome),
                                                       "--workflow-annotations": SUPERSEDED}))
    assert result.code == 0, result.err
    assert result.out == "luban-step: Set commit status pending for 'luban-ci/build' on 'acme/shop' at '%s'.\n" % SHA
    body = json.loads(fake.requests[0]["body"])
    assert (body["state"], body["description"]) == (
        "pending", "superseded by 89e6c98d9288, a newer commit of the same ref; not built to the end")


@pytest.mark.parametrize("annotations", [SUPERSEDED, "null", "{}", json.dumps({"other": "x"})])
def test_a_run_that_finished_reports_its_own_state(github, token_file: Path, annotations: str) -> None:
    # Superseded but done before the stop took effect: success stays success. Not superseded
    # (no annotations: Argo passes "null"): failure stays failure.
    fake = github()
    for state in ("success", "failure") if annotations != SUPERSEDED else ("success",):
        result = run_cli(*status_args(fake, token_file, **{"--state": state, "--description": "build x",
                                                           "--workflow-annotations": annotations}))
        assert result.code == 0, result.err
        assert json.loads(fake.requests[-1]["body"])["state"] == state


def test_annotations_that_are_not_a_json_object_of_strings_are_refused(github, token_file: Path) -> None:
    fake = github()
    result = run_cli(*status_args(fake, token_file, **{"--state": "failure", "--workflow-annotations": "[1]"}))
    assert (result.code, result.err) == (2, (
        "luban-step: error: --workflow-annotations '[1]' is not the Workflow's annotations: it is not a JSON "
        "object of strings. The status step reads them to tell a superseded run from a failed one. Pass "
        "{{workflow.annotations.json}} unchanged.\n"))
    assert fake.requests == []


def test_a_duplicate_run_posts_no_status(github, token_file: Path) -> None:
    # Its original reports the commit; a "success" from a run that built nothing (or a pending
    # after the original's success) would contradict it.
    fake = github()
    annotations = json.dumps({"luban.ci/duplicate-of": "ci-shop-0a1b2c3d-6dcb09b5b578-push-1f2e3d4c"})
    for state in ("success", "pending"):
        result = run_cli(*status_args(fake, token_file, **{"--state": state, "--workflow-annotations": annotations}))
        assert (result.code, result.err) == (0, "")
        assert result.out == ("luban-step: No commit status from this run: it is a duplicate of "
                              "'ci-shop-0a1b2c3d-6dcb09b5b578-push-1f2e3d4c', which reports '%s'.\n" % SHA)
    assert fake.requests == []
