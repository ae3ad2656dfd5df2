"""An HTTPS (CONNECT) proxy that lets cluster builds reach the package index and nothing else.

The test cluster's DNS answers cluster names only, so a build pod cannot reach PyPI by itself.
This proxy, bound to the cluster bridge, tunnels ``CONNECT host:443`` for the hosts given with
``--allow`` and refuses everything else (403), as a corporate egress proxy would. It never sees
the traffic in clear: TLS runs end to end between uv and the index.

    python3 connect_proxy.py --listen 10.213.0.1:3128 --allow pypi.org --allow files.pythonhosted.org
"""

from __future__ import annotations

import argparse
import select
import socket
import sys
from socketserver import StreamRequestHandler, ThreadingTCPServer


class Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    allowed: frozenset[str] = frozenset()


class Handler(StreamRequestHandler):
    server: Server
    timeout = 300

    def _answer(self, code: int, reason: str) -> None:
        self.wfile.write(("HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % (code, reason)).encode())

    def handle(self) -> None:
        request = self.rfile.readline(8192).decode("latin-1").split()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass
        if len(request) != 3 or request[0] != "CONNECT":
            return self._answer(405, "Only CONNECT")
        host, _sep, port = request[1].rpartition(":")
        if host.lower() not in self.server.allowed or port != "443":
            sys.stderr.write("refused CONNECT %s from %s\n" % (request[1], self.client_address[0]))
            return self._answer(403, "Not allowed by the luban-ci test proxy")
        try:
            upstream = socket.create_connection((host, 443), timeout=30)
        except OSError as exc:
            sys.stderr.write("CONNECT %s failed: %s\n" % (request[1], exc))
            return self._answer(502, "Bad Gateway")
        sys.stderr.write("CONNECT %s from %s\n" % (request[1], self.client_address[0]))
        self._answer(200, "Connection established")
        self._pipe(self.connection, upstream)

    @staticmethod
    def _pipe(client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        try:
            while True:
                ready, _w, _x = select.select(sockets, [], [], 300)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--allow", action="append", default=[], help="host name CONNECT may reach (port 443)")
    args = parser.parse_args()
    host, _sep, port = args.listen.rpartition(":")
    server = Server((host, int(port)), Handler)
    server.allowed = frozenset(h.lower() for h in args.allow)
    server.serve_forever()


if __name__ == "__main__":
    main()
