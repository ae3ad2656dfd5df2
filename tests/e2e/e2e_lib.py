"""The end-to-end tier's parts: the host git server, signed GitHub deliveries to the EventSource,
and reading back what the pipeline did (Workflows, GitOps commits, statuses, Argo CD, the app).

Used by the pytest scenarios (tests/e2e/test_*.py) and by ``make e2e APP=DIR`` (run_app.py).
Everything here talks to the real cluster and the real host services; nothing is simulated.
"""

from __future__ import annotations

import calendar
import copy
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "github"
KUBECONFIG = os.environ.get("LUBAN_E2E_KUBECONFIG", "/var/lib/luban-cluster/admin.kubeconfig")
NAMESPACE = "luban-ci"
OWNER = "e2e"
GITOPS = "e2e/gitops"
EVENTSOURCE_SVC = "github-eventsource-svc"
WEBHOOK_PORT = 12000
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
           "GIT_AUTHOR_NAME": "e2e dev", "GIT_AUTHOR_EMAIL": "dev@e2e.test",
           "GIT_COMMITTER_NAME": "e2e dev", "GIT_COMMITTER_EMAIL": "dev@e2e.test", "LC_ALL": "C"}


class E2EError(AssertionError):
    """A real outcome differed from what the scenario expects (with what was seen)."""


def services_env() -> dict[str, str]:
    path = subprocess.run([str(ROOT / "scripts/cluster/services.sh"), "credentials"], capture_output=True,
                          text=True, check=True).stdout.strip()
    env = {}
    for line in Path(path).read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.startswith("E2E_"):
            env[name] = value
    return env


def kubectl_path() -> str:
    tool = subprocess.run([str(ROOT / "scripts/gotool.sh"), "kubernetes"], capture_output=True, text=True, check=True)
    return str(Path(tool.stdout.strip()) / "bin" / "kubectl")


