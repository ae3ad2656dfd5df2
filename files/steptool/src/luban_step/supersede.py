"""supersede: stop the older running Workflows of this run's lane, as `argo stop` does.

The Sensor labels every Workflow ``luban.ci/lane=<hash of repository and ref>``. This step lists
the lane's Workflows that Argo has not marked completed and sets ``spec.shutdown: Stop`` (a JSON
merge patch, exactly what `argo stop` sends) on each one created before this run: Stop, not
Terminate, so the stopped run's exit handler still reports its commit status. A run created
later than (or in the same second as) this one is never stopped; the lane's mutex serialises
them and deploy never moves a deployment backwards. The patch also records who stopped the run
in the annotation ``luban.ci/superseded-by``.

It needs exactly ``list`` and ``patch`` on workflows in its namespace (Role luban-ci-supersede).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from luban_step import validate
from luban_step.errors import StepError, notice, shown
from luban_step.kubeapi import SERVICE_ACCOUNT_DIR, Client, in_cluster

LANE_LABEL = "luban.ci/lane"
COMPLETED_LABEL = "workflows.argoproj.io/completed"
SUPERSEDED_BY = "luban.ci/superseded-by"
FINISHED = frozenset({"Succeeded", "Failed", "Error"})
PAGE = 100

Log = Callable[[str], None]


@dataclass(frozen=True)
class SupersedeRequest:
    lane: str
    workflow: str
    created: str
    namespace: str | None = None
    service_account_dir: str = SERVICE_ACCOUNT_DIR


@dataclass(frozen=True)
class Run:
    name: str
    created: datetime
    created_text: str


def _older_runs(items: object, url: str, lane: str, me: str, mine: datetime) -> list[Run]:
    """The items worth stopping: same lane, unfinished, not yet stopping, created before ``mine``."""
    if not isinstance(items, list):
        raise StepError("kube-invalid-answer", url=url, reason="'items' is not a list")
    runs = []
    for item in items:
        metadata = item.get("metadata") if isinstance(item, dict) else None
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            raise StepError("kube-invalid-answer", url=url, reason="an item has no metadata.name")
        labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
        spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
        status = item.get("status") if isinstance(item.get("status"), dict) else {}
        # The server's selectors already did this; checked again so that a server ignoring a
        # selector can never make this step stop a finished run, another lane's, or itself.
        if (metadata["name"] == me or labels.get(LANE_LABEL) != lane or labels.get(COMPLETED_LABEL) == "true"
                or status.get("phase") in FINISHED or spec.get("shutdown")):
            continue
        text = metadata.get("creationTimestamp")
        try:
            created = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            created = None
        if created is None or created.tzinfo is None:
            raise StepError("kube-invalid-answer", url=url,
                            reason="%s has no creationTimestamp" % shown(metadata["name"]))
        if created < mine:
            runs.append(Run(metadata["name"], created, text))
    return runs


def supersede(request: SupersedeRequest, *, env: Mapping[str, str] | None = None, log: Log = lambda line: None,
              **client_options: object) -> str:
    lane = validate.lane(request.lane, "--lane")
    me = validate.kube_name(request.workflow, "--workflow")
    mine = validate.created(request.created, "--workflow-created")
    if request.namespace is not None:
        validate.kube_name(request.namespace, "--namespace", label=True)
    cluster = in_cluster(os.environ if env is None else env, request.service_account_dir, request.namespace)
    client = Client(cluster, log=log, **client_options)  # type: ignore[arg-type]
    path = "/apis/argoproj.io/v1alpha1/namespaces/%s/workflows" % quote(cluster.namespace, safe="")
    query = {
        "labelSelector": "%s=%s,%s!=true" % (LANE_LABEL, lane, COMPLETED_LABEL),
        "fieldSelector": "metadata.name!=" + me,
        "limit": str(PAGE),
    }
    older: list[Run] = []
    while True:
        url = client.url(path)
        _code, data = client.call("GET", path, verb="list", query=query)
        if not isinstance(data, dict):
            raise StepError("kube-invalid-answer", url=url, reason="the answer is not a JSON object")
        older += _older_runs(data.get("items"), url, lane, me, mine)
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        token = metadata.get("continue")
        if not token or not isinstance(token, str):
            break
        query = {**query, "continue": token}
    stopped = 0
    patch = {"metadata": {"annotations": {SUPERSEDED_BY: me}}, "spec": {"shutdown": "Stop"}}
    for run in sorted(older, key=lambda r: (r.created, r.name)):
        log(notice("stopping", name=run.name, lane=lane, created=run.created_text, workflow=me))
        code, _data = client.call("PATCH", "%s/%s" % (path, quote(run.name, safe="")), verb="patch", body=patch,
                                  content_type="application/merge-patch+json")
        if code != 404:  # a run that finished and was removed meanwhile needs no stop
            stopped += 1
    if stopped:
        return notice("superseded", count=stopped, lane=lane)
    return notice("nothing-to-supersede", lane=lane)
