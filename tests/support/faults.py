"""A real HTTP server on 127.0.0.1 that misbehaves on purpose, one way per path prefix.

Every fault answers any path under its prefix, so one server serves every backend kind
(Prometheus's /api/v1/..., Elasticsearch's /logs-*/_search, Loki's /loki/api/v1/...):

- ``/huge/<n>/...``: HTTP 200, a JSON body of n bytes streamed in 64 KiB chunks with no
  Content-Length (a valid JSON array of strings, however far it is read);
- ``/declared/<n>/...``: a Content-Length of n and a few bytes (the header alone is too large);
- ``/drip/...``: HTTP 200, then one byte a second, forever;
- ``/html500/...``: a 500 with a proxy's HTML error page;
- ``/garbage/...``: HTTP 200, ``application/json``, and a body that is not JSON;
- ``/status/<code>/...``: that status with a short JSON error (401, 403, 429 with Retry-After: 7);
- ``/loop/...``: a redirect to itself;
- ``/flaky/<n>/...``: HTTP 503 for the first n requests, then what ``/ok`` answers;
- ``/switch/<name>/...``: HTTP 503 while ``server.broken`` holds name, then what ``/ok`` answers;
- ``/ok/...``: a Prometheus-style success envelope with an empty vector.

Started once per test process (``fault_server()``), threaded, stopped at exit.

``fault_backend(kind)`` is a server of its own per fault, answering *every* path with it, for
backends whose client owns the path (ClickHouse's HTTP interface is POST /); ``untrusted_tls_server()`` answers
over HTTPS with a certificate of a CA zeta is not told about.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024
OK_BODY = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()
HTML_500 = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    b"</center><hr><center>nginx/1.25.3</center></body></html>" + b"<!-- padding -->" * 40
)


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(
        self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = ((self.server.fixed + "/") if self.server.fixed else "") + self.path.lstrip("/")
        parts = parts.split("/")
        kind = parts[0]
        self.server.seen.append(self.path)
        try:
            if kind == "huge":
                self._huge(int(parts[1]))
            elif kind == "declared":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", parts[1])
                self.end_headers()
                self.wfile.write(b"[")
                self.wfile.flush()
                time.sleep(5)
            elif kind == "drip":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    self.wfile.write(b"1\r\n \r\n")
                    self.wfile.flush()
                    time.sleep(1)
            elif kind == "html500":
                self._send(500, HTML_500, "text/html")
            elif kind == "garbage":
                self._send(200, b'{"status": "success", "data": {"result": [1, 2,, ]]', "application/json")
            elif kind == "status":
                code = int(parts[1])
                headers = {"Retry-After": "7"} if code == 429 else {}
                self._send(
                    code,
                    json.dumps({"status": "error", "error": f"status {code} from the fault server"}).encode(),
                    headers=headers,
                )
            elif kind == "loop":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif kind == "switch":
                if parts[1] in self.server.broken:
                    self._send(503, b'{"status": "error", "error": "down for the test"}')
                else:
                    self._send(200, OK_BODY)
            elif kind == "flaky":
                key = "/".join(parts[:2])
                with self.server.lock:
                    self.server.counts[key] = self.server.counts.get(key, 0) + 1
                    failing = self.server.counts[key] <= int(parts[1])
                if failing:
                    self._send(503, b'{"status": "error", "error": "warming up"}')
                else:
                    self._send(200, OK_BODY)
            else:
                self._send(200, OK_BODY)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _huge(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b'"' + b"x" * (CHUNK - 4) + b'",'
        sent = 0
        first = b"["
        while sent < size:
            data = first + piece
            first = b""
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            sent += len(data)
        tail = b'"end"]'
        self.wfile.write(f"{len(tail):x}\r\n".encode() + tail + b"\r\n0\r\n\r\n")

    do_GET = do_POST = do_DELETE = _handle


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, fixed: str = "") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        #: a fault every path gets ("huge/1048576"); "" routes by the path's first part
        self.fixed = fixed.strip("/")
        self.seen: list[str] = []
        self.counts: dict[str, int] = {}
        self.broken: set[str] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, fault: str = "") -> str:
        base = f"{self.scheme}://127.0.0.1:{self.server_address[1]}"
        return f"{base}/{fault.strip('/')}" if fault else base

    scheme = "http"


@cache
def fault_server() -> FaultServer:
    server = FaultServer()
    atexit.register(server.shutdown)
    return server


@cache
def fault_backend(fault: str) -> FaultServer:
    """A server answering every path with ``fault`` (e.g. "html500", "huge/8388608")."""
    server = FaultServer(fixed=fault)
    atexit.register(server.shutdown)
    return server


@cache
def untrusted_tls_server() -> FaultServer:
    """HTTPS with a certificate from a throwaway CA that zeta is not given (answers like /ok)."""
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = FaultServer(fixed="ok")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.scheme = "https"
    atexit.register(server.shutdown)
    return server
