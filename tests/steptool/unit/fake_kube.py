"""A small fake of the Kubernetes API for Argo Workflows objects, over real TLS.

It speaks the request and response shapes of kube-apiserver for the two calls `luban-step
supersede` makes: a namespaced list of ``workflows.argoproj.io`` with ``labelSelector``,
``fieldSelector``, ``limit`` and ``continue``, answering a ``WorkflowList``; and a JSON merge patch
(``application/merge-patch+json``, RFC 7386) of one Workflow, answering the patched object.
Refusals are ``Status`` objects with the API server's codes, reasons and messages: 401 for a wrong
bearer token, 403 for a verb the service account's Role lacks (the RBAC authorizer's wording),
404 for a missing object, 415 for a patch type a custom resource does not accept, 400 for an
unsupported field selector. ``script`` forces answers in order (server errors, retries).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from http_support import Server, tls_context

GROUP = "argoproj.io"
PREFIX = "/apis/argoproj.io/v1alpha1/namespaces/"
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI.

    Returns (ca.crt, server.crt, server.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = directory / "ca.key", directory / "ca.crt"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for argv in (
        ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=fake-kube-ca",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
         "-days", "2", "-extfile", ext],
    ):
        subprocess.run([str(a) for a in argv], check=True, capture_output=True)
    return ca_crt, crt, key


def status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


def merge_patch(target: object, patch: object) -> object:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _requirements(selector: str) -> list[tuple[str, str, str]]:
    """key=value, key==value, key!=value, key (exists), !key (absent), comma-separated (AND)."""
    found = []
    for part in filter(None, (p.strip() for p in selector.split(","))):
        match = re.fullmatch(r"([^=!\s]+)\s*(==|=|!=)\s*(\S*)", part)
        if match:
            key, op, value = match.groups()
            found.append((key, "!=" if op == "!=" else "=", value))
        elif part.startswith("!"):
            found.append((part[1:], "absent", ""))
        else:
            found.append((part, "exists", ""))
    return found


def _matches(values: dict[str, str], requirements: list[tuple[str, str, str]]) -> bool:
    for key, op, value in requirements:
        if op == "=" and values.get(key) != value:
            return False
        if op == "!=" and values.get(key) == value:
            return False
        if op == "exists" and key not in values:
            return False
        if op == "absent" and key in values:
            return False
    return True


@dataclass
class FakeKube:
    token: str
    namespace: str = "luban-ci"
    service_account: str = "luban-ci-supersede"
    verbs: frozenset[str] = frozenset({"list", "patch"})
    page_size: int = 500
    workflows: dict[str, dict] = field(default_factory=dict)
    script: list[tuple[int, dict]] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    port: int = 0
    resource_version: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        return "https://127.0.0.1:%d" % self.port

    def add(self, name: str, *, lane: str, created: str, phase: str = "Running", completed: bool = False,
            shutdown: str | None = None, revision: str = "0" * 40, annotations: dict | None = None) -> dict:
        self.resource_version += 1
        labels = {"luban.ci/lane": lane, "workflows.argoproj.io/phase": phase,
                  "app.kubernetes.io/part-of": "luban-ci"}
        if completed:
            labels["workflows.argoproj.io/completed"] = "true"
        spec: dict = {"workflowTemplateRef": {"name": "luban-ci"}, "arguments": {"parameters": [
            {"name": "revision", "value": revision}, {"name": "lane", "value": lane}]}}
        if shutdown:
            spec["shutdown"] = shutdown
        self.workflows[name] = {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": self.namespace, "uid": "uid-" + name,
                         "resourceVersion": str(self.resource_version), "generation": 1,
                         "creationTimestamp": created, "labels": labels,
                         **({"annotations": dict(annotations)} if annotations else {})},
            "spec": spec,
            "status": {"phase": phase, "startedAt": created},
        }
        return self.workflows[name]

    def _forbidden(self, verb: str, name: str | None = None) -> tuple[int, dict]:
        user = "system:serviceaccount:%s:%s" % (self.namespace, self.service_account)
        what = 'workflows.argoproj.io "%s"' % name if name else "workflows.argoproj.io"
        message = ('%s is forbidden: User "%s" cannot %s resource "workflows" in API group "argoproj.io" in the '
                   'namespace "%s"' % (what, user, verb, self.namespace))
        details = {"group": GROUP, "kind": "workflows"} | ({"name": name} if name else {})
        return 403, status(403, "Forbidden", message, details)

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, str]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append({"method": method, "path": parts.path, "query": query, "headers": headers,
                                  "body": body})
            if self.script:
                code, data = self.script.pop(0)
                return code, data, "application/json"
            if headers.get("authorization") != "Bearer " + self.token:
                return 401, status(401, "Unauthorized", "Unauthorized"), "application/json"
            match = re.fullmatch(re.escape(PREFIX) + r"([a-z0-9-]+)/workflows(?:/([^/]+))?", parts.path)
            if not match:
                return 404, status(404, "NotFound", "the server could not find the requested resource"), \
                    "application/json"
            namespace, name = match.group(1), unquote(match.group(2)) if match.group(2) else None
            if namespace != self.namespace:
                return (*self._forbidden("list" if name is None else method.lower(), name), "application/json")
            if method == "GET" and name is None:
                return (*self._list(query), "application/json")
            if method == "PATCH" and name is not None:
                return (*self._patch(name, headers.get("content-type", ""), body), "application/json")
            return 405, status(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                                                        "resource"), "application/json"

    def _list(self, query: dict[str, str]) -> tuple[int, dict]:
        if "list" not in self.verbs:
            return self._forbidden("list")
        fields = _requirements(query.get("fieldSelector", ""))
        for key, _op, _value in fields:
            if key not in ("metadata.name", "metadata.namespace"):
                return 400, status(400, "BadRequest",
                                   'Unable to find "argoproj.io/v1alpha1, Resource=workflows" that match label '
                                   'selector "", field selector "%s": field label not supported: %s'
                                   % (query["fieldSelector"], key))
        labels = _requirements(query.get("labelSelector", ""))
        selected = []
        for name in sorted(self.workflows):
            wf = self.workflows[name]
            if not _matches(wf["metadata"].get("labels", {}), labels):
                continue
            if not _matches({"metadata.name": name, "metadata.namespace": self.namespace}, fields):
                continue
            selected.append(wf)
        start = 0
        if query.get("continue"):
            after = base64.urlsafe_b64decode(query["continue"].encode()).decode()
            start = next((i for i, wf in enumerate(selected) if wf["metadata"]["name"] > after), len(selected))
        limit = int(query["limit"]) if query.get("limit") else len(selected) or 1
        page = selected[start:start + min(limit, self.page_size)]
        metadata: dict = {"resourceVersion": str(self.resource_version)}
        rest = len(selected) - start - len(page)
        if rest > 0:
            last = page[-1]["metadata"]["name"]
            metadata["continue"] = base64.urlsafe_b64encode(last.encode()).decode()
            metadata["remainingItemCount"] = rest
        return 200, {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowList", "metadata": metadata,
                     "items": copy.deepcopy(page)}

    def _patch(self, name: str, content_type: str, body: bytes) -> tuple[int, dict]:
        if "patch" not in self.verbs:
            return self._forbidden("patch", name)
        if content_type.split(";")[0].strip() not in PATCH_TYPES:
            return 415, status(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted media types include: "
                               + ", ".join(PATCH_TYPES))
        if name not in self.workflows:
            return 404, status(404, "NotFound", 'workflows.argoproj.io "%s" not found' % name,
                               {"name": name, "group": GROUP, "kind": "workflows"})
        if not content_type.startswith("application/merge-patch+json"):
            return 400, status(400, "BadRequest", "this fake applies merge patches only")
        try:
            patch = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            return 400, status(400, "BadRequest", "error decoding patch: %s" % exc)
        self.resource_version += 1
        patched = merge_patch(self.workflows[name], patch)
        patched["metadata"]["resourceVersion"] = str(self.resource_version)
        self.workflows[name] = patched
        return 200, copy.deepcopy(patched)


def start(fake: FakeKube, cert: Path, key: Path) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            code, data, content_type = fake.answer(self.command, self.path, headers, body)
            payload = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Audit-Id", "00000000-0000-4000-8000-000000000000")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve

    server = Server(("127.0.0.1", 0), Handler)
    server.tls = tls_context(cert, key)
    fake.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
