"""Git over HTTPS with token authentication, for the end-to-end tier: git's own ``git http-backend``
behind a small Python server, like GitHub's smart HTTP.

Every request must carry a token from ``--tokens`` (lines ``TOKEN read`` or ``TOKEN write``) as
HTTP Basic (any user name, the token as password, as git sends it for ``x-access-token``) or as
``Authorization: Bearer``. A read token may fetch; pushing (``git-receive-pack``) needs a write
token. Repositories are the bare ``*.git`` directories under ``--root`` (``OWNER/NAME.git``).

    python3 git_https.py --listen 10.213.0.1:8418 --root DIR --tokens FILE --tls-cert C --tls-key K
"""

from __future__ import annotations

import argparse
import base64
import hmac
import os
import ssl
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def read_tokens(path: Path) -> dict[str, str]:
    tokens = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("read", "write"):
            tokens[parts[0]] = parts[1]
    return tokens


def presented_token(header: str) -> str:
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
        except ValueError:
            return ""
    return ""


def access(tokens: dict[str, str], header: str) -> str:
    """``read``, ``write`` or ``""`` (compared in constant time)."""
    given = presented_token(header)
    found = ""
    for token, level in tokens.items():
        if given and hmac.compare_digest(token, given):
            found = level
    return found


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None
    root: Path
    tokens_file: Path

    def finish_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _deny(self, code: int) -> None:
        self.send_response(code)
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="luban-e2e git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cgi(self) -> None:
        level = access(read_tokens(self.server.tokens_file), self.headers.get("Authorization", ""))
        path, _sep, query = self.path.partition("?")
        pushing = path.endswith("/git-receive-pack") or "service=git-receive-pack" in query
        if not level:
            return self._deny(401)
        if pushing and level != "write":
            return self._deny(403)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
            # A REMOTE_USER lets http-backend serve receive-pack (push) once we have checked the token.
            "REMOTE_USER": "luban-e2e-" + level, "REMOTE_ADDR": self.client_address[0],
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
        if done.stderr:
            sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        head, _sep, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _sep, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _cgi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--tls-cert", type=Path, required=True)
    parser.add_argument("--tls-key", type=Path, required=True)
    args = parser.parse_args()
    host, _sep, port = args.listen.rpartition(":")
    server = Server((host, int(port)), Handler)
    server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.tls.load_cert_chain(args.tls_cert, args.tls_key)
    server.root, server.tokens_file = args.root, args.tokens
    server.serve_forever()


if __name__ == "__main__":
    main()
