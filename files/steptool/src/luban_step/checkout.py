"""checkout: exactly one commit, shallow, into an empty directory."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from luban_step import validate
from luban_step.credentials import git_auth
from luban_step.errors import StepError, notice
from luban_step.gitcmd import Git, failure_detail, fetch, git_env

# What git says when the server does not have (or will not serve) the wanted object.
_NOT_FOUND = re.compile(r"not our ref|couldn't find remote ref|no such remote ref|"
                        r"unadvertised object|did not send all necessary objects", re.I)


@dataclass(frozen=True)
class CheckoutRequest:
    repo_url: str
    revision: str
    dest: str
    credentials_dir: str | None = None
    git_host: str | None = None


def _already_checked_out(dest: Path, sha: str, protocol: str) -> bool:
    """A retried step finds its own work: reuse a clean checkout of ``sha``, clear a failed start.

    Anything else in ``dest`` is left alone (and refused by the caller).
    """
    if not (dest / ".git").is_dir():
        return False
    git = Git(dest, git_env({}, protocol))
    head = git.run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], "rev-parse", check=False)
    if head.returncode != 0:
        if [p.name for p in dest.iterdir()] == [".git"]:  # init done, fetch failed: start over
            shutil.rmtree(dest / ".git")
        return False
    clean = git.run(["status", "--porcelain", "--untracked-files=all"], "status", check=False)
    return head.stdout.strip() == sha and clean.returncode == 0 and clean.stdout == ""


def checkout(request: CheckoutRequest, *, log: Callable[[str], None] = lambda line: None,
             sleep: Callable[[float], None] = time.sleep) -> str:
    """A fetch that fails is retried with backoff (gitcmd.fetch), "not found" included: GitHub may
    answer a pull request's head SHA only seconds after the delivery (refs/pull lag)."""
    host = validate.git_host(request.git_host, "--git-host") if request.git_host else None
    url = validate.git_url(request.repo_url, "--repo-url", host)
    sha = validate.sha(request.revision, "--revision")
    dest = Path(request.dest)
    if _already_checked_out(dest, sha, url.scheme):
        return notice("checked_out", sha=sha, path=dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StepError("dest_not_empty", path=dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="luban-step-") as scratch:
        auth = git_auth(url, request.credentials_dir, Path(scratch))
        git = Git(dest, git_env(auth.env, url.scheme), auth.check_refused)
        git.run(["init", "-q"], "init")
        # The URL is stored without credentials (validated), so .git/config holds no secret.
        git.run(["remote", "add", "origin", url.url], "remote add")
        fetched = fetch(git, ["-q", "--depth", "1", "--no-tags", "origin", sha], "fetch", log=log, sleep=sleep)
        if fetched.returncode != 0:
            detail = failure_detail(fetched)
            if _NOT_FOUND.search(fetched.stderr):
                raise StepError("revision_not_found", sha=sha, url=url.url, detail=detail)
            raise StepError("git_failed", action="fetch", code=fetched.returncode, detail=detail)
        git.run(["checkout", "-q", "--detach", sha], "checkout")
        head = git.out(["rev-parse", "HEAD"], "rev-parse")
    if head != sha:
        raise StepError("head_mismatch", head=head, sha=sha)
    return notice("checked_out", sha=sha, path=dest)
