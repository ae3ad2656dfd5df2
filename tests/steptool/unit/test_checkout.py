"""checkout against real git repositories: a local bare remote and a real smart-HTTP server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import TOKEN, commit, git, make_remote, run_cli


def _source(tmp_path: Path):
    remote = make_remote(tmp_path, "app")
    first = commit(remote.work, {"app.py": "print('one')\n"}, "one", 1_700_000_000)
    second = commit(remote.work, {"app.py": "print('two')\n"}, "two", 1_700_000_100)
    remote.push()
    return remote, first, second


def test_checkout_fetches_exactly_the_requested_commit_shallow(tmp_path: Path) -> None:
    remote, first, _second = _source(tmp_path)
    dest = tmp_path / "ws" / "src"
    result = run_cli("checkout", "--repo-url", remote.url, "--revision", first, "--dest", str(dest))
    assert result.code == 0, result.err
    assert result.out == "luban-step: Checked out '%s' into '%s'.\n" % (first, dest)
    assert git(dest, "rev-parse", "HEAD") == first
    assert (dest / "app.py").read_text() == "print('one')\n"  # not the branch tip
    assert git(dest, "rev-parse", "--is-shallow-repository") == "true"
    assert git(dest, "rev-list", "--count", "HEAD") == "1"


def test_checkout_accepts_an_uppercase_sha_and_a_plain_path_remote(tmp_path: Path) -> None:
    remote, _first, second = _source(tmp_path)
    dest = tmp_path / "src"
    result = run_cli("checkout", "--repo-url", str(remote.bare), "--revision", second.upper(), "--dest", str(dest))
    assert result.code == 0, result.err
    assert git(dest, "rev-parse", "HEAD") == second


def test_checkout_of_an_unknown_commit_is_revision_not_found_after_backing_off(tmp_path: Path) -> None:
    from luban_step.checkout import CheckoutRequest, checkout
    from luban_step.errors import StepError

    remote, _first, _second = _source(tmp_path)
    missing = "0123456789abcdef0123456789abcdef01234567"
    sleeps: list[float] = []
    lines: list[str] = []
    with pytest.raises(StepError) as caught:
        checkout(CheckoutRequest(remote.url, missing, str(tmp_path / "src")), log=lines.append, sleep=sleeps.append)
    assert caught.value.exit_code == 4
    assert caught.value.message.startswith(
        "The commit '%s' could not be fetched from '%s': " % (missing, remote.url))
    assert caught.value.message.endswith("The server does not have it (a typo, or the commit was force-pushed "
                                         "away). Check the SHA; a newer push starts a new run anyway.")
    assert sleeps == [1, 2, 4, 8]  # about 15 s: what GitHub needs to serve a new pull request head
    assert lines[0].startswith("git fetch failed (")
    assert lines[0].endswith("); retrying in 1s (attempt 2 of 5).")


def test_a_pull_request_head_the_server_does_not_serve_yet_is_waited_for(tmp_path: Path) -> None:
    # GitHub's refs/pull lag: the delivery names a head SHA the server answers only moments later.
    from luban_step.checkout import CheckoutRequest, checkout

    remote, _first, _second = _source(tmp_path)
    head = commit(remote.work, {"app.py": "print('pr')\n"}, "pr head", 1_700_000_200)
    lines: list[str] = []

    def sleep(_seconds: float) -> None:
        if len(lines) == 2:  # the head appears after the second failed attempt
            git(remote.work, "push", "-q", "origin", "HEAD:refs/pull/7/head")

    dest = tmp_path / "src"
    result = checkout(CheckoutRequest(remote.url, head, str(dest)), log=lines.append, sleep=sleep)
    assert result == "Checked out '%s' into '%s'." % (head, dest)
    assert git(dest, "rev-parse", "HEAD") == head
    assert [line.split(" (attempt ")[1] for line in lines] == ["2 of 5).", "3 of 5)."]


def test_a_busy_server_is_retried_and_credentials_refused_are_not(tmp_path: Path, token_dir: Path,
                                                                  git_http_server) -> None:
    remote, first, _second = _source(tmp_path)
    url = git_http_server(remote.bare, busy=2)
    result = run_cli("checkout", "--repo-url", url, "--revision", first, "--dest", str(tmp_path / "src"),
                     "--credentials-dir", str(token_dir))
    assert result.code == 0, result.err
    assert result.err == (
        "luban-step: git fetch failed (fatal: unable to access '{url}/': The requested URL returned error: 503); "
        "retrying in 1s (attempt 2 of 5).\n"
        "luban-step: git fetch failed (fatal: unable to access '{url}/': The requested URL returned error: 503); "
        "retrying in 2s (attempt 3 of 5).\n").format(url=url)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "token").write_text("not-the-token")
    refused = run_cli("checkout", "--repo-url", git_http_server(remote.bare), "--revision", first,
                      "--dest", str(tmp_path / "src2"), "--credentials-dir", str(wrong))
    assert refused.code == 4
    assert "retrying" not in refused.err


def test_checkout_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    remote, first, _second = _source(tmp_path)
    dest = tmp_path / "src"
    dest.mkdir()
    (dest / "leftover").write_text("x")
    result = run_cli("checkout", "--repo-url", remote.url, "--revision", first, "--dest", str(dest))
    assert result.code == 3
    assert result.err == (
        "luban-step: error: --dest '%s' exists and is not empty. A checkout into leftover files could "
        "mix two sources. Give an empty or new directory.\n" % dest)


def test_checkout_without_git_on_path_says_the_image_needs_git(tmp_path: Path) -> None:
    remote, first, _second = _source(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_cli("checkout", "--repo-url", remote.url, "--revision", first, "--dest",
                     str(tmp_path / "src"), env={"PATH": str(empty)})
    assert result.code == 3
    assert "The git command was not found on PATH." in result.err


def test_checkout_over_https_token_uses_askpass_and_never_stores_the_token(
        tmp_path: Path, token_dir: Path, git_http_server) -> None:
    remote, first, _second = _source(tmp_path)
    url = git_http_server(remote.bare)
    dest = tmp_path / "src"
    result = run_cli("checkout", "--repo-url", url, "--revision", first, "--dest", str(dest),
                     "--credentials-dir", str(token_dir))
    assert result.code == 0, result.err
    assert git(dest, "rev-parse", "HEAD") == first
    assert TOKEN not in result.both
    for path in (dest / ".git").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert git(dest, "remote", "get-url", "origin") == url


def test_checkout_with_a_wrong_token_fails_without_echoing_it(
        tmp_path: Path, git_http_server) -> None:
    remote, first, _second = _source(tmp_path)
    url = git_http_server(remote.bare)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "token").write_text("ghp_wrongWRONGwrong0000000000000000")
    result = run_cli("checkout", "--repo-url", url, "--revision", first, "--dest", str(tmp_path / "src"),
                     "--credentials-dir", str(wrong))
    assert result.code == 4
    assert result.err.startswith("luban-step: error: git fetch failed with exit code 128: ")
    assert "ghp_wrongWRONGwrong" not in result.both


def test_checkout_refuses_a_token_over_plain_http_to_a_remote_host(tmp_path: Path, token_dir: Path) -> None:
    result = run_cli("checkout", "--repo-url", "http://git.example.org/acme/shop.git", "--revision",
                     "a" * 40, "--dest", str(tmp_path / "src"), "--credentials-dir", str(token_dir))
    assert result.code == 3
    assert result.err == (
        "luban-step: error: Refusing to send the token in '%s' over plain http to 'git.example.org'. "
        "A token sent without TLS can be read on the way. Use an https:// URL.\n" % (token_dir / "token"))


def test_checkout_refuses_a_url_that_does_not_name_the_configured_git_host(tmp_path: Path, token_dir: Path) -> None:
    for url in ("https://evil.example/acme/shop.git", "https://github.com:8443/acme/shop.git",
                "git@evil.example:acme/shop.git", "file:///srv/acme/shop.git"):
        result = run_cli("checkout", "--repo-url", url, "--revision", "a" * 40, "--dest", str(tmp_path / "src"),
                         "--credentials-dir", str(token_dir), "--git-host", "github.com")
        assert result.code == 2, result
        assert result.err == (
            "luban-step: error: --repo-url '%s' does not name the configured git host 'github.com'. Repository "
            "URLs are built from the configured GitHub URL and credentials go to that host only, so a URL naming "
            "another host or port is refused. Check argo_workflows_github_url and the URL the step was given.\n"
            % url)
        assert not (tmp_path / "src").exists()


def test_the_configured_git_host_matches_default_and_explicit_ports() -> None:
    from luban_step.validate import git_host, git_url

    github = git_host("GitHub.com", "--git-host")
    assert github.admits(git_url("https://github.com/acme/shop.git", "--repo-url"))
    assert github.admits(git_url("https://github.com:443/acme/shop.git", "--repo-url"))
    assert github.admits(git_url("git@github.com:acme/shop.git", "--repo-url"))
    assert not github.admits(git_url("https://github.com.evil.example/acme/shop.git", "--repo-url"))
    e2e = git_host("10.213.0.1:8418", "--git-host")
    assert e2e.admits(git_url("https://10.213.0.1:8418/e2e/app.git", "--repo-url"))
    assert not e2e.admits(git_url("https://10.213.0.1/e2e/app.git", "--repo-url"))
    assert not e2e.admits(git_url("ssh://git@10.213.0.1:2222/e2e/app.git", "--repo-url"))


def test_an_invalid_git_host_is_refused(tmp_path: Path) -> None:
    result = run_cli("checkout", "--repo-url", "https://github.com/acme/shop.git", "--revision", "a" * 40,
                     "--dest", str(tmp_path / "src"), "--git-host", "github.com:99999")
    assert result.code == 2
    assert result.err == (
        "luban-step: error: --git-host 'github.com:99999' is not a git host: its port is not a number from 1 to "
        "65535. Pass the host of the configured GitHub URL as HOST or HOST:PORT, for example github.com or "
        "ghe.example.com:8443.\n")


def test_a_redirect_to_another_host_gets_no_token(tmp_path: Path, token_dir: Path, git_http_server,
                                                  redirecting_server) -> None:
    # The configured host answers with a redirect to another host that asks for credentials: git
    # follows it and asks for the token there; the askpass program answers only the configured host.
    remote, first, _second = _source(tmp_path)
    real = git_http_server(remote.bare).replace("127.0.0.1", "localhost")
    url = redirecting_server(real)
    assert url.startswith("http://127.0.0.1:")
    dest = tmp_path / "src"
    result = run_cli("checkout", "--repo-url", url, "--revision", first, "--dest", str(dest),
                     "--credentials-dir", str(token_dir), "--git-host", url.split("/")[2])
    assert result.code == 4, result
    origin = "http://127.0.0.1:%s" % url.split("/")[2].split(":")[1]
    asked = real.rsplit("/", 1)[0]
    assert result.err == (
        "luban-step: error: git asked for the token for '%s', but the token may only go to '%s'. The server sent "
        "git to another host (a moved repository, or a hostile redirect), and luban-step never hands a token to "
        "a host it was not configured for. Point the configured URL at the repository's current location.\n"
        % (asked, origin))
    assert TOKEN not in result.both


def test_checkout_over_ssh_needs_known_hosts(tmp_path: Path) -> None:
    secret = tmp_path / "ssh"
    secret.mkdir()
    (secret / "ssh-privatekey").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAkeymaterial0000000000\n")
    result = run_cli("checkout", "--repo-url", "git@github.com:acme/shop.git", "--revision", "a" * 40,
                     "--dest", str(tmp_path / "src"), "--credentials-dir", str(secret))
    assert result.code == 3
    assert "holds 'ssh-privatekey' but no 'known_hosts'" in result.err


def test_ssh_command_names_a_private_copy_of_the_key_with_strict_host_checking(tmp_path: Path) -> None:
    from luban_step.credentials import git_auth
    from luban_step.validate import git_url

    secret = tmp_path / "ssh"
    secret.mkdir()
    (secret / "ssh-privatekey").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAkeymaterial0000000000")
    (secret / "known_hosts").write_text("github.com ssh-ed25519 AAAA\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    auth = git_auth(git_url("git@github.com:acme/shop.git", "--repo-url"), str(secret), scratch)
    command = auth.env["GIT_SSH_COMMAND"]
    assert "StrictHostKeyChecking=yes" in command
    assert "UserKnownHostsFile=" + str(secret / "known_hosts") in command
    key = scratch / "id"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert key.read_text().endswith("\n")
    assert "keymaterial" not in command and os.environ.get("GIT_SSH_COMMAND") is None


def test_a_retried_checkout_reuses_its_clean_checkout_and_restarts_a_failed_one(tmp_path: Path) -> None:
    remote, first, second = _source(tmp_path)
    dest = tmp_path / "src"
    args = ["checkout", "--repo-url", remote.url, "--revision", first, "--dest", str(dest)]
    assert run_cli(*args).code == 0
    again = run_cli(*args)
    assert again.code == 0 and again.out == "luban-step: Checked out '%s' into '%s'.\n" % (first, dest)
    (dest / "app.py").write_text("changed")
    assert run_cli(*args).code == 3  # a modified tree is not reused
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))  # what a fetch that failed after init leaves behind
    result = run_cli("checkout", "--repo-url", remote.url, "--revision", second, "--dest", str(other))
    assert result.code == 0, result.err
    assert git(other, "rev-parse", "HEAD") == second


def test_checkout_over_a_real_ssh_remote_with_a_deploy_key(tmp_path: Path, git_ssh_server) -> None:
    remote = make_remote(tmp_path, "app")
    wanted = commit(remote.work, {"main.py": "print(1)\n"}, "one", 1_700_000_000)
    commit(remote.work, {"main.py": "print(2)\n"}, "two", 1_700_000_100)
    remote.push()
    url, credentials = git_ssh_server(remote.bare)
    result = run_cli("checkout", "--repo-url", url, "--revision", wanted, "--dest", str(tmp_path / "src"),
                     "--credentials-dir", str(credentials))
    assert result.code == 0, result.err
    assert (tmp_path / "src" / "main.py").read_text() == "print(1)\n"
    assert "PRIVATE KEY" not in result.both


@pytest.mark.parametrize("stderr, attempts", [
    ("fatal: unable to access 'https://h/acme/shop.git/': The requested URL returned error: 403", 1),
    ("remote: Permission to acme/shop.git denied to luban-bot.\nfatal: unable to access 'https://h/': "
     "The requested URL returned error: 403", 1),
    ("fatal: unable to access 'https://h/acme/shop.git/': The requested URL returned error: 404", 1),
    ("fatal: unable to access 'https://h/acme/shop.git/': The requested URL returned error: 502", 5),
])
def test_http_refusals_are_final_and_server_errors_are_retried(stderr: str, attempts: int) -> None:
    from luban_step import gitcmd

    calls = []

    class Refusing:
        def run(self, args, action, check=True):
            calls.append(args)
            return subprocess.CompletedProcess(args, 128, "", stderr)

    done = gitcmd.fetch(Refusing(), ["origin", "main"], "fetch", sleep=lambda _s: None)  # type: ignore[arg-type]
    assert done.returncode == 128 and len(calls) == attempts
