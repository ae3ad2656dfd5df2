"""A fake of GitHub's commit statuses API, shared by the step tool tests and the end-to-end tier.

It answers like api.github.com (or a GitHub Enterprise Server under ``/api/v3``): 401 for a wrong
token, 404 for an unknown repository or path, 422 for a bad state, 201 with the created status
otherwise. Every request is recorded with its headers, token included, so a test can prove which
token was sent. ``script`` forces answers in order (server errors, retries).

In-process (step tool tests)::

    fake, server = start(token=TOKEN, repos=("acme/shop",))

As a service (``scripts/cluster/services.sh``), over TLS, recording to a JSON-lines journal that
the end-to-end tests read back::

    python3 fake_github.py --listen 10.213.0.1:8443 --tls-cert C --tls-key K \
        --token-file T --journal J [--repo OWNER/NAME]...   (no --repo: any repository)
"""

from __future__ import annotations

import argparse
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from http_support import Server, tls_context

DOCS = "https://docs.github.com/rest/commits/statuses#create-a-commit-status"
STATES = ("error", "failure", "pending", "success")
_REPO = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"


@dataclass
class FakeGitHub:
    """The statuses endpoint's behaviour; ``repos`` empty accepts every repository."""

    token: str
    prefix: str = ""
    repos: tuple[str, ...] = ("acme/shop",)
    script: list[tuple[int, dict]] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    journal: Path | None = None
    port: int = 0
    scheme: str = "http"
    host: str = "127.0.0.1"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, dict]:
        self._record({"method": method, "path": path, "headers": headers, "body": body})
        extra = {"X-GitHub-Media-Type": "github.v3; format=json", "X-RateLimit-Limit": "5000",
                 "X-RateLimit-Remaining": "4999", "X-GitHub-Request-Id": "CAFE:0001"}
        if self.script:
            code, data = self.script.pop(0)
            return code, data, extra
        if headers.get("authorization") != "Bearer " + self.token:
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                         "status": "401"}, extra
        match = re.fullmatch(re.escape(self.prefix) + r"/repos/(%s)/statuses/([0-9a-f]{40})" % _REPO, path)
        if method != "POST" or not match or (self.repos and match.group(1) not in self.repos):
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, extra
        try:
            data = json.loads(body)
        except ValueError:
            return 400, {"message": "Problems parsing JSON", "documentation_url": DOCS, "status": "400"}, extra
        if data.get("state") not in STATES:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "Status", "code": "custom", "field": "state",
                 "message": "state is not included in the list"}], "documentation_url": DOCS,
                "status": "422"}, extra
        created = {
            "url": "https://api.github.com/repos/%s/statuses/%s" % (match.group(1), match.group(2)),
            "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "id": 1, "node_id": "SC_kwDOAAAAAQ",
            "state": data["state"], "description": data.get("description"), "target_url": data.get("target_url"),
            "context": data.get("context", "default"), "created_at": "2026-11-24T05:00:00Z",
            "updated_at": "2026-11-24T05:00:00Z",
            "creator": {"login": "luban-ci[bot]", "id": 2, "type": "Bot"},
        }
        extra["Location"] = created["url"]
        return 201, created, extra

    def _record(self, request: dict) -> None:
        with self._lock:
            self.requests.append(request)
            if self.journal is not None:
                line = dict(request, body=request["body"].decode("utf-8", "replace"))
                with self.journal.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(line) + "\n")

    @property
    def url(self) -> str:
        return "%s://%s:%d%s" % (self.scheme, self.host, self.port, self.prefix)


def read_journal(path: Path) -> list[dict]:
    """The requests a service instance recorded, oldest first (body as text)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            code, data, extra = fake.answer(self.command, self.path, headers, body)
            payload = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

    return Handler


def serve(host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None,
          **kwargs: object) -> tuple[FakeGitHub, ThreadingHTTPServer]:
    """A bound server for a new fake; the caller runs ``serve_forever`` and shuts it down."""
    fake = FakeGitHub(**kwargs)  # type: ignore[arg-type]
    server = Server((host, port), _handler(fake))
    server.tls = tls
    fake.scheme = "https" if tls is not None else "http"
    fake.host, fake.port = host, server.server_address[1]
    return fake, server


def start(host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None,
          **kwargs: object) -> tuple[FakeGitHub, ThreadingHTTPServer]:
    """Serve a new fake in a daemon thread; the caller shuts the server down."""
    fake, server = serve(host, port, tls, **kwargs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--prefix", default="", help="API prefix, e.g. /api/v3 for GHES")
    parser.add_argument("--repo", action="append", default=[], help="accepted OWNER/NAME (default: any)")
    args = parser.parse_args()
    host, _sep, port = args.listen.rpartition(":")
    tls = tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    token = args.token_file.read_text(encoding="utf-8").strip()
    args.journal.parent.mkdir(parents=True, exist_ok=True)
    _fake, server = serve(host, int(port), tls, token=token, prefix=args.prefix, repos=tuple(args.repo),
                          journal=args.journal)
    server.serve_forever()


if __name__ == "__main__":
    main()
