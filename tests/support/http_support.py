"""What the repository's own HTTP(S) servers share: the step tool tests' git server fixture
(tests/steptool/conftest.py), the fake GitHub (fake_github.py here) and the end-to-end tier's host
services (scripts/cluster/git_https.py and private_index.py).

- ``Server``: a threading HTTP server; given ``tls``, each connection's TLS handshake runs in that
  request's own thread, so a client that connects and says nothing never blocks the others.
- ``tls_context``: the server side TLS context of a certificate and its key.
- ``listen``: a bound ``Server`` on a service's ``--listen HOST:PORT``, over TLS given a certificate.
- ``git_http_backend``: git's smart HTTP, one request answered by ``git http-backend`` run as CGI.
- ``send_empty``: an answer with no body (a refusal, a busy server).

Standard library only. It is imported by its file name: pytest finds it through pytest.ini's
pythonpath; fake_github.py, run as a script, finds it beside itself; the scripts in scripts/cluster
put this folder on sys.path.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO


class Server(ThreadingHTTPServer):
    """Threading HTTP server; with ``tls`` the handshake runs in each request's own thread."""

    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)


def tls_context(cert: Path, key: Path | None) -> ssl.SSLContext:
    """A server's TLS context: ``cert`` and its ``key`` (without, the key is in ``cert``'s file)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def listen(address: str, handler: type[BaseHTTPRequestHandler], server_class: type[Server] = Server,
           cert: Path | None = None, key: Path | None = None) -> Server:
    """A ``server_class`` bound to ``address`` (``HOST:PORT``), over TLS when ``cert`` is given."""
    host, _sep, port = address.rpartition(":")
    server = server_class((host, int(port)), handler)
    if cert is not None:
        server.tls = tls_context(cert, key)
    return server


def send_empty(handler: BaseHTTPRequestHandler, code: int, headers: Mapping[str, str] | None = None) -> None:
    handler.send_response(code)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def git_http_backend(handler: BaseHTTPRequestHandler, root: Path, remote_user: str, env: Mapping[str, str],
                     errors: TextIO | None = None) -> None:
    """Answer ``handler``'s request with ``git http-backend``, every bare repository under ``root``
    exported. ``REMOTE_USER`` lets it serve pushes (git-receive-pack) as well: the caller decides
    who may come this far. ``env`` is the rest of its environment; what it writes to stderr goes
    to ``errors`` (dropped without)."""
    path, _sep, query = handler.path.partition("?")
    body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    cgi = {
        **env, "GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": handler.command,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": remote_user, "REMOTE_ADDR": handler.client_address[0],
        "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
        "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
    }
    done = subprocess.run(["git", "http-backend"], input=body, env=cgi, capture_output=True, check=False)
    if errors is not None and done.stderr:
        errors.write(done.stderr.decode("utf-8", "replace"))
    head, _sep, payload = done.stdout.partition(b"\r\n\r\n")
    status, headers = 200, []
    for line in head.decode("latin-1").split("\r\n"):
        name, _sep, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers.append((name, value.strip()))
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
