"""A WSGI app with no framework, served by waitress from a pinned requirements.txt."""

import json
import os


def app(environ, start_response):
    body = json.dumps({"app": "requirements-web", "uid": os.getuid()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