@dataclass
class Kube:
    kubectl: str
    kubeconfig: str = KUBECONFIG

    def run(self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120) -> str:
        done = subprocess.run([self.kubectl, "--kubeconfig", self.kubeconfig, *args], capture_output=True,
                              text=True, input=input, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise E2EError("kubectl %s failed: %s" % (" ".join(args), done.stderr.strip()))
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json"))

    def answers(self) -> bool:
        try:
            self.run("get", "--raw", "/readyz", timeout=10)
            return True
        except (E2EError, subprocess.TimeoutExpired):
            return False


def wait(what: str, probe, timeout: float, interval: float = 2.0):
    """Poll ``probe()`` until it returns something truthy; raise with the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise E2EError("timed out after %ds waiting for %s (last seen: %r)" % (timeout, what, last))
        time.sleep(interval)


# ---------------------------------------------------------------- git server (host side)

@dataclass
class GitServer:
    """The host git server's repositories, written through its own HTTPS endpoint with the write
    token (as a developer's push would be), never by touching the bare repositories."""

    env: dict[str, str]

    @property
    def root(self) -> Path:
        return Path(self.env["E2E_GIT_ROOT"])

    def clone_url(self, full_name: str) -> str:
        return "%s/%s.git" % (self.env["E2E_GIT_HTTPS"], full_name)

    def ensure_repo(self, full_name: str) -> None:
        bare = self.root / (full_name + ".git")
        if not bare.exists():
            bare.parent.mkdir(parents=True, exist_ok=True)
            _git(self.root, "init", "-q", "--bare", "-b", "main", str(bare))

    def git_env(self) -> dict[str, str]:
        # One askpass helper beside the token it reads (no copy of the token, nothing left in /tmp).
        secrets = Path(self.env["E2E_SECRETS"])
        askpass = secrets / "git-write-askpass"
        if not askpass.exists():
            askpass.write_text("#!/bin/sh\nexec cat '%s'\n" % (secrets / "git-write-token"))
            askpass.chmod(0o700)
        return {"GIT_ASKPASS": str(askpass), "GIT_SSL_CAINFO": self.env["E2E_CA"]}

    def tip(self, full_name: str, branch: str = "main") -> str:
        out = _git(ROOT, "ls-remote", self._auth_url(full_name), "refs/heads/" + branch, env=self.git_env())
        return out.split()[0] if out.strip() else ""

    def _auth_url(self, full_name: str) -> str:
        return self.clone_url(full_name).replace("https://", "https://x-access-token@")

    def work_copy(self, full_name: str, dest: Path) -> "WorkCopy":
        self.ensure_repo(full_name)
        env = self.git_env()
        if dest.exists():
            shutil.rmtree(dest)
        _git(ROOT, "clone", "-q", self._auth_url(full_name), str(dest), env=env)
        _git(dest, "checkout", "-q", "-B", "main", env=env)
        return WorkCopy(self, full_name, dest, env)

    def git(self, full_name: str, *args: str) -> str:
        """Run git in the server's bare repository of full_name (reads: log, show, rev-parse)."""
        return _git(self.root / (full_name + ".git"), *args)

    def show(self, full_name: str, rev: str, path: str) -> str:
        return self.git(full_name, "show", "%s:%s" % (rev, path))

    def log(self, full_name: str, rev: str = "main", count: int = 20) -> list[dict[str, str]]:
        bare = self.root / (full_name + ".git")
        out = _git(bare, "log", "-n", str(count), "--format=%H%x00%s%x00%ct", rev)
        return [dict(zip(("sha", "subject", "time"), line.split("\0"))) for line in out.splitlines() if line]


@dataclass
class WorkCopy:
    server: GitServer
    full_name: str
    path: Path
    env: dict[str, str]

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def copy_tree(self, source: Path) -> None:
        for item in self.path.iterdir():
            if item.name != ".git":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        for item in source.iterdir():
            if item.name in (".git", ".venv", "__pycache__"):
                continue
            target = self.path / item.name
            shutil.copytree(item, target, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__")) \
                if item.is_dir() else shutil.copy2(item, target)

    def commit(self, message: str, branch: str = "main") -> str:
        _git(self.path, "add", "-A", env=self.env)
        _git(self.path, "commit", "-q", "--allow-empty", "-m", message, env=self.env)
        return _git(self.path, "rev-parse", "HEAD", env=self.env).strip()

    def push(self, branch: str = "main", force: bool = False) -> str:
        before = self.server.tip(self.full_name, branch) or "0" * 40
        _git(self.path, "push", "-q", *(["--force"] if force else []), "origin", "HEAD:refs/heads/" + branch, env=self.env)
        return before

    def push_ref(self, ref: str) -> None:
        """Push HEAD to a full ref that is no branch: a tag, or GitHub's refs/pull/N/head of a fork."""
        _git(self.path, "push", "-q", "origin", "HEAD:" + ref, env=self.env)

    def head(self) -> dict[str, str]:
        sha, subject, stamp, author = _git(self.path, "log", "-1", "--format=%H%x00%s%x00%cI%x00%an").strip().split("\0")
        return {"sha": sha, "message": subject, "timestamp": stamp, "author": author}


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, **GIT_ENV, **(env or {})})
    if done.returncode != 0:
        raise E2EError("git %s failed: %s" % (" ".join(args), done.stderr.strip()))
    return done.stdout


# ---------------------------------------------------------------- GitHub deliveries

def push_payload(git: GitServer, full_name: str, ref: str, before: str, head: dict[str, str]) -> dict:
    """A push delivery in GitHub's shape (the recorded fixture, re-pointed at the host git server)."""
    payload = copy.deepcopy(json.loads((FIXTURES / "push-main.json").read_text()))
    _repository(payload["repository"], git, full_name)
    payload.update(ref=ref, before=before, after=head["sha"], created=before == "0" * 40, deleted=False,
                   forced=False, compare="https://github.com/%s/compare/%s...%s" % (full_name, before[:12], head["sha"][:12]))
    commit = {**payload["head_commit"], "id": head["sha"], "tree_id": head["sha"], "message": head["message"],
              "timestamp": head["timestamp"], "url": "https://github.com/%s/commit/%s" % (full_name, head["sha"])}
    payload["head_commit"] = commit
    payload["commits"] = [commit]
    return payload


def pull_request_payload(git: GitServer, full_name: str, number: int, head_ref: str, head: dict[str, str],
                         base_sha: str, action: str = "opened", head_repo: str | None = None) -> dict:
    """A pull_request delivery; head_repo names the fork the head comes from (default: full_name)."""
    payload = copy.deepcopy(json.loads((FIXTURES / "pull-request-opened.json").read_text()))
    _repository(payload["repository"], git, full_name)
    payload["action"], payload["number"] = action, number
    pr = payload["pull_request"]
    pr["number"] = number
    head_repo = head_repo or full_name
    pr["head"].update(ref=head_ref, sha=head["sha"], label="%s:%s" % (head_repo.split("/")[0], head_ref))
    _repository(pr["head"]["repo"], git, head_repo)
    pr["base"].update(ref="main", sha=base_sha)
    _repository(pr["base"]["repo"], git, full_name)
    return payload


def _repository(repo: dict, git: GitServer, full_name: str) -> None:
    owner, name = full_name.split("/")
    repo.update(name=name, full_name=full_name, clone_url=git.clone_url(full_name),
                html_url="https://github.com/" + full_name, private=True,
                ssh_url="git@github.com:%s.git" % full_name, git_url="git://github.com/%s.git" % full_name,
                url="https://api.github.com/repos/" + full_name)
    if isinstance(repo.get("owner"), dict):
        repo["owner"].update(login=owner, name=owner)


@dataclass
class Delivery:
    event: str
    body: bytes
    delivery_id: str
    headers: dict[str, str]
    status: int = 0
    answer: str = ""
    sent_at: float = 0.0


def sign(secret: str, body: bytes) -> tuple[str, str]:
    """X-Hub-Signature-256 and the legacy X-Hub-Signature, as GitHub computes them."""
    return ("sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest())


def delivery(event: str, payload: dict, secret: str | None, delivery_id: str | None = None) -> Delivery:
    body = json.dumps(payload, separators=(",", ":")).encode()
    delivery_id = delivery_id or str(uuid.uuid4())
    headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/e2e0001",
               "X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id,
               "X-GitHub-Hook-ID": "424242", "X-GitHub-Hook-Installation-Target-ID": "4242",
               "X-GitHub-Hook-Installation-Target-Type": "repository"}
    if secret is not None:
        headers["X-Hub-Signature-256"], headers["X-Hub-Signature"] = sign(secret, body)
    return Delivery(event, body, delivery_id, headers)


@dataclass
class Webhook:
    """A ``kubectl port-forward`` to the EventSource Service on 127.0.0.1 (Envoy Gateway, which
    fronts it in production, cannot be built here)."""

    kube: Kube
    port: int = 0
    proc: subprocess.Popen | None = None
    endpoint: str = "/github"

    def start(self) -> "Webhook":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc = subprocess.Popen(
            [self.kube.kubectl, "--kubeconfig", self.kube.kubeconfig, "-n", NAMESPACE, "port-forward",
             "--address", "127.0.0.1", "svc/" + EVENTSOURCE_SVC, "%d:%d" % (self.port, WEBHOOK_PORT)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait("the port-forward to the EventSource", self._listening, 30, 0.5)
        return self

    def _listening(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise E2EError("kubectl port-forward exited: %s" % (self.proc.stdout.read() if self.proc.stdout else ""))
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def post(self, d: Delivery) -> Delivery:
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, self.endpoint), data=d.body,
                                         headers=d.headers, method="POST")
        d.sent_at = time.time()
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                d.status, d.answer = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            d.status, d.answer = err.code, err.read().decode("utf-8", "replace")
        return d

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


# ---------------------------------------------------------------- what the pipeline did

def workflows_for(kube: Kube, sha: str, kind: str | None = None) -> list[dict]:
    items = kube.json("-n", NAMESPACE, "get", "workflows")["items"]
    found = []
    for wf in items:
        params = {p["name"]: p.get("value") for p in wf["spec"].get("arguments", {}).get("parameters", [])}
        if params.get("revision") == sha and (kind is None or params.get("kind") == kind):
            found.append(wf)
    return found


def workflow_phase(kube: Kube, name: str) -> dict:
    return kube.json("-n", NAMESPACE, "get", "workflow", name)


def wait_workflow_done(kube: Kube, name: str, timeout: float = 1500) -> dict:
    def done():
        wf = workflow_phase(kube, name)
        return wf if wf.get("status", {}).get("phase") in ("Succeeded", "Failed", "Error") else None
    return wait("workflow %s to finish" % name, done, timeout, 3)


def stage_times(wf: dict) -> dict[str, float]:
    """Seconds each step took, from the Workflow's own node records."""
    times = {}
    for node in wf.get("status", {}).get("nodes", {}).values():
        if node.get("type") != "Pod" or not node.get("finishedAt"):
            continue
        name = node.get("displayName", node["name"]).split("(")[0]
        times[name] = timestamp(node["finishedAt"]) - timestamp(node["startedAt"])
    return times


def timestamp(stamp: str) -> float:
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))


