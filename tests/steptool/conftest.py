"""Shared fixtures of the step tool tests: the CLI as a real process, real git repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The tests import the step tool from source (pytest.ini puts it on sys.path); the CLI runs from it too.
STEPTOOL_SRC = ROOT / "files" / "steptool" / "src"

TOKEN = "ghs_s3cr3tT0kenValue0123456789abcdefXYZ"
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C",
    "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.org",
    "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.org",
}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(STEPTOOL_SRC)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
    done = subprocess.run([sys.executable, "-m", "luban_step", *args], capture_output=True, text=True,
                          env=cli_env(env), timeout=timeout, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV, **(env or {})})
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str, when: int) -> str:
    for name, text in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    stamp = "@%d +0000" % when
    git(repo, "commit", "-q", "-m", message, env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
    return git(repo, "rev-parse", "HEAD")


@dataclass
class Remote:
    """A working repository and the bare remote it pushes to."""

    work: Path
    bare: Path

    @property
    def url(self) -> str:
        return "file://" + str(self.bare)

    def push(self) -> None:
        git(self.work, "push", "-q", "origin", "HEAD:refs/heads/main")

    def tip(self, branch: str = "main") -> str:
        return git(self.bare, "rev-parse", "refs/heads/" + branch)

    def show(self, path: str, branch: str = "main") -> str:
        return git(self.bare, "show", "refs/heads/%s:%s" % (branch, path))


def make_remote(base: Path, name: str) -> Remote:
    bare = base / (name + ".git")
    work = base / name
    git(base, "init", "-q", "--bare", "-b", "main", str(bare))
    git(base, "init", "-q", "-b", "main", str(work))
    git(work, "remote", "add", "origin", str(bare))
    return Remote(work, bare)


@pytest.fixture()
def token_dir(tmp_path: Path) -> Path:
    secret = tmp_path / "secret-https"
    secret.mkdir()
    (secret / "token").write_text(TOKEN + "\n", encoding="utf-8")
    return secret


@pytest.fixture()
def git_http_server():
    """A real smart-HTTP git server: ``git http-backend`` behind Basic auth on 127.0.0.1 (the bridge
    of tests/support/http_support.py, which the e2e tier's scripts/cluster/git_https.py serves too).

    Returns ``serve(bare, busy=0, busy_push=0) -> url``; only ``x-access-token:TOKEN`` is let in.
    The first ``busy`` authenticated requests, and the first ``busy_push`` authenticated requests
    of a push (git-receive-pack), get a 503, as a busy or restarting server answers.
    """
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from http_support import git_http_backend, send_empty

    expected = "Basic " + base64.b64encode(("x-access-token:" + TOKEN).encode()).decode()
    servers = []

    def serve(bare: Path, busy: int = 0, busy_push: int = 0) -> str:
        left = [busy]
        left_push = [busy_push]

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _cgi(self) -> None:
                if self.headers.get("Authorization") != expected:
                    return send_empty(self, 401, {"WWW-Authenticate": 'Basic realm="git"'})
                pushing = "git-receive-pack" in self.path
                if left[0] > 0 or (pushing and left_push[0] > 0):
                    if pushing and left_push[0] > 0:
                        left_push[0] -= 1
                    else:
                        left[0] -= 1
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    return send_empty(self, 503)
                return git_http_backend(self, bare.parent, "x-access-token", os.environ)

            do_GET = do_POST = _cgi

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d/%s" % (server.server_address[1], bare.name)

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def redirecting_server():
    """An HTTP server on 127.0.0.1 that answers every request with a 301 to the same path under
    another base URL: what a moved repository (or a hostile server) answers.

    Returns ``serve(target_base) -> url`` (``url`` ends with the target's last path segment).
    """
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers = []

    def serve(target: str) -> str:
        base, _sep, name = target.rpartition("/")

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(301)
                self.send_header("Location", base + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d/%s" % (server.server_address[1], name)

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def git_ssh_server(tmp_path: Path):
    """A real SSH git server: OpenSSH's sshd on 127.0.0.1 with a throwaway host key, letting one
    throwaway client key in and only as ``git-shell`` (no shell, no port forwarding).

    Returns ``serve(bare) -> (url, credentials)``: an ``ssh://`` URL of ``bare`` and a directory
    holding ``ssh-privatekey`` and ``known_hosts`` as the pipeline mounts them. sshd logs in as the
    user running the tests; skipped where OpenSSH's server or ssh-keygen is missing.
    """
    import getpass
    import shutil
    import socket
    import time

    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    if not sshd or not shutil.which("ssh-keygen") or not shutil.which("git-shell"):
        pytest.skip("OpenSSH's sshd, ssh-keygen or git-shell is not installed, so no real SSH remote can be served")
    base = tmp_path / "sshd"
    base.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "luban-test", "-f", str(base / name)],
                       check=True)
    client_pub = (base / "client.pub").read_text().strip()
    (base / "authorized_keys").write_text(
        'restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" %s\n' % client_pub)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (base / "sshd_config").write_text("\n".join([
        "ListenAddress 127.0.0.1:%d" % port, "HostKey %s" % (base / "host"),
        "AuthorizedKeysFile %s" % (base / "authorized_keys"), "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
        "AllowTcpForwarding no", "X11Forwarding no", "AcceptEnv GIT_PROTOCOL",  # protocol v2, as GitHub speaks it
        "PidFile %s" % (base / "sshd.pid"), ""]))
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)  # the privilege separation directory sshd wants as root
    server = subprocess.Popen([sshd, "-D", "-e", "-f", str(base / "sshd_config")], stdout=subprocess.DEVNULL,
                              stderr=open(base / "sshd.log", "w"))
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()  # never left listening after a failed start
                server.wait(timeout=10)
                pytest.fail("sshd did not start: " + (base / "sshd.log").read_text())
            time.sleep(0.1)
    credentials = base / "credentials"
    credentials.mkdir()
    shutil.copy(base / "client", credentials / "ssh-privatekey")
    host_key = " ".join((base / "host.pub").read_text().split()[:2])
    (credentials / "known_hosts").write_text("[127.0.0.1]:%d %s\n" % (port, host_key))
    for entry in credentials.iterdir():
        entry.chmod(0o644)  # as Kubernetes mounts a secret to the pod's group: readable, not 0600
    user = getpass.getuser()

    def serve(bare: Path) -> tuple[str, Path]:
        return "ssh://%s@127.0.0.1:%d%s" % (user, port, bare), credentials

    try:
        yield serve
    finally:
        server.terminate()
        server.wait(timeout=10)
