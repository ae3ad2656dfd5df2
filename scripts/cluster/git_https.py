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
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

# The git bridge and the TLS server are the step tool tests' too (tests/support/http_support.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))
import http_support  # noqa: E402


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


class Server(http_support.Server):
    root: Path
    tokens_file: Path


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _cgi(self) -> None:
        level = access(read_tokens(self.server.tokens_file), self.headers.get("Authorization", ""))
        path, _sep, query = self.path.partition("?")
        pushing = path.endswith("/git-receive-pack") or "service=git-receive-pack" in query
        if not level:
            return http_support.send_empty(self, 401, {"WWW-Authenticate": 'Basic realm="luban-e2e git"'})
        if pushing and level != "write":
            return http_support.send_empty(self, 403)
        # Only PATH and no git configuration but the repositories' own.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": os.devnull}
        return http_support.git_http_backend(self, self.server.root, "luban-e2e-" + level, env, sys.stderr)

    do_GET = do_POST = _cgi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--tls-cert", type=Path, required=True)
    parser.add_argument("--tls-key", type=Path, required=True)
    args = parser.parse_args()
    server = http_support.listen(args.listen, Handler, Server, args.tls_cert, args.tls_key)
    server.root, server.tokens_file = args.root, args.tokens
    server.serve_forever()


if __name__ == "__main__":
    main()