def pod_logs(kube: Kube, wf: dict) -> str:
    """The main containers' logs of the Workflow's pods still there (podGC removes the pods of
    steps that succeeded; failed ones stay until the Workflow's TTL)."""
    out = []
    pods = kube.json("-n", NAMESPACE, "get", "pods", "-l", "workflows.argoproj.io/workflow=" + wf["metadata"]["name"])
    for pod in pods["items"]:
        name = pod["metadata"]["name"]
        text = kube.run("-n", NAMESPACE, "logs", name, "-c", "main", check=False)
        out.append("=== %s\n%s" % (name, text))
    return "\n".join(out)


class LogCollector:
    """Keeps every container log of one Workflow's pods while it runs: podGC deletes the pods of
    successful steps, so their logs are read while they are still there."""

    def __init__(self, kube: Kube, workflow: str) -> None:
        import threading
        self.kube, self.workflow, self.logs = kube, workflow, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._collect()
            self._stop.wait(2.0)
        self._collect()

    def _collect(self) -> None:
        try:
            pods = self.kube.json("-n", NAMESPACE, "get", "pods", "-l", "workflows.argoproj.io/workflow=" + self.workflow)
        except (E2EError, subprocess.TimeoutExpired, ValueError):
            return
        for pod in pods["items"]:
            name = pod["metadata"]["name"]
            for container in [c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]:
                text = self.kube.run("-n", NAMESPACE, "logs", name, "-c", container, check=False)
                if text and len(text) >= len(self.logs.get((name, container), "")):
                    self.logs[(name, container)] = text

    def stop(self) -> str:
        self._stop.set()
        self._thread.join(30)
        return "\n".join("=== %s/%s\n%s" % (pod, c, text) for (pod, c), text in sorted(self.logs.items()))


