"""supersede: stop the lane's runs of commits this run's commit descends from, as `argo stop` does.

The Sensor labels every Workflow ``luban.ci/lane=<hash of repository and ref>``. This step lists
the lane's Workflows and decides, for each one created before this run, by the history of the
source repository (luban_step.history: ancestry, never commit dates or arrival order):

* its commit is this run's commit, and it is still running or it succeeded: this run is a
  duplicate (the same commit delivered again while its run is going or after it succeeded). It
  marks itself ``luban.ci/duplicate-of`` and writes ``duplicate`` to ``--outputs``/result: the
  workflow builds nothing and posts no commit status. A run that failed, erred or was stopped is
  no original: a redelivery of it runs again.
* its commit is an ancestor of this run's commit, and it is still running: it is stopped with
  ``spec.shutdown: Stop`` (a JSON merge patch, exactly what `argo stop` sends) and the annotations
  ``luban.ci/superseded-by`` (this run) and ``luban.ci/superseded-by-revision`` (this commit). Stop,
  not Terminate, so its exit handler still reports; the status step reads the annotations and
  posts ``pending`` with "superseded", never ``failure`` (docs/pipeline.md).
* anything else (a descendant delivered late, an unrelated commit, an order the history cannot
  give) is left alone: the lane's mutex serialises the runs and deploy never moves backwards.

A run created later than (or in the same second as) this one is never stopped. Of two runs of
the same commit created in the same second, the one whose name sorts first is the original. Listing needs
``list``, stopping and marking ``patch`` on workflows in the namespace (Role luban-ci-supersede).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from luban_step import validate
from luban_step._vendor.catalog import shown
from luban_step.credentials import git_auth
from luban_step.errors import StepError, notice
from luban_step.gitcmd import Git, git_env
from luban_step.history import DEFAULT_LIMIT, Order, SourceHistory
from luban_step.kubeapi import SERVICE_ACCOUNT_DIR, Client, in_cluster
from luban_step.outputs import write_outputs

LANE_LABEL = "luban.ci/lane"
COMPLETED_LABEL = "workflows.argoproj.io/completed"
SUPERSEDED_BY = "luban.ci/superseded-by"
SUPERSEDED_BY_REVISION = "luban.ci/superseded-by-revision"
DUPLICATE_OF = "luban.ci/duplicate-of"
FINISHED = frozenset({"Succeeded", "Failed", "Error"})
PAGE = 100
_WHY = {"backwards": "it descends from this commit",
        "dropped": "this commit is no longer on the ref (the run of what it holds now stops it)",
        "off-ref": "it is not in this commit's history",
        "unknown": "the histories do not meet within the history limit"}

Log = Callable[[str], None]
Ancestry = Callable[[str, str], Order]  # (this commit, their commit) -> where this commit stands


@dataclass(frozen=True)
class SupersedeRequest:
    lane: str
    workflow: str
    created: str
    revision: str
    ref: str
    source_url: str
    namespace: str | None = None
    service_account_dir: str = SERVICE_ACCOUNT_DIR
    source_credentials_dir: str | None = None
    git_host: str | None = None
    history_limit: int | str = DEFAULT_LIMIT
    outputs: str | None = None


@dataclass(frozen=True)
class Run:
    name: str
    created: datetime
    created_text: str
    revision: str | None
    phase: str
    finished: bool
    stopping: bool
    duplicate: bool


def _runs(items: object, url: str, lane: str, me: str) -> list[Run]:
    """The lane's other runs as the API lists them."""
    if not isinstance(items, list):
        raise StepError("kube_invalid_answer", url=url, reason="'items' is not a list")
    runs = []
    for item in items:
        metadata = item.get("metadata") if isinstance(item, dict) else None
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            raise StepError("kube_invalid_answer", url=url, reason="an item has no metadata.name")
        labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
        annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
        spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
        status = item.get("status") if isinstance(item.get("status"), dict) else {}
        # The server's selectors already did this; checked again so that a server ignoring a
        # selector can never make this step stop another lane's run, or itself.
        if metadata["name"] == me or labels.get(LANE_LABEL) != lane:
            continue
        text = metadata.get("creationTimestamp")
        try:
            created = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            created = None
        if created is None or created.tzinfo is None:
            raise StepError("kube_invalid_answer", url=url,
                            reason="%s has no creationTimestamp" % shown(metadata["name"]))
        arguments = spec.get("arguments") if isinstance(spec.get("arguments"), dict) else {}
        parameters = arguments.get("parameters") if isinstance(arguments.get("parameters"), list) else []
        revision = next((p.get("value") for p in parameters
                         if isinstance(p, dict) and p.get("name") == "revision"), None)
        phase = status.get("phase") if isinstance(status.get("phase"), str) else ""
        runs.append(Run(
            metadata["name"], created, text,
            revision.lower() if isinstance(revision, str) and validate.is_sha(revision) else None,
            phase, labels.get(COMPLETED_LABEL) == "true" or phase in FINISHED, bool(spec.get("shutdown")),
            DUPLICATE_OF in annotations))
    return runs


