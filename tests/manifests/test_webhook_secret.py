"""The argo_events role refuses to install an EventSource whose webhook secret is missing or empty:
at apply time it looks the Secret up in the cluster (kubernetes.core.k8s_info) and stops with its
catalog message before anything is applied. The cluster here is a small fake Kubernetes API
(discovery and Secrets, plain HTTP on 127.0.0.1) that records every request, so the test also sees
that nothing was written."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from conftest import REPO

NAMESPACE = "luban-ci"
MESSAGES = yaml.safe_load((REPO / "roles" / "argo_events" / "vars" / "main.yml").read_text())["argo_events_messages"]


class FakeKube:
    """Discovery for core/v1 Secrets, GET of Secrets by name, 404 (or 403) for the rest."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.requests: list[tuple[str, str]] = []
        self.forbidden = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                                  "message": message, "code": code})

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                fake.requests.append(("GET", path))
                if path == "/version":
                    return self._send(200, {"major": "1", "minor": "34", "gitVersion": "v1.34.4"})
                if path == "/api":
                    return self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                                            "serverAddressByClientCIDRs": []})
                if path == "/apis":
                    return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
                if path == "/api/v1":
                    return self._send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                        {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
                         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]})
                parts = path.strip("/").split("/")
                if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "secrets":
                    if fake.forbidden:
                        return self._status(403, "Forbidden", 'secrets "%s" is forbidden: User "ci" cannot get '
                                            'resource "secrets" in the namespace "%s"' % (parts[5], parts[3]))
                    data = fake.secrets.get((parts[3], parts[5]))
                    if data is None:
                        return self._status(404, "NotFound", 'secrets "%s" not found' % parts[5])
                    return self._send(200, {"kind": "Secret", "apiVersion": "v1", "type": "Opaque",
                                            "metadata": {"name": parts[5], "namespace": parts[3]},
                                            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}})
                return self._status(404, "NotFound", "the server could not find the requested resource")

            def _write(self) -> None:
                fake.requests.append((self.command, self.path.split("?")[0]))
                self._status(405, "MethodNotAllowed", "this fake API is read-only")

            do_POST = do_PUT = do_PATCH = do_DELETE = _write

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def kubeconfig(self, directory: Path) -> Path:
        path = directory / "kubeconfig"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}))
        return path

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]


@pytest.fixture()
def kube() -> Iterator[FakeKube]:
    fake = FakeKube()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _playbook(tmp_path: Path, tasks: list[dict[str, Any]]) -> Path:
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([{"name": "webhook secret check", "hosts": "localhost", "gather_facts": False,
                                     "tasks": tasks}]))
    return path


def _run(tmp_path: Path, kube: FakeKube, tasks: list[dict[str, Any]], extra: dict[str, Any] | None = None
         ) -> subprocess.CompletedProcess[str]:
    extra_vars = {
        # the modules run with this interpreter, which has the kubernetes client
        "ansible_python_interpreter": sys.executable,
        "argo_events_kubeconfig": str(kube.kubeconfig(tmp_path)),
        "argo_events_namespace": NAMESPACE,
        "argo_events_manifest_dir": str(tmp_path / "manifests"),
        "argo_events_github_repositories": [{"owner": "example", "names": ["example-python"]}],
        **(extra or {}),
    }
    return subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(_playbook(tmp_path, tasks)),
         "-e", json.dumps(extra_vars)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


CHECK_ONLY = [{"name": "check", "ansible.builtin.include_role": {"name": "luban.ci.argo_events",
                                                                 "tasks_from": "webhook_secret.yml"}}]
WHOLE_ROLE = [{"name": "install", "ansible.builtin.include_role": {"name": "luban.ci.argo_events"}}]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _expected(key: str, **extra: str) -> str:
    return MESSAGES[key].format(namespace=NAMESPACE, name="luban-github-webhook", key="secret", **extra)


def test_the_role_installs_nothing_when_the_webhook_secret_does_not_exist(tmp_path: Path, kube: FakeKube) -> None:
    result = _run(tmp_path, kube, WHOLE_ROLE, {"argo_events_apply": True})
    assert result.returncode != 0
    assert _flat(_expected("webhook_secret_missing")) in _flat(result.stdout), result.stdout[-3000:]
    assert ("GET", "/api/v1/namespaces/luban-ci/secrets/luban-github-webhook") in kube.requests
    assert kube.writes() == []  # no EventSource, no EventBus, nothing applied
    assert (tmp_path / "manifests" / "30-eventsource-github.yaml").is_file()  # rendering still works


@pytest.mark.parametrize("value", ["", "   \n"])
def test_an_empty_webhook_secret_is_refused(tmp_path: Path, kube: FakeKube, value: str) -> None:
    kube.secrets[(NAMESPACE, "luban-github-webhook")] = {"secret": value}
    result = _run(tmp_path, kube, WHOLE_ROLE, {"argo_events_apply": True})
    assert result.returncode != 0
    assert _flat(_expected("webhook_secret_empty")) in _flat(result.stdout), result.stdout[-3000:]
    assert kube.writes() == []


def test_a_webhook_secret_without_the_configured_key_is_refused(tmp_path: Path, kube: FakeKube) -> None:
    kube.secrets[(NAMESPACE, "luban-github-webhook")] = {"token": "d6f0c1..."}
    result = _run(tmp_path, kube, CHECK_ONLY)
    assert result.returncode != 0
    assert _flat(_expected("webhook_secret_key_missing")) in _flat(result.stdout), result.stdout[-3000:]


def test_a_set_webhook_secret_passes_and_is_never_shown(tmp_path: Path, kube: FakeKube) -> None:
    secret = "9b1e4d0c5a7f3e2b8c6d4a1f0e9b7c5d"
    kube.secrets[(NAMESPACE, "luban-github-webhook")] = {"secret": secret}
    result = _run(tmp_path, kube, CHECK_ONLY)
    assert result.returncode == 0, result.stdout[-3000:]
    assert secret not in result.stdout + result.stderr
    assert base64.b64encode(secret.encode()).decode() not in result.stdout + result.stderr


def test_a_lookup_the_cluster_refuses_says_why(tmp_path: Path, kube: FakeKube) -> None:
    kube.forbidden = True
    result = _run(tmp_path, kube, CHECK_ONLY)
    assert result.returncode != 0
    head = _flat(MESSAGES["webhook_secret_lookup_failed"].split("{reason}")[0].format(
        namespace=NAMESPACE, name="luban-github-webhook"))
    tail = _flat(MESSAGES["webhook_secret_lookup_failed"].split("{reason}")[1].format(namespace=NAMESPACE))
    out = _flat(result.stdout)
    assert head in out and tail in out, result.stdout[-3000:]
    assert "Forbidden" in out.split(head, 1)[1].split(tail, 1)[0]


def test_every_message_of_the_check_is_in_the_catalog() -> None:
    tasks = (REPO / "roles" / "argo_events" / "tasks" / "webhook_secret.yml").read_text()
    used = {key for key in MESSAGES if key.startswith("webhook_secret_")}
    assert used == {"webhook_secret_missing", "webhook_secret_key_missing", "webhook_secret_empty",
                    "webhook_secret_lookup_failed"}
    for key in used:
        assert "'%s'" % key in tasks, key