def statuses(env: dict[str, str], full_name: str, sha: str) -> list[dict]:
    journal = Path(env["E2E_GITHUB_JOURNAL"])
    if not journal.exists():
        return []
    found = []
    for line in journal.read_text().splitlines():
        req = json.loads(line)
        if req["path"].endswith("/repos/%s/statuses/%s" % (full_name, sha)):
            found.append({**json.loads(req["body"]), "authorization": req["headers"].get("authorization", "")})
    return found


def argocd_app(kube: Kube, name: str) -> dict:
    return kube.json("-n", "argocd", "get", "applications.argoproj.io", name)


def refresh_app(kube: Kube, name: str) -> None:
    kube.run("-n", "argocd", "annotate", "--overwrite", "applications.argoproj.io", name,
             "argocd.argoproj.io/refresh=normal")


def wait_synced_healthy(kube: Kube, name: str, revision: str, timeout: float = 300) -> dict:
    def synced():
        app = argocd_app(kube, name)
        status = app.get("status", {})
        if status.get("sync", {}).get("revision") != revision:
            refresh_app(kube, name)
            return None
        if status.get("sync", {}).get("status") == "Synced" and status.get("health", {}).get("status") == "Healthy":
            return app
        return None
    return wait("Argo CD app %s Synced and Healthy at %s" % (name, revision[:12]), synced, timeout, 3)


