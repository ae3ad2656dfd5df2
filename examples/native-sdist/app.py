"""Serves proof that MarkupSafe's compiled C extension is the one in use."""

import json
import os
from importlib.metadata import distribution
from http.server import BaseHTTPRequestHandler, HTTPServer

import markupsafe
from markupsafe import _speedups


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({
            "app": "native-sdist",
            "speedups": _speedups.__file__,
            # A wheel built here is tagged for this platform (linux_x86_64), not manylinux.
            "wheel_tags": [line.split(": ", 1)[1] for line in distribution("markupsafe").read_text("WHEEL").splitlines()
                           if line.startswith("Tag: ")],
            "escaped": str(markupsafe.escape("<luban>")),
            "uid": os.getuid(),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
