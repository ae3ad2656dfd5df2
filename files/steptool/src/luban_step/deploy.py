"""deploy: pin the built image by digest in the GitOps repository, commit, push.

A push race (another run pushed first) is resolved by replaying the edit on the new tip, up to
ATTEMPTS times. A textual ``git rebase`` would conflict on the very lines both runs edit, and the
backwards check must be made again against what the other run deployed — so each attempt fetches
the tip, re-reads the record, decides, edits and pushes afresh (docs/decisions/0301-*). The order
of two commits is their ancestry in the source repository (luban_step.history), never their dates.
"""

from __future__ import annotations

import random
import re
import tempfile
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from luban_step import kustomization, validate
from luban_step.credentials import git_auth
from luban_step.errors import StepError, notice, outcome
from luban_step.gitcmd import Git, failure_detail, fetch, git_env
from luban_step.history import DEFAULT_LIMIT, Order, SourceHistory
from luban_step.kustomization import Deployed, KustomizationError
from luban_step.outputs import write_outputs

ATTEMPTS = 5
FILE = "kustomization.yaml"
_NO_BRANCH = re.compile(r"couldn't find remote ref|no such remote ref", re.I)
# Porcelain push lines that mean "someone else moved the branch", not "you may not push".
_RACE = re.compile(r"\[rejected\]|cannot lock ref|failed to update ref|incorrect old value|"
                   r"stale info|fetch first|non-fast-forward", re.I)
# A push that failed on the way (network, a busy server): replayed like a lost race.
_TRANSIENT = re.compile(r"could not resolve host|connection (?:reset|refused|timed out)|failed to connect|"
                        r"early EOF|RPC failed|returned error: 5\d\d|HTTP 5\d\d|unexpected disconnect|"
                        r"remote end hung up|operation timed out", re.I)


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
    source_url: str
    credentials_dir: str | None = None
    source_credentials_dir: str | None = None
    git_host: str | None = None
    history_limit: int = DEFAULT_LIMIT
    outputs: str | None = None


History = Callable[[str, str], Order]  # (new, deployed) -> where new stands
Log = Callable[[str], None]


def decide(recorded: Deployed | None, repo: str, ref: str, sha: str, history: History,
           tip: Callable[[], str | None] = lambda: None) -> Order:
    """Is deploying ``sha`` a step forward from ``recorded`` for the same source ref?

    A record of the same source repository and ref is compared by the source history, by ancestry
    alone: commit dates are never compared (docs/decisions/0301-*). Another ref (or repository)
    may take a path over, a deliberate choice, but only with what that ref holds now: a commit
    that is no longer its ref's tip (a late or replayed delivery) takes nothing over.
    """
    if recorded is None:
        return Order("forward")
    if recorded.repo != repo or recorded.ref != ref:
        return Order("forward") if tip() == sha else Order("stale")
    if recorded.sha == sha:
        return Order("same")
    return history(sha, recorded.sha)


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