def app_answer(kube: Kube, namespace: str, image: str, port: int = 8080, timeout: float = 180) -> dict:
    """GET / from a Ready pod running ``image`` (its pod IP is on the bridge, reachable from here)."""
    def ready_pod():
        for pod in kube.json("-n", namespace, "get", "pods")["items"]:
            if pod.get("metadata", {}).get("deletionTimestamp"):
                continue
            images = [c.get("image", "") for c in pod["spec"]["containers"]]
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))
            if image in images and ready and pod["status"].get("podIP"):
                return pod
        return None
    pod = wait("a Ready pod of %s in %s" % (image, namespace), ready_pod, timeout, 2)
    with urllib.request.urlopen("http://%s:%d/" % (pod["status"]["podIP"], port), timeout=10) as answer:
        return {"pod": pod["metadata"]["name"], "status": answer.status, "body": answer.read().decode()}


def image_config(env: dict[str, str], image: str) -> dict:
    """The image's config through the registry API, with the release robot's credentials."""
    repo, _at, digest = image.partition("@")
    host, _slash, path = repo.partition("/")
    manifest = _registry(env, host, "/v2/%s/manifests/%s" % (path, digest),
                         "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json")
    manifest = json.loads(manifest)
    config = json.loads(_registry(env, host, "/v2/%s/blobs/%s" % (path, manifest["config"]["digest"]), "*/*"))
    return {"manifest": manifest, "config": config}


def image_layer_files(env: dict[str, str], image: str, diff_id: str) -> list[str]:
    """Paths in the layer whose uncompressed digest is ``diff_id`` (what lifecycle metadata names)."""
    import io
    import tarfile
    found = image_config(env, image)
    index = found["config"]["rootfs"]["diff_ids"].index(diff_id)
    repo, _at, _digest = image.partition("@")
    host, _slash, path = repo.partition("/")
    blob = _registry(env, host, "/v2/%s/blobs/%s" % (path, found["manifest"]["layers"][index]["digest"]), "*/*", raw=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
        return tar.getnames()


def image_blobs(env: dict[str, str], image: str) -> list[bytes]:
    """Every layer of the image, uncompressed, and its config: to search for what must not be there."""
    import gzip
    found = image_config(env, image)
    repo, _at, _digest = image.partition("@")
    host, _slash, path = repo.partition("/")
    blobs = [json.dumps(found["config"]).encode()]
    for layer in found["manifest"]["layers"]:
        blob = _registry(env, host, "/v2/%s/blobs/%s" % (path, layer["digest"]), "*/*", raw=True)
        blobs.append(gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob)
    return blobs


MANIFESTS = "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json"


def manifest_digest(env: dict[str, str], repository: str, tag: str) -> str | None:
    """The digest repository:tag names in the e2e registry now; None when the tag does not exist."""
    try:
        manifest = _registry(env, env["E2E_REGISTRY"], "/v2/%s/manifests/%s" % (repository, tag), MANIFESTS, raw=True)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def _authorization(env: dict[str, str], host: str) -> str:
    """The release robot's credentials for the e2e registry, as an Authorization header."""
    auths = json.loads((Path(env["E2E_SECRETS"]) / "robot-release.json").read_text())["auths"]
    return "Basic " + auths[host]["auth"]


def repository_of(image: str) -> str:
    """REGISTRY/REPOSITORY of REGISTRY/REPOSITORY[:TAG][@DIGEST] (a registry's port is no tag)."""
    name = image.partition("@")[0]
    head, _slash, last = name.rpartition("/")
    return "%s/%s" % (head, last.partition(":")[0]) if head else name


def _send(env: dict[str, str], method: str, url: str, body: bytes, content_type: str):
    """A write to the e2e registry with the release robot's credentials; the answer's headers."""
    request = urllib.request.Request(url, data=body, method=method, headers={
        "Content-Type": content_type, "Authorization": _authorization(env, urllib.parse.urlsplit(url).netloc)})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.headers


def _upload(env: dict[str, str], host: str, repository: str, blob: bytes) -> str:
    """Uploads a blob (the distribution API's POST, then PUT with its digest); returns the digest."""
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    location = _send(env, "POST", "http://%s/v2/%s/blobs/uploads/" % (host, repository), b"", "application/octet-stream").get("Location")
    url = urllib.parse.urljoin("http://%s/" % host, location)
    url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"digest": digest})
    _send(env, "PUT", url, blob, "application/octet-stream")
    return digest