def _source_ancestry(request: SupersedeRequest, scratch: Path, ref: str, log: Log) -> Ancestry:
    """Ancestry in the source repository, fetched on first use (no older run, no fetch)."""
    host = validate.git_host(request.git_host, "--git-host") if request.git_host else None
    url = validate.git_url(request.source_url, "--source-url", host)
    limit = validate.history_limit(request.history_limit, "--history-limit")
    state: dict[str, SourceHistory] = {}

    def ancestry(mine: str, theirs: str) -> Order:
        if "history" not in state:
            # exist_ok: a first attempt may have failed after making them (credentials refused).
            (scratch / "source").mkdir(exist_ok=True)
            (scratch / "auth").mkdir(exist_ok=True)
            auth = git_auth(url, request.source_credentials_dir, scratch / "auth")
            state["history"] = SourceHistory(Git(scratch / "source", git_env(auth.env, url.scheme),
                                                 auth.check_refused),
                                             url.url, ref if ref.startswith("refs/") else "refs/heads/" + ref,
                                             limit, log=log)
        return state["history"].order(mine, theirs)

    return ancestry


def supersede(request: SupersedeRequest, *, env: Mapping[str, str] | None = None, log: Log = lambda line: None,
              ancestry: Ancestry | None = None, **client_options: object) -> str:
    lane = validate.lane(request.lane, "--lane")
    me = validate.kube_name(request.workflow, "--workflow")
    mine = validate.created(request.created, "--workflow-created")
    revision = validate.sha(request.revision, "--revision")
    ref = validate.ref_name(request.ref, "--ref")
    if request.namespace is not None:
        validate.kube_name(request.namespace, "--namespace", label=True)
    with tempfile.TemporaryDirectory(prefix="luban-step-") as scratch:
        order = ancestry or _source_ancestry(request, Path(scratch), ref, log)
        cluster = in_cluster(os.environ if env is None else env, request.service_account_dir, request.namespace)
        client = Client(cluster, log=log, **client_options)  # type: ignore[arg-type]
        path = "/apis/argoproj.io/v1alpha1/namespaces/%s/workflows" % quote(cluster.namespace, safe="")
        query = {"labelSelector": "%s=%s" % (LANE_LABEL, lane), "fieldSelector": "metadata.name!=" + me,
                 "limit": str(PAGE)}
        runs: list[Run] = []
        while True:
            url = client.url(path)
            _code, data = client.call("GET", path, verb="list", query=query)
            if not isinstance(data, dict):
                raise StepError("kube_invalid_answer", url=url, reason="the answer is not a JSON object")
            runs += _runs(data.get("items"), url, lane, me)
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            token = metadata.get("continue")
            if not token or not isinstance(token, str):
                break
            query = {**query, "continue": token}
        older = sorted((r for r in runs if r.created < mine), key=lambda r: (r.created, r.name))
        # Creation times have whole seconds. Two runs of one commit created in the same second see
        # each other; the one whose name sorts first is the original, so exactly one of them builds.
        first = sorted((r for r in runs if (r.created, r.name) < (mine, me)), key=lambda r: (r.created, r.name))

        # The same commit, still running or built: this delivery adds nothing.
        original = next((r for r in first if r.revision == revision and not r.duplicate
                         and ((not r.finished and not r.stopping) or r.phase == "Succeeded")), None)
        if original is not None:
            client.call("PATCH", "%s/%s" % (path, quote(me, safe="")), verb="patch",
                        body={"metadata": {"annotations": {DUPLICATE_OF: original.name}}},
                        content_type="application/merge-patch+json")
            if request.outputs:
                write_outputs(request.outputs, {"result": "duplicate"})
            return notice("duplicate_run", sha=revision, name=original.name, phase=original.phase or "Pending")

        stopped = 0
        patch = {"metadata": {"annotations": {SUPERSEDED_BY: me, SUPERSEDED_BY_REVISION: revision}},
                 "spec": {"shutdown": "Stop"}}
        for run in older:
            if run.finished or run.stopping or run.revision is None or run.revision == revision:
                continue
            try:
                verdict = order(revision, run.revision)
            except StepError as exc:  # the history could not be read: stopping nothing is safe
                log(notice("not_superseding", name=run.name, theirs=run.revision, sha=revision,
                           why="its history could not be read: " + exc.message))
                continue
            # forward: theirs is in this commit's history. rewritten: the ref was force-pushed, holds
            # this commit and no longer theirs, which would otherwise still build and deploy.
            if verdict.verdict not in ("forward", "rewritten"):
                log(notice("not_superseding", name=run.name, theirs=run.revision, sha=revision,
                           why=_WHY.get(verdict.verdict, _WHY["unknown"])))
                continue
            log(notice("stopping", name=run.name, lane=lane, created=run.created_text, workflow=me))
            code, _data = client.call("PATCH", "%s/%s" % (path, quote(run.name, safe="")), verb="patch",
                                      body=patch, content_type="application/merge-patch+json")
            if code != 404:  # a run that finished and was removed meanwhile needs no stop
                stopped += 1
    if request.outputs:
        write_outputs(request.outputs, {"result": "run"})
    if stopped:
        return notice("superseded", count=stopped, lane=lane)
    return notice("nothing_to_supersede", lane=lane)