def _report(request: DeployRequest, result: str, line: str) -> None:
    """The outcome for the commit status (report reads DIR/outcome), when --outputs is given."""
    if request.outputs:
        write_outputs(request.outputs, {"result": result, "outcome": line})


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
    host = validate.git_host(request.git_host, "--git-host") if request.git_host else None
    source_url = validate.git_url(request.source_url, "--source-url", host)
    limit = validate.history_limit(request.history_limit, "--history-limit")
    image = repository + "@" + digest

    with tempfile.TemporaryDirectory(prefix="luban-step-") as scratch:
        base = Path(scratch)
        for part in ("gitops", "gitops-auth", "source", "source-auth"):
            (base / part).mkdir()
        auth = git_auth(url, request.credentials_dir, base / "gitops-auth")
        source_auth = git_auth(source_url, request.source_credentials_dir, base / "source-auth")
        history = SourceHistory(Git(base / "source", git_env(source_auth.env, source_url.scheme),
                                    source_auth.check_refused),
                                source_url.url, ref if ref.startswith("refs/") else "refs/heads/" + ref, limit,
                                log=log, sleep=sleep)
        work = base / "gitops"
        git = Git(work, git_env(auth.env, url.scheme), auth.check_refused)
        git.run(["init", "-q"], "init")
        git.run(["remote", "add", "origin", url.url], "remote add")
        tracking = "refs/remotes/origin/" + branch
        for attempt in range(1, attempts + 1):
            fetched = fetch(git, ["-q", "--depth", "1", "--no-tags", "origin", "+refs/heads/%s:%s" % (branch, tracking)],
                            "fetch", final=_NO_BRANCH, log=log, sleep=sleep)
            if fetched.returncode != 0:
                if _NO_BRANCH.search(fetched.stderr):
                    raise StepError("branch_missing", branch=branch, url=url.url)
                raise StepError("git_failed", action="fetch", code=fetched.returncode,
                                detail=failure_detail(fetched))
            git.run(["checkout", "-q", "--force", "-B", "luban-deploy", tracking], "checkout")
            target = work / path / FILE
            if not target.is_file():
                raise StepError("kustomization_missing", path=path, branch=branch)
            text = target.read_text(encoding="utf-8")
            try:
                data = kustomization.parse(text)
            except KustomizationError as exc:
                raise StepError("kustomization_invalid", path=path, branch=branch, reason=str(exc)) from None
            recorded = kustomization.records(data).get(name)
            order = decide(recorded, source_repo, ref, sha, history.order, history.tip_commit)
            facts = dict(image=image, repo=source_repo, sha=sha, path=path, branch=branch)
            refusal = dict(repo=source_repo, sha=sha, path=path, branch=branch, ref=ref, why=order.why,
                           deployed=recorded.sha if recorded else "")
            short = dict(deployed=refusal["deployed"][:12], ref=ref, limit=limit)
            if order.verdict == "backwards":
                _report(request, "refused", outcome("refuse_backwards", **short))
                return notice("refuse_backwards", **refusal)
            if order.verdict == "off-ref":
                _report(request, "refused", outcome("refuse_off_ref", **short))
                return notice("refuse_off_ref", **refusal)
            if order.verdict == "dropped":
                _report(request, "refused", outcome("refuse_off_ref", **short))
                return notice("refuse_dropped", **refusal)
            if order.verdict == "stale" and recorded is not None:
                _report(request, "refused", outcome("refuse_stale", ref=ref))
                return notice("refuse_stale", **refusal, other=recorded.ref)
            if order.verdict == "unknown":
                _report(request, "refused", outcome("deploy_order_unknown", **short))
                raise StepError("deploy_order_unknown", sha=sha, deployed=refusal["deployed"], ref=ref, limit=limit)
            if order.verdict == "same" and recorded is not None and recorded.image == image:
                _report(request, "already-deployed", outcome("already_deployed", path=path))
                return notice("already_deployed", **facts)
            if order.verdict == "rewritten" and recorded is not None:
                log(notice("deploy_rewritten", sha=sha, deployed=recorded.sha, ref=ref, why=order.why))
            record = Deployed(source_repo, ref, sha, history.commit_time(sha), image)
            target.write_text(kustomization.render(text, kustomization.updated(data, name, repository, digest, record)),
                              encoding="utf-8")
            git.run(["add", "--", str(Path(path) / FILE)], "add")
            git.run(["commit", "-q", "-m", _message(request, sha, path, image)], "commit")
            before_push(attempt)
            pushed = git.run(["push", "--porcelain", "origin", "HEAD:refs/heads/" + branch], "push", check=False)
            if pushed.returncode == 0:
                _report(request, "deployed", outcome("deployed", path=path))
                return notice("deployed", **facts)
            report = pushed.stdout + "\n" + pushed.stderr
            if not _RACE.search(report) and not _TRANSIENT.search(report):
                raise StepError("push_rejected", branch=branch, detail=failure_detail(pushed))
            if attempt < attempts:
                delay = random.uniform(0.2, 1.0) * attempt  # jitter: racing runs spread out
                if _RACE.search(report):
                    log(notice("push_retry", branch=branch, attempt=attempt + 1, attempts=attempts))
                else:
                    log(notice("git_retry", action="push", detail=failure_detail(pushed), delay=round(delay, 1),
                               attempt=attempt + 1, attempts=attempts))
                sleep(delay)
    raise StepError("push_race_exhausted", branch=branch, attempts=attempts)
