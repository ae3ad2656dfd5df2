"""A private Python package index for the end-to-end tier: PEP 503 "simple" pages over HTTPS
(the services' own CA), every request behind HTTP Basic auth, as an Artifactory or a private
devpi would be. It serves one package, built here as a wheel:

    luban-e2e-greeting 1.0.0   (module luban_e2e_greeting, GREETING = "hello from the private index")

A build that installs it needs the CA (a ``ca-certificates`` binding) and the credentials (a
``netrc`` binding); scenario 7 proves the cluster build is given both and leaks neither.

    python3 private_index.py --listen 10.213.0.1:8421 --dir DIR --password-file F --tls-cert C --tls-key K
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import io
import sys
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

# The TLS server is the other services' too (tests/support/http_support.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))
import http_support  # noqa: E402

USER = "luban-e2e"
NAME, VERSION, MODULE = "luban-e2e-greeting", "1.0.0", "luban_e2e_greeting"
GREETING = "hello from the private index"


def build_wheel() -> tuple[str, bytes]:
    """A pure-Python wheel, byte for byte the same every time (fixed times, sorted entries)."""
    dist = "%s-%s.dist-info" % (MODULE, VERSION)
    files = {
        "%s/__init__.py" % MODULE: 'GREETING = "%s"\n' % GREETING,
        "%s/METADATA" % dist: "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: luban-ci e2e private package\n" % (NAME, VERSION),
        "%s/WHEEL" % dist: "Wheel-Version: 1.0\nGenerator: luban-ci-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(text.encode())))
    record.append("%s/RECORD,," % dist)
    files["%s/RECORD" % dist] = "\n".join(record) + "\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            wheel.writestr(info, files[path])
    return "%s-%s-py3-none-any.whl" % (MODULE, VERSION), out.getvalue()


class Server(http_support.Server):
    password_file: Path
    wheel_name: str
    wheel: bytes


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:  # type: ignore[override]
        self._head = head
        password = self.server.password_file.read_text().strip()
        expected = "Basic " + base64.b64encode(("%s:%s" % (USER, password)).encode()).decode()
        if not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
            return self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="luban-e2e index"'})
        digest = hashlib.sha256(self.server.wheel).hexdigest()
        path = self.path.split("?")[0]
        if path in ("/simple/", "/simple"):
            body = '<!DOCTYPE html><html><body><a href="/simple/%s/">%s</a></body></html>' % (NAME, NAME)
            return self._send(200, body.encode(), "text/html")
        if path.rstrip("/") == "/simple/" + NAME:
            body = '<!DOCTYPE html><html><body><a href="/files/%s#sha256=%s">%s</a></body></html>' % (
                self.server.wheel_name, digest, html.escape(self.server.wheel_name))
            return self._send(200, body.encode(), "text/html")
        if path == "/files/" + self.server.wheel_name:
            return self._send(200, self.server.wheel, "application/octet-stream")
        return self._send(404, b"not found", "text/plain")

    def _send(self, code: int, body: bytes, kind: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not getattr(self, "_head", False):
            self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--password-file", type=Path, required=True)
    parser.add_argument("--tls-cert", type=Path, required=True)
    parser.add_argument("--tls-key", type=Path, required=True)
    args = parser.parse_args()
    server = http_support.listen(args.listen, Handler, Server, args.tls_cert, args.tls_key)
    server.password_file = args.password_file
    server.wheel_name, server.wheel = build_wheel()
    server.serve_forever()


if __name__ == "__main__":
    main()
