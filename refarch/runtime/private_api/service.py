"""A minimal HTTP service for PrivateApi's default user data (Python standard library only).

Routes:
  GET /health  -> 200 {"status": "ok"}: the load balancer's health check.
  GET /db      -> 200 or 503 {"database": "reachable" | "unreachable"}: a TCP connect to the
                  database endpoint, proving the app -> db path (security groups, NACLs) works.
  anything else (GET) -> 200 {"service": ..., "instance": ..., "path": ...}
Other methods get 405. Configuration comes from the environment: PORT, DB_HOST, DB_PORT.
"""

from __future__ import annotations

import json
import os
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE_NAME = "refarch-private-api"
DB_CONNECT_TIMEOUT_SECONDS = 2.0


def database_reachable(host: str | None, port: int | None, timeout: float = DB_CONNECT_TIMEOUT_SECONDS) -> bool:
    """True when a TCP connection to host:port opens within ``timeout`` seconds."""
    if not host or not port:
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Handler(BaseHTTPRequestHandler):
    server_version = SERVICE_NAME
    sys_version = ""

    def _send(self, status: HTTPStatus, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(HTTPStatus.OK, {"status": "ok"})
        elif path == "/db":
            host = os.environ.get("DB_HOST")
            port = int(os.environ.get("DB_PORT", "0") or 0)
            ok = database_reachable(host, port)
            self._send(
                HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE,
                {"database": "reachable" if ok else "unreachable"},
            )
        else:
            self._send(HTTPStatus.OK, {"service": SERVICE_NAME, "instance": socket.gethostname(), "path": path})

    do_HEAD = do_GET  # noqa: N815

    def _not_allowed(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{self.command} is not allowed"})

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        # One JSON line per request on stdout, which systemd sends to the journal.
        print(json.dumps({"client": self.client_address[0], "request": format % args}), flush=True)


def serve(port: int) -> ThreadingHTTPServer:
    """A server bound to ``port`` on every interface (not yet serving)."""
    return ThreadingHTTPServer(("", port), Handler)


if __name__ == "__main__":
    serve(int(os.environ.get("PORT", "8080"))).serve_forever()
