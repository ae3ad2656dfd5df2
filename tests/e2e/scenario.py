"""Scenario 1 as one function, for the tests and for ``make e2e APP=DIR``: push an app to the host
git server, deliver the signed push, and follow it to a pod answering HTTP."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import e2e_lib as e2e


@dataclass
class Env:
    kube: e2e.Kube
    services: dict[str, str]
    git: e2e.GitServer
    webhook: e2e.Webhook
    secret: str
    work: Path

    @classmethod
    def open(cls, work: Path) -> "Env":
        kube = e2e.Kube(e2e.kubectl_path())
        if not kube.answers():
            raise e2e.E2EError("the test cluster does not answer at %s: run make cluster" % kube.kubeconfig)
        services = e2e.services_env()
        secret = (Path(services["E2E_SECRETS"]) / "webhook-secret").read_text().strip()
        env = cls(kube, services, e2e.GitServer(services), e2e.Webhook(kube), secret, work)
        env.webhook.start()
        return env

    def close(self) -> None:
        self.webhook.stop()


def ensure_application(env: Env, app: str) -> None:
    """The Argo CD Application following apps/e2e-<app> (as an operator adds one per app)."""
    name = "e2e-" + app
    env.kube.run("apply", "-f", "-", input=json.dumps({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "labels": {"app.kubernetes.io/part-of": "luban-ci"}},
        "spec": {
            "project": "luban-ci",
            "source": {"repoURL": env.git.clone_url(e2e.GITOPS), "targetRevision": "main", "path": "apps/" + name},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"],
                           "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}},
        }}))


def ensure_gitops(env: Env, app: str) -> str:
    """The GitOps repository holds apps/e2e-<app> (created once, never reset: the pipeline owns
    its image pins from then on). Returns the branch tip."""
    files = e2e.gitops_files(app)
    work = env.git.work_copy(e2e.GITOPS, env.work / "gitops")
    missing = {k: v for k, v in files.items() if not (work.path / k).exists()}
    if missing or not env.git.tip(e2e.GITOPS):
        work.write(missing)
        work.commit("Add apps/e2e-%s" % app)
        work.push()
    return env.git.tip(e2e.GITOPS)


def source_tree(app_dir: Path) -> Path:
    """A git repository's committed files at HEAD, or a plain folder as it is."""
    if (app_dir / ".git").exists():
        out = Path(tempfile.mkdtemp(prefix="e2e-src-"))
        archive = subprocess.run(["git", "-C", str(app_dir), "archive", "HEAD"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
        return out
    return app_dir


@dataclass
class Push:
    full_name: str
    sha: str
    ref: str
    delivery: e2e.Delivery
    head: dict[str, str]


def push_app(env: Env, app: str, files: dict[str, str] | None = None, tree: Path | None = None,
             message: str = "e2e change", branch: str = "main") -> tuple[e2e.WorkCopy, Push]:
    full_name = "%s/%s" % (e2e.OWNER, app)
    work = env.git.work_copy(full_name, env.work / ("src-" + app))
    if tree is not None:
        work.copy_tree(tree)
    if files:
        work.write(files)
    work.commit(message)
    before = work.push(branch)
    head = work.head()
    payload = e2e.push_payload(env.git, full_name, "refs/heads/" + branch, before, head)
    d = env.webhook.post(e2e.delivery("push", payload, env.secret))
    if d.status != 200:
        raise e2e.E2EError("the EventSource answered %s to a signed push: %s" % (d.status, d.answer))
    return work, Push(full_name, head["sha"], "refs/heads/" + branch, d, head)


def find_workflow(env: Env, sha: str, kind: str = "push", timeout: float = 60) -> dict:
    found = e2e.wait("the Workflow of %s" % sha[:12], lambda: e2e.workflows_for(env.kube, sha, kind), timeout, 1)
    if len(found) != 1:
        raise e2e.E2EError("expected one Workflow for %s, found %s" % (sha[:12], [w["metadata"]["name"] for w in found]))
    return found[0]


def output_parameter(wf: dict, step: str, name: str) -> str:
    for node in wf["status"]["nodes"].values():
        if node.get("displayName") == step:
            for param in node.get("outputs", {}).get("parameters", []):
                if param["name"] == name:
                    return param["value"]
    raise e2e.E2EError("workflow %s has no output %s of step %s" % (wf["metadata"]["name"], name, step))


def gitops_commit_for(env: Env, sha: str) -> dict | None:
    for entry in env.git.log(e2e.GITOPS):
        if sha[:12] in entry["subject"]:
            return entry
    return None


@dataclass
class Result:
    workflow: str = ""
    phase: str = ""
    image: str = ""
    gitops_commit: str = ""
    statuses: list[dict] = field(default_factory=list)
    answer: dict = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    logs: str = ""


def deploy(env: Env, app: str, tree: Path | None = None, files: dict[str, str] | None = None,
           message: str = "e2e change", expect: str = "Succeeded") -> tuple[Push, Result]:
    """Push, deliver and follow one commit to the end; ``expect`` is the Workflow phase wanted."""
    timer = e2e.Timer()
    ensure_gitops(env, app)
    ensure_application(env, app)
    _work, push = push_app(env, app, files=files, tree=tree, message=message)
    timer.start = push.delivery.sent_at
    result = Result()
    wf = find_workflow(env, push.sha)
    result.workflow = wf["metadata"]["name"]
    timer.mark("workflow_created")
    collector = e2e.LogCollector(env.kube, result.workflow)
    try:
        wf = e2e.wait_workflow_done(env.kube, result.workflow)
    finally:
        result.logs = collector.stop()
    timer.mark("workflow_finished")
    result.phase = wf["status"]["phase"]
    result.steps = e2e.stage_times(wf)
    if result.phase != expect:
        result.statuses = e2e.statuses(env.services, push.full_name, push.sha)
        result.stages = timer.marks
        return push, result
    if expect == "Succeeded":
        result.image = output_parameter(wf, "digest", "image")
        commit = e2e.wait("the GitOps commit of %s" % push.sha[:12], lambda: gitops_commit_for(env, push.sha), 30, 1)
        result.gitops_commit = commit["sha"]
        e2e.wait_synced_healthy(env.kube, "e2e-" + app, result.gitops_commit)
        timer.mark("argocd_synced_healthy")
        result.answer = e2e.app_answer(env.kube, "e2e-" + app, result.image)
        timer.mark("app_answered")
        result.latency = latency(wf, push.delivery.sent_at, timer.start + timer.marks["app_answered"])
    result.statuses = e2e.wait("the final commit status", lambda: _final(env, push), 60, 1)
    result.stages = timer.marks
    return push, result


def latency(wf: dict, delivered: float, answered: float) -> dict[str, float]:
    """Webhook to answering pod, split the way the bench reports it (seconds, 1 s resolution
    where Kubernetes timestamps are involved)."""
    created = e2e.timestamp(wf["metadata"]["creationTimestamp"])
    steps = {}
    for node in wf["status"]["nodes"].values():
        if node.get("type") == "Pod" and node.get("finishedAt"):
            name = node.get("displayName", "").split("(")[0]
            steps.setdefault(name, (e2e.timestamp(node["startedAt"]), e2e.timestamp(node["finishedAt"])))
    first_start = min(start for start, _end in steps.values())
    deploy_end = steps.get("deploy", (0.0, e2e.timestamp(wf["status"]["finishedAt"])))[1]
    split = {"sensor": created - delivered, "scheduling": first_start - created}
    for name in ("supersede", "checkout", "detect", "build", "digest", "deploy"):
        if name in steps:
            split[name] = steps[name][1] - steps[name][0]
    split["argocd_sync_and_rollout"] = answered - deploy_end
    split["total"] = answered - delivered
    return {k: round(max(v, 0.0), 1) for k, v in split.items()}  # 1 s timestamps can make a tiny stage negative


def _final(env: Env, push: Push) -> list[dict] | None:
    seen = e2e.statuses(env.services, push.full_name, push.sha)
    return seen if any(s["state"] != "pending" for s in seen) else None


def record(path: Path, push: Push, result: Result) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "repository": push.full_name, "commit": push.sha, "delivery": push.delivery.delivery_id,
        "workflow": result.workflow, "phase": result.phase, "image": result.image,
        "gitops_commit": result.gitops_commit,
        "statuses": [{k: v for k, v in s.items() if k != "authorization"} for s in result.statuses],
        "answer": result.answer, "stages_seconds_since_delivery": result.stages,
        "step_seconds": result.steps, "latency_seconds": result.latency, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=1) + "\n")