def patch_run_image(env: dict[str, str], pinned: str, tag: str, marker: str) -> str:
    """An OS patch of a run image, as its publisher would push one: ``pinned`` (REPO[:TAG]@DIGEST,
    an image manifest) with one more layer holding ``etc/luban-e2e-patch`` (``marker``), pushed as
    REPO:``tag``. The platform and labels stay the run image's. Returns the pin an operator moves
    to: the same name (REPO[:TAG], what the lifecycle's rebaser compares) at the new digest."""
    import gzip
    import io
    import tarfile
    repo = repository_of(pinned)
    host, _slash, path = repo.partition("/")
    found = image_config(env, repo + "@" + pinned.partition("@")[2])
    manifest, config = found["manifest"], found["config"]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = (marker + "\n").encode()
        info = tarfile.TarInfo("etc/luban-e2e-patch")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw.getvalue()).hexdigest())
    config.setdefault("history", []).append({"created_by": "luban-ci e2e: an OS patch (%s)" % marker})
    config_blob = json.dumps(config).encode()
    manifest["layers"].append({"mediaType": manifest["layers"][-1]["mediaType"], "size": len(layer),
                               "digest": _upload(env, host, path, layer)})
    manifest["config"] = dict(manifest["config"], size=len(config_blob), digest=_upload(env, host, path, config_blob))
    body = json.dumps(manifest).encode()
    media_type = manifest.get("mediaType") or "application/vnd.oci.image.manifest.v1+json"
    _send(env, "PUT", "http://%s/v2/%s/manifests/%s" % (host, path, tag), body, media_type)
    return "%s@sha256:%s" % (pinned.partition("@")[0], hashlib.sha256(body).hexdigest())


def _registry(env: dict[str, str], host: str, path: str, accept: str, raw: bool = False):
    request = urllib.request.Request("http://%s%s" % (host, path), headers={
        "Accept": accept, "Authorization": _authorization(env, host)})
    with urllib.request.urlopen(request, timeout=30) as answer:
        data = answer.read()
    return data if raw else data.decode()


def gitops_files(app: str) -> dict[str, str]:
    """The GitOps directory of one app before luban-ci's first deploy: a Deployment and Service
    whose image the deploy step pins by digest (kustomize `images:`)."""
    name = "%s-%s" % (OWNER, app)
    image = "10.213.0.1:5001/luban/" + name
    return {
        "apps/%s/kustomization.yaml" % name: (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "resources:\n  - deployment.yaml\n  - service.yaml\n"),
        "apps/%s/deployment.yaml" % name: """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: %(app)s}
  template:
    metadata:
      labels: {app: %(app)s}
    spec:
      imagePullSecrets: [{name: luban-pull}]
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: %(image)s
          ports: [{containerPort: 8080}]
          env: [{name: PORT, value: "8080"}]
          readinessProbe:
            httpGet: {path: /, port: 8080}
            periodSeconds: 2
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
""" % {"app": app, "image": image},
        "apps/%s/service.yaml" % name: """apiVersion: v1
kind: Service
metadata:
  name: app
spec:
  selector: {app: %s}
  ports: [{port: 80, targetPort: 8080}]
""" % app,
    }


@dataclass
class Timer:
    marks: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.time)

    def mark(self, name: str) -> None:
        self.marks[name] = round(time.time() - self.start, 1)
