"""status against a fake that speaks GitHub's commit statuses API (paths, headers, JSON, codes)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import TOKEN, run_cli

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
DOCS = "https://docs.github.com/rest/commits/statuses#create-a-commit-status"
STATES = ("error", "failure", "pending", "success")


@dataclass
class FakeGitHub:
    """Answers like api.github.com: 401 for a wrong token, 404 for unknown repositories, 422 for a
    bad state, 201 with the created status otherwise; ``script`` forces answers in order."""

    prefix: str = ""
    repos: tuple[str, ...] = ("acme/shop",)
    script: list[tuple[int, dict]] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    port: int = 0

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, dict]:
        self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
        extra = {"X-GitHub-Media-Type": "github.v3; format=json", "X-RateLimit-Limit": "5000",
                 "X-RateLimit-Remaining": "4999", "X-GitHub-Request-Id": "CAFE:0001"}
        if self.script:
            code, data = self.script.pop(0)
            return code, data, extra
        if headers.get("authorization") != "Bearer " + TOKEN:
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                         "status": "401"}, extra
        match = re.fullmatch(re.escape(self.prefix) + r"/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})", path)
        if method != "POST" or not match or match.group(1) not in self.repos:
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, extra
        data = json.loads(body)
        if data.get("state") not in STATES:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "Status", "code": "custom", "field": "state",
                 "message": "state is not included in the list"}], "documentation_url": DOCS,
                "status": "422"}, extra
        created = {
            "url": "https://api.github.com/repos/%s/statuses/%s" % (match.group(1), match.group(2)),
            "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "id": 1, "node_id": "SC_kwDOAAAAAQ",
            "state": data["state"], "description": data.get("description"), "target_url": data.get("target_url"),
            "context": data.get("context", "default"), "created_at": "2026-11-24T05:00:00Z",
            "updated_at": "2026-11-24T05:00:00Z",
            "creator": {"login": "luban-ci[bot]", "id": 2, "type": "Bot"},
        }
        extra["Location"] = created["url"]
        return 201, created, extra

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, self.prefix)


@pytest.fixture()
def github():
    servers = []

    def start(**kwargs: object) -> FakeGitHub:
        fake = FakeGitHub(**kwargs)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                code, data, extra = fake.answer(self.command, self.path, headers, body)
                payload = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        fake.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
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
    assert caught.value.key == "api-unavailable"
    assert "after 2 attempts: URLError: [Errno 111] Connection refused." in caught.value.message


def test_status_unexpected_client_error(github, token_file: Path) -> None:
    fake = github(script=[(400, {"message": "Problems parsing JSON"})])
    result = run_cli(*status_args(fake, token_file))
    assert result.code == 4
    assert result.err == (
        "luban-step: error: GitHub answered 400 (Problems parsing JSON) for '%s/repos/acme/shop/statuses/%s', "
        "which the statuses API does not document for this call. Check --api-url points at the REST API root.\n"
        % (fake.url, SHA))
