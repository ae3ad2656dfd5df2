"""The install path docs/install-orbstack.md describes works as written: every object Argo CD syncs
is admitted by the AppProject of the Application that syncs it, and the docs name the GitOps paths
the pipeline writes."""

from __future__ import annotations

import json
import re

from conftest import REPO, Doc, by_kind, one

CLUSTER_SCOPED = {"Namespace"}


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def _admits(project: dict, server: str, namespace: str) -> bool:
    return any(d["server"] == server and d["namespace"] in (namespace, "*") for d in project["destinations"])


def _kind_allowed(project: dict, doc: Doc) -> bool:
    group = _group(doc.body["apiVersion"])
    if doc.kind in CLUSTER_SCOPED:
        return {"group": group, "kind": doc.kind} in project.get("clusterResourceWhitelist", [])
    listed = project.get("namespaceResourceWhitelist")
    return listed is None or {"group": group, "kind": doc.kind} in listed


def test_every_object_the_luban_ci_application_syncs_is_admitted_by_its_project(docs: list[Doc]) -> None:
    # The install doc's GitOps path: the rendered manifests (this tier's input) are committed to
    # argocd_apps_luban_path and the `luban-ci` Application syncs them all, its own AppProjects and
    # Applications in Argo CD's namespace included.
    app = one(docs, "Application", "luban-ci").body["spec"]
    project = one(docs, "AppProject", app["project"]).body["spec"]
    assert app["source"]["repoURL"] in project["sourceRepos"]
    server = app["destination"]["server"]
    refused = []
    for doc in docs:
        namespace = doc.body["metadata"].get("namespace", app["destination"]["namespace"])
        if doc.kind not in CLUSTER_SCOPED and not _admits(project, server, namespace):
            refused.append("%s/%s: namespace %s is not a destination" % (doc.kind, doc.name, namespace))
        if not _kind_allowed(project, doc):
            refused.append("%s/%s: kind not whitelisted" % (doc.kind, doc.name))
    assert refused == []


def test_apps_are_admitted_where_they_deploy_and_never_reach_argo_cd_or_luban_ci(docs: list[Doc]) -> None:
    install = one(docs, "Application", "luban-ci").body["spec"]["project"]
    apps = [a for a in by_kind(docs, "Application") if a.name != "luban-ci"]
    assert apps
    for app in apps:
        spec = app.body["spec"]
        assert spec["project"] != install, app.name
        project = one(docs, "AppProject", spec["project"]).body["spec"]
        assert spec["source"]["repoURL"] in project["sourceRepos"], app.name
        assert _admits(project, spec["destination"]["server"], spec["destination"]["namespace"]), app.name
        argocd = app.body["metadata"]["namespace"]
        for forbidden in (argocd, one(docs, "Application", "luban-ci").body["spec"]["destination"]["namespace"]):
            assert not _admits(project, spec["destination"]["server"], forbidden), (app.name, forbidden)
    # Both projects may create Namespaces (CreateNamespace=true) and no other cluster-scoped kind.
    for project in by_kind(docs, "AppProject"):
        assert project.body["spec"]["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]


def test_the_install_project_lists_exactly_the_kinds_the_roles_render(docs: list[Doc]) -> None:
    project = one(docs, "AppProject", one(docs, "Application", "luban-ci").body["spec"]["project"]).body["spec"]
    rendered = {json.dumps({"group": _group(d.body["apiVersion"]), "kind": d.kind}) for d in docs
                if d.kind not in CLUSTER_SCOPED}
    assert rendered == {json.dumps(k) for k in project["namespaceResourceWhitelist"]}


def test_the_docs_name_the_gitops_path_the_pipeline_writes(docs: list[Doc]) -> None:
    # The Sensor writes apps/<owner>-<name> (test_webhooks proves the value); the docs must say so.
    sensor = json.dumps(one(docs, "Sensor", "github").body)
    assert "(lower .Input.body.repository.full_name)" in sensor
    texts = {p: (REPO / p).read_text(encoding="utf-8") for p in
             ("docs/install-orbstack.md", "docs/pipeline.md", "README.md", "roles/argocd_apps/README.md")}
    for path, text in texts.items():
        assert not re.search(r"apps/<(repo|name|app)>", text), path
    assert "`apps/<owner>-<name>/kustomization.yaml`" in texts["docs/install-orbstack.md"]
    example = one(docs, "Application", "example-python").body["spec"]["source"]["path"]
    assert example == "apps/example-example-python"


def test_the_secrets_guide_creates_the_gitops_credential_the_inventory_url_needs() -> None:
    # deploy refuses a credential that does not match its URL's transport (credentials_mismatch):
    # an https GitOps URL needs `token`, an ssh one `ssh-privatekey` (+ known_hosts).
    import yaml

    pipeline = yaml.safe_load((REPO / "inventories/orbstack/group_vars/all/pipeline.yml").read_text())
    url = pipeline["argo_workflows_gitops_repo"]
    guide = (REPO / "docs/secrets.md").read_text(encoding="utf-8")
    commands = [line for line in guide.splitlines()
                if line.startswith("kubectl") and "luban-gitops-credentials" in line]
    assert len(commands) == 1, commands
    key = "token" if url.startswith("https://") else "ssh-privatekey"
    assert "--from-file=%s=" % key in commands[0], (url, commands[0])


def test_the_install_guide_names_workflows_as_the_sensor_does(docs: list[Doc]) -> None:
    sensor = json.dumps(one(docs, "Sensor", "github").body)
    assert ".Input.id" in sensor  # the name ends with the event id (tests/manifests/test_webhooks.py)
    guide = (REPO / "docs/install-orbstack.md").read_text(encoding="utf-8")
    assert "`ci-<repo>-<hash>-<sha12>-push-<event id>`" in guide


def test_one_application_per_app_each_admitted_where_it_deploys(tmp_path) -> None:
    # The install table promises an Application per app: argocd_apps_apps renders one each, at the
    # path the pipeline writes for the repository, in a namespace the apps project admits.
    from conftest import load_docs, render

    apps = [{"name": "shop", "path": "apps/example-shop", "namespace": "shop"},
            {"name": "billing", "path": "apps/example-billing", "namespace": "billing"}]
    rendered = load_docs(render(tmp_path, {"argocd_apps_apps": apps}))
    found = {a.name: a.body["spec"] for a in by_kind(rendered, "Application") if a.name != "luban-ci"}
    assert set(found) == {"example-python", "shop", "billing"}
    for app in apps:
        spec = found[app["name"]]
        assert (spec["source"]["path"], spec["destination"]["namespace"]) == (app["path"], app["namespace"])
        project = one(rendered, "AppProject", spec["project"]).body["spec"]
        assert _admits(project, spec["destination"]["server"], app["namespace"]), app
