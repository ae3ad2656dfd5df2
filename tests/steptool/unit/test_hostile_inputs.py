"""Hostile values on every command line: refused before use, or handled safely. One test per kind."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from conftest import Result

SHA = "a" * 40
IMAGE = "quay.io/acme/shop@sha256:" + "b" * 64


def command(option: str, value: str, tmp_path: Path) -> list[str]:
    """A complete, otherwise valid command line with ``option`` set to ``value``."""
    token = tmp_path / "token"
    token.write_text("t0ken-value-for-tests")
    lines = {
        "checkout": {"--repo-url": "https://github.com/acme/shop.git", "--revision": SHA,
                     "--dest": str(tmp_path / "src")},
        "detect": {"--source": str(tmp_path), "--app-path": ".", "--registry": str(tmp_path / "r.json"),
                   "--outputs": str(tmp_path / "out")},
        "deploy": {"--gitops-repo": "https://github.com/acme/gitops.git", "--gitops-branch": "main",
                   "--path": "apps/shop", "--image-name": "shop", "--image": IMAGE, "--source-repo": "acme/shop",
                   "--source-sha": SHA, "--source-ref": "main", "--source-url": "https://github.com/acme/shop.git"},
        "status": {"--api-url": "https://api.github.com", "--repo": "acme/shop", "--sha": SHA, "--state": "success",
                   "--context": "luban-ci/build", "--description": "ok", "--target-url": "", "--token-file": str(token)},
        "digest": {"--report": str(tmp_path / "report.toml"), "--outputs": str(tmp_path / "out"),
                   "--image-repository": "quay.io/acme/shop"},
    }
    name = next(cmd for cmd, options in lines.items() if option in options)
    values = dict(lines[name], **{option: value})
    args = [name]
    for key, item in values.items():
        args += [key, item]
    return args


def run_main(args: list[str]) -> Result:
    """The real entry point in-process (hundreds of cases; a process each would be slow)."""
    from luban_step.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return Result(code, out.getvalue(), err.getvalue())


def refused(option: str, value: str, tmp_path: Path, reason: str) -> Result:
    result = run_main(command(option, value, tmp_path))
    assert result.code == 2, result.err
    assert result.err.startswith("luban-step: error: %s '" % option), result.err
    assert reason in result.err
    assert result.err.count("\n") == 1  # one line, whatever the value held
    assert result.out == ""
    return result


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--repo-url", "https://github.com/acme/shop.git;id", "its path contains a character outside"),
    ("--repo-url", "ext::sh -c touch% pwned", "it contains whitespace"),
    ("--repo-url", "--upload-pack=touch pwned", "it contains whitespace"),
    ("--revision", "$(touch pwned)", "is not a commit SHA"),
    ("--app-path", "app;touch pwned", "it contains a space or a shell metacharacter"),
    ("--path", "apps/$(touch pwned)", "it contains a space or a shell metacharacter"),
    ("--gitops-branch", "main`touch pwned`", "it contains a space or a shell metacharacter"),
    ("--source-ref", "main|touch", "it contains a space or a shell metacharacter"),
    ("--image-name", "shop&&touch", "it is not an image name without tag or digest"),
    ("--image", IMAGE + ";touch", "is not an image pinned by digest"),
    ("--repo", "acme/shop;rm", "is not an OWNER/NAME repository"),
    ("--api-url", "https://api.github.com/$(id)", "its path contains a character outside"),
    ("--image-repository", "quay.io/acme/shop;x", "it is not a lowercase image repository"),
])
def test_shell_metacharacters_are_refused(option: str, value: str, reason: str, tmp_path: Path) -> None:
    refused(option, value, tmp_path, reason)
    assert not (Path.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--repo-url", "https://github.com/acme/shop.git\nevil", "it contains a control character such as a newline"),
    ("--app-path", "app\n", "it contains a control character such as a newline"),
    ("--path", "apps/shop\r\nx", "it contains a control character such as a newline"),
    ("--gitops-branch", "main\nLuban-Source-Sha: forged", "it contains a control character such as a newline"),
    ("--source-ref", "main\n", "it contains a control character such as a newline"),
    ("--context", "ci\nbuild", "it contains a control character such as a newline"),
    ("--target-url", "https://argo.example.org/\nx", "it contains a control character such as a newline"),
    ("--revision", SHA + "\n", "is not a commit SHA"),
])
def test_newlines_are_refused(option: str, value: str, reason: str, tmp_path: Path) -> None:
    refused(option, value, tmp_path, reason)


def test_newlines_in_a_description_become_spaces() -> None:
    from luban_step.validate import description

    assert description("Build failed\nin step\r\n deploy\x00") == "Build failed in step deploy"


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--app-path", "../other", "it contains '..'"),
    ("--app-path", "services/../../etc", "it contains '..'"),
    ("--path", "apps/..", "it contains '..'"),
    ("--path", "/etc/passwd", "it is absolute"),
    ("--gitops-branch", "main..evil", "it contains '..' or '//'"),
    ("--source-ref", "refs/heads/../x", "it contains '..' or '//'"),
    ("--repo-url", "https://github.com/acme/../other.git", "its path contains '..'"),
    ("--repo", "acme/..", "is not an OWNER/NAME repository"),
])
def test_dot_dot_is_refused(option: str, value: str, reason: str, tmp_path: Path) -> None:
    refused(option, value, tmp_path, reason)


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--path", "apps/sh\u00f6p", "it contains a character outside ASCII"),
    ("--gitops-branch", "ma\u00efn", "it contains a character outside ASCII"),
    ("--repo-url", "https://g\u0131thub.com/acme/shop.git", "it contains a non-ASCII character"),
    ("--repo", "\u0430cme/shop", "is not an OWNER/NAME repository"),  # Cyrillic a
    ("--context", "ci\u202ebuild", "it contains a control character"),  # right-to-left override
])
def test_unicode_is_refused_where_it_could_deceive(option: str, value: str, reason: str, tmp_path: Path) -> None:
    refused(option, value, tmp_path, reason)


def test_unicode_in_free_text_is_sent_as_is() -> None:
    from luban_step.status import StatusRequest, build

    _url, body = build(StatusRequest("https://api.github.com", "acme/shop", SHA, "success", "luban-ci/构建",
                                     "Build \u2713 passed", "", "unused"))
    assert body["context"] == "luban-ci/构建"
    assert body["description"] == "Build \u2713 passed"
    assert json.loads(json.dumps(body)) == body


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--path", "a/" * 200, "it is longer than 255 characters"),
    ("--gitops-branch", "b" * 300, "it is longer than 255 characters"),
    ("--context", "c" * 1000, "it is longer than 255 characters"),
    ("--repo-url", "https://github.com/" + "x" * 5000, "it is longer than 2048 characters"),
    ("--revision", "f" * 100_000, "is not a commit SHA"),
])
def test_very_long_values_are_refused_with_a_bounded_message(
        option: str, value: str, reason: str, tmp_path: Path) -> None:
    result = refused(option, value, tmp_path, reason)
    assert len(result.err) < 1000
    assert "...(%d characters)" % len(value) in result.err


def test_a_very_long_description_is_cut_to_githubs_limit() -> None:
    from luban_step.validate import description

    assert len(description("d" * 100_000)) == 140
