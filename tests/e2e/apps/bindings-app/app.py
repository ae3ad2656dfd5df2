"""Scenario 7's app: answers with a greeting from a package only the private index has."""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from luban_e2e_greeting import GREETING


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"app": "bindings-app", "greeting": GREETING, "uid": os.getuid()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
