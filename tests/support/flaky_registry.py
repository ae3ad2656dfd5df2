"""A reverse proxy in front of a registry that fails the first request of chosen kinds with 503.

A registry answering 5xx for a moment (Quay under load, a restarting pod behind a load balancer)
must cost a build a retry, not the build. Put this between the lifecycle's registry phases and a
real registry: it forwards everything unchanged (Host included, so upload locations name the
proxy), except that the first request of each kind in ``fail`` gets ``503 Service Unavailable``.
``events`` records (kind, status) of every request of those kinds, so a test can prove the 503
was answered and the same kind then succeeded.
"""

from __future__ import annotations

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Request kinds: the method and what the path names (the distribution API's routes).
_ROUTES = ((re.compile(r"^/v2/.+/manifests/[^/]+$"), "manifest"),
           (re.compile(r"^/v2/.+/blobs/uploads/"), "upload"),
           (re.compile(r"^/v2/.+/blobs/[^/]+$"), "blob"))
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
        "proxy-authenticate"}


def kind(method: str, path: str) -> str:
    route = path.split("?", 1)[0]
    return method + " " + next((name for pattern, name in _ROUTES if pattern.match(route)), "other")


class FlakyRegistry:
    """``with FlakyRegistry("127.0.0.1:5001", {"PUT manifest", "GET manifest"}) as proxy:`` then push
    to ``proxy.address``."""

    def __init__(self, upstream: str, fail: set[str]) -> None:
        self.upstream, self.fail = upstream, set(fail)
        self.events: list[tuple[str, int]] = []
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.address = "127.0.0.1:%d" % self._server.server_address[1]

    def __enter__(self) -> "FlakyRegistry":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _decide(self, what: str) -> bool:
        """Whether this request fails (the first of its kind, when its kind is to fail)."""
        with self._lock:
            first = what in self.fail and what not in self._failed
            if first:
                self._failed.add(what)
            return first

    def _record(self, what: str, status: int) -> None:
        if what in self.fail:
            with self._lock:
                self.events.append((what, status))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _forward(self) -> None:
                what = kind(self.command, self.path)
                body = self._body()
                if proxy._decide(what):
                    proxy._record(what, 503)
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                proxy._record(what, answer.status)
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _body(self) -> bytes | None:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else None

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        return Handler
