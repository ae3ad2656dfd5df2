"""deploy: pin the built image by digest in the GitOps repository, commit, push.

A push race (another run pushed first) is resolved by replaying the edit on the new tip, up to
ATTEMPTS times. A textual ``git rebase`` would conflict on the very lines both runs edit, and the
backwards check must be made again against what the other run deployed — so each attempt fetches
the tip, re-reads the record, decides, edits and pushes afresh (docs/decisions/0301-*).
"""

from __future__ import annotations

import random
import re
import tempfile
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from luban_step import kustomization, validate
from luban_step.credentials import git_auth
from luban_step.errors import StepError, notice
from luban_step.gitcmd import Git, failure_detail, git_env
from luban_step.kustomization import Deployed, KustomizationError

ATTEMPTS = 5
FILE = "kustomization.yaml"
_NO_BRANCH = re.compile(r"couldn't find remote ref|no such remote ref", re.I)
# Porcelain push lines that mean "someone else moved the branch", not "you may not push".
_RACE = re.compile(r"\[rejected\]|cannot lock ref|failed to update ref|incorrect old value|"
                   r"stale info|fetch first|non-fast-forward", re.I)


@dataclass(frozen=True)
class DeployRequest:
    gitops_repo: str
    gitops_branch: str
    path: str
    image_name: str
    image: str
    source_repo: str
    source_sha: str
    source_ref: str
    credentials_dir: str | None = None
    source_dir: str | None = None
    source_time: str | int | None = None


@dataclass(frozen=True)
class Order:
    verdict: str  # "same", "forward", "backwards" or "unknown"
    why: str = ""


Ancestry = Callable[[str, str], bool | None]  # (older?, newer?) -> True/False, None = cannot tell
Log = Callable[[str], None]


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decide(recorded: Deployed | None, repo: str, ref: str, sha: str, when: int | None,
           ancestry: Ancestry) -> Order:
    """Is deploying ``sha`` a step forward from ``recorded`` for the same source branch?

    Rule (works with shallow clones): only a record of the same source repository and ref is
    compared. Ancestry decides when the source checkout holds both commits; otherwise committer
    times decide (an older commit time is backwards; equal times deploy, latest build wins);
    without a time for the new commit the order is unknown and the deploy proceeds.
    """
    if recorded is None or recorded.repo != repo or recorded.ref != ref:
        return Order("forward")
    if recorded.sha == sha:
        return Order("same")
    if ancestry(sha, recorded.sha):
        return Order("backwards", "it descends from %s" % sha)
    if ancestry(recorded.sha, sha):
        return Order("forward")
    if when is not None and recorded.time is not None:
        if when < recorded.time:
            return Order("backwards", "committed %s, after %s" % (_utc(recorded.time), _utc(when)))
        return Order("forward")
    return Order("unknown")


def _source_facts(request: DeployRequest, sha: str, given_time: int | None,
                  protocol_env: dict[str, str]) -> tuple[int | None, Ancestry]:
    """Commit time of ``sha`` and an ancestry oracle, from the source checkout when given."""
    if not request.source_dir:
        return given_time, lambda older, newer: None
    source = Git(Path(request.source_dir), protocol_env)
    shown = source.run(["show", "-s", "--format=%ct", sha], "show (--source-dir)", check=False)
    when = int(shown.stdout.strip()) if shown.returncode == 0 and shown.stdout.strip().isdigit() else None
    if when is None:
        raise StepError("source-commit-missing", path=request.source_dir, sha=sha)

    def ancestry(older: str, newer: str) -> bool | None:
        done = source.run(["merge-base", "--is-ancestor", older, newer], "merge-base", check=False)
        return {0: True, 1: False}.get(done.returncode)  # 128: a commit is not in the (shallow) clone

    return when if given_time is None else given_time, ancestry


def _message(request: DeployRequest, sha: str, path: str, image: str) -> str:
    return "\n".join([
        "Deploy %s@%s (%s) to %s" % (request.source_repo, sha[:12], request.source_ref, path),
        "",
        "Image: %s" % image,
        "",
        "Luban-Source-Repo: %s" % request.source_repo,
        "Luban-Source-Ref: %s" % request.source_ref,
        "Luban-Source-Sha: %s" % sha,
        "Luban-Image: %s" % image,
        "",
    ])


