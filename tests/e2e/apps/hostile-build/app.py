"""Scenario 8's app: answers with what its own build found when it hunted for credentials."""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from hostile_build_report import REPORT


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"app": "hostile-build", "uid": os.getuid(), "probe": REPORT}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