def deploy(request: DeployRequest, *, log: Log = lambda line: None,
           sleep: Callable[[float], None] = clock.sleep, attempts: int = ATTEMPTS,
           before_push: Callable[[int], None] = lambda attempt: None) -> str:
    """Returns the final notice. ``before_push`` lets tests create a real push race."""
    url = validate.git_url(request.gitops_repo, "--gitops-repo")
    branch = validate.ref_name(request.gitops_branch, "--gitops-branch")
    path = validate.rel_path(request.path, "--path")
    name = validate.image_name(request.image_name, "--image-name")
    repository, digest = validate.image_by_digest(request.image, "--image")
    source_repo = validate.repo_slug(request.source_repo, "--source-repo")
    sha = validate.sha(request.source_sha, "--source-sha")
    ref = validate.ref_name(request.source_ref, "--source-ref")
    given_time = validate.commit_time(request.source_time, "--source-time")
    image = repository + "@" + digest

    with tempfile.TemporaryDirectory(prefix="luban-step-") as scratch:
        auth = git_auth(url, request.credentials_dir, Path(scratch))
        when, ancestry = _source_facts(request, sha, given_time, git_env({}, "file"))
        work = Path(scratch) / "gitops"
        work.mkdir()
        git = Git(work, git_env(auth.env, url.scheme), auth.check_refused)
        git.run(["init", "-q"], "init")
        git.run(["remote", "add", "origin", url.url], "remote add")
        tracking = "refs/remotes/origin/" + branch
        for attempt in range(1, attempts + 1):
            fetched = git.run(["fetch", "-q", "--depth", "1", "--no-tags", "origin",
                               "+refs/heads/%s:%s" % (branch, tracking)], "fetch", check=False)
            if fetched.returncode != 0:
                if _NO_BRANCH.search(fetched.stderr):
                    raise StepError("branch-missing", branch=branch, url=url.url)
                raise StepError("git-failed", action="fetch", code=fetched.returncode,
                                detail=failure_detail(fetched))
            git.run(["checkout", "-q", "--force", "-B", "luban-deploy", tracking], "checkout")
            target = work / path / FILE
            if not target.is_file():
                raise StepError("kustomization-missing", path=path, branch=branch)
            text = target.read_text(encoding="utf-8")
            try:
                data = kustomization.parse(text)
            except KustomizationError as exc:
                raise StepError("kustomization-invalid", path=path, branch=branch, reason=str(exc)) from None
            recorded = kustomization.records(data).get(name)
            order = decide(recorded, source_repo, ref, sha, when, ancestry)
            facts = dict(image=image, repo=source_repo, sha=sha, path=path, branch=branch)
            if order.verdict == "backwards":
                assert recorded is not None
                return notice("refuse-backwards", repo=source_repo, sha=sha, path=path, branch=branch,
                              deployed=recorded.sha, ref=ref, why=order.why)
            if order.verdict == "same" and recorded is not None and recorded.image == image:
                return notice("already-deployed", **facts)
            if order.verdict == "unknown" and recorded is not None:
                log(notice("order-unknown", sha=sha, deployed=recorded.sha, ref=ref))
            record = Deployed(source_repo, ref, sha, when, image)
            target.write_text(kustomization.render(text, kustomization.updated(data, name, repository, digest, record)),
                              encoding="utf-8")
            git.run(["add", "--", str(Path(path) / FILE)], "add")
            git.run(["commit", "-q", "-m", _message(request, sha, path, image)], "commit")
            before_push(attempt)
            pushed = git.run(["push", "--porcelain", "origin", "HEAD:refs/heads/" + branch], "push", check=False)
            if pushed.returncode == 0:
                return notice("deployed", **facts)
            report = pushed.stdout + "\n" + pushed.stderr
            if not _RACE.search(report):
                raise StepError("push-rejected", branch=branch, detail=failure_detail(pushed))
            if attempt < attempts:
                log(notice("push-retry", branch=branch, attempt=attempt + 1, attempts=attempts))
                sleep(random.uniform(0.2, 1.0) * attempt)  # jitter: racing runs spread out
    raise StepError("push-race-exhausted", branch=branch, attempts=attempts)
