"""A local HTTP server that answers like a backend gone wrong, for bench/fault_budgets.py.

    python bench/answer_server.py --port-file /tmp/port [--huge-mb 300] [--big-mb 50]

Every path starts with a mode, then the backend's own path (``/huge/api/v1/query``):

- ``/huge/...``: HTTP 200, a valid JSON array of strings, ``--huge-mb`` MB streamed in 64 KiB
  chunks, no Content-Length (a backend gone wrong answering 300 MB);
- ``/hang/...``: the request is read, then nothing is ever sent (a hung server);
- ``/big/<kind>/...``: a valid answer of about ``--big-mb`` MB, shaped as backend ``kind``
  answers its main question (Prometheus ``query_range``, Elasticsearch ``_search``, Loki
  ``query_range``, Jaeger ``/api/traces``, Tempo ``/api/v2/traces/<id>``, Alertmanager
  ``/api/v2/alerts``), held back until ``/control/release`` is asked; the backend's other
  questions get small valid answers at once. ``/control/sent`` says (JSON) when the last big
  answer was wholly written (``time.perf_counter()`` of this machine's monotonic clock, which
  the bench shares), ``/control/reset`` holds the next big answers back again, and
  ``waiting`` in each control answer counts the big answers asked for and held back.

The bodies are built once, at start-up (a few seconds), so that every run sends the same bytes.
Runs in its own process: a Python server streaming 300 MB must not share a GIL with the
bench's pty readers, whose timestamps are the figures.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHUNK = 64 * 1024
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
T0_NS = 1_767_225_600_000_000_000


def _fill(make, target: int) -> list:
    """Items made by ``make(i)`` until their JSON passes ``target`` bytes."""
    items, size, i = [], 0, 0
    while size < target:
        item = make(i)
        items.append(item)
        size += len(json.dumps(item)) + 1
        i += 1
    return items


def prometheus_matrix(target: int) -> bytes:
    series = _fill(
        lambda i: {
            "metric": {
                "__name__": "http_requests_total",
                "job": f"job-{i}",
                "instance": f"10.0.{i % 250}.{i % 7}:9100",
            },
            "values": [[1_767_225_600 + 15 * j, str(j * 0.25)] for j in range(2000)],
        },
        target,
    )
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": series}}).encode()


def _log_doc(i: int) -> dict:
    return {
        "@timestamp": f"2026-01-01T00:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}Z",
        "level": "ERROR" if i % 9 == 0 else "INFO",
        "service": f"svc-{i % 12}",
        "message": f"request {i} handled in {i % 700} ms for tenant_{i % 40:03d}",
        "trace_id": f"{i:032x}",
        "endpoint": f"/api/v1/items/{i % 50}",
        "status": 500 if i % 9 == 0 else 200,
    }


def elasticsearch_hits(target: int) -> bytes:
    hits = _fill(
        lambda i: {
            "_index": "logs-2026.01.01",
            "_id": f"id-{i}",
            "_source": _log_doc(i),
            "sort": [T0_NS // 1_000_000 - i],
        },
        target,
    )
    return json.dumps(
        {"took": 5, "timed_out": False, "_shards": {"total": 1, "successful": 1, "failed": 0}, "hits": {"hits": hits}}
    ).encode()


def loki_streams(target: int) -> bytes:
    per_stream = 2000
    streams = _fill(
        lambda i: {
            "stream": {"service_name": f"svc-{i}", "namespace": "production", "level": "info"},
            "values": [
                [str(T0_NS - (i * per_stream + j) * 1_000_000), json.dumps(_log_doc(i * per_stream + j))]
                for j in range(per_stream)
            ],
        },
        target,
    )
    return json.dumps({"status": "success", "data": {"resultType": "streams", "result": streams, "stats": {}}}).encode()


def _jaeger_span(i: int) -> dict:
    refs = [] if i == 0 else [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": f"{i // 4 + 1:016x}"}]
    tags = [
        {"key": "span.kind", "type": "string", "value": "server" if i % 2 else "client"},
        {"key": "http.route", "type": "string", "value": f"/api/v1/items/{i % 50}"},
        {"key": "http.status_code", "type": "int64", "value": 500 if i % 50 == 0 else 200},
        {"key": "tenant_id", "type": "string", "value": f"t{i % 7}"},
    ]
    return {
        "traceID": TRACE_ID,
        "spanID": f"{i + 1:016x}",
        "operationName": f"op-{i % 40}",
        "references": refs,
        "startTime": T0_NS // 1000 + i * 10,
        "duration": 1000 + i % 500,
        "tags": tags,
        "logs": [],
        "processID": f"p{i % 20}",
        "warnings": None,
    }


def jaeger_traces(target: int) -> bytes:
    spans = _fill(_jaeger_span, target)
    processes = {
        f"p{k}": {"serviceName": f"svc-{k}", "tags": [{"key": "hostname", "type": "string", "value": f"host-{k}"}]}
        for k in range(20)
    }
    return json.dumps(
        {
            "data": [{"traceID": TRACE_ID, "spans": spans, "processes": processes, "warnings": None}],
            "total": 1,
            "limit": 0,
            "offset": 0,
            "errors": None,
        }
    ).encode()


def tempo_trace(target: int) -> bytes:
    def span(i: int) -> dict:
        return {
            "traceId": TRACE_ID,
            "spanId": f"{i + 1:016x}",
            "parentSpanId": "" if i == 0 else f"{i // 4 + 1:016x}",
            "name": f"op-{i % 40}",
            "kind": "SPAN_KIND_SERVER",
            "startTimeUnixNano": str(T0_NS + i * 10_000),
            "endTimeUnixNano": str(T0_NS + i * 10_000 + 1_000_000),
            "attributes": [
                {"key": "http.route", "value": {"stringValue": f"/api/v1/items/{i % 50}"}},
                {"key": "http.status_code", "value": {"intValue": "200"}},
            ],
            "status": {},
        }

    spans = _fill(span, target)
    per = -(-len(spans) // 20)
    batches = [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": f"svc-{k}"}}]},
            "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans[k * per : (k + 1) * per]}],
        }
        for k in range(20)
    ]
    return json.dumps({"trace": {"resourceSpans": batches}}).encode()


def alertmanager_alerts(target: int) -> bytes:
    alerts = _fill(
        lambda i: {
            "labels": {
                "alertname": f"HighErrorRate{i % 30}",
                "severity": ("critical", "warning", "info")[i % 3],
                "service": f"svc-{i % 12}",
                "instance": f"10.0.{i % 250}.{i % 9}:9100",
            },
            "annotations": {
                "summary": f"error rate above 5% on svc-{i % 12} for 10 minutes ({i})",
                "runbook_url": "https://runbooks.example/high-error-rate",
            },
            "startsAt": "2026-01-01T00:00:00.000Z",
            "endsAt": "2026-01-01T01:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:30.000Z",
            "fingerprint": f"{i:016x}",
            "receivers": [{"name": "oncall"}],
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": [], "mutedBy": []},
            "generatorURL": "http://prometheus:9090/graph",
        },
        target,
    )
    return json.dumps(alerts).encode()


#: kind -> (the path of its big answer, how to build it, the small answers of its other questions by path suffix)
KINDS = {
    "prometheus": ("/api/v1/query_range", prometheus_matrix, {}),
    "elasticsearch": (
        "/_search",
        elasticsearch_hits,
        {"/_pit": (404, {"error": {"type": "index_not_found_exception", "reason": "no such index"}, "status": 404})},
    ),
    "loki": (
        "/loki/api/v1/query_range",
        loki_streams,
        {
            "/loki/api/v1/labels": (200, {"status": "success", "data": ["service_name", "namespace"]}),
            "/values": (200, {"status": "success", "data": ["production"]}),
            "/loki/api/v1/series": (200, {"status": "success", "data": []}),
        },
    ),
    "jaeger": (
        "/api/traces",
        jaeger_traces,
        {"/api/services": (200, {"data": ["svc-0"], "total": 1}), "/api/v3/services": (404, {"error": "not found"})},
    ),
    "tempo": ("/api/v2/traces/", tempo_trace, {}),
    "alertmanager": (
        "/api/v2/alerts",
        alertmanager_alerts,
        {"/api/v2/status": (200, {"versionInfo": {"version": "0.25.0"}, "cluster": {}, "config": {}})},
    ),
}
SMALL_PROMETHEUS = {"status": "success", "data": {"resultType": "vector", "result": []}}


class AnswerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, huge_bytes: int, big_bytes: int, kinds: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.huge_bytes = huge_bytes
        self.bodies = {kind: KINDS[kind][1](big_bytes) for kind in kinds}
        self.released = threading.Event()
        self.sent_at: float | None = None
        self.big_sent = 0
        self.waiting = 0


class _Handler(BaseHTTPRequestHandler):
    server: AnswerServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        mode, _, rest = self.path.split("?", 1)[0].lstrip("/").partition("/")
        rest = "/" + rest
        try:
            if mode == "control":
                self._control(rest)
            elif mode == "huge":
                self._huge()
            elif mode == "hang":
                time.sleep(3600)
            elif mode == "big":
                kind, _, path = rest.lstrip("/").partition("/")
                self._big(kind, "/" + path)
            else:
                self._send(404, b'{"error": "unknown mode"}')
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _control(self, what: str) -> None:
        if what == "/release":
            self.server.released.set()
        elif what == "/reset":
            self.server.released.clear()
            self.server.sent_at = None
            self.server.waiting = 0
        self._send(
            200,
            json.dumps(
                {"sent_at": self.server.sent_at, "big_sent": self.server.big_sent, "waiting": self.server.waiting}
            ).encode(),
        )

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b'"' + b"x" * (CHUNK - 4) + b'",'
        sent, first = 0, b"["
        while sent < self.server.huge_bytes:
            data = first + piece
            first = b""
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            sent += len(data)
        tail = b'"end"]'
        self.wfile.write(f"{len(tail):x}\r\n".encode() + tail + b"\r\n0\r\n\r\n")

    def _big(self, kind: str, path: str) -> None:
        big_path, _, small = KINDS[kind]
        if path.endswith(big_path) or (big_path.endswith("/") and big_path in path):
            self.server.waiting += 1
            self.server.released.wait()
            body = self.server.bodies[kind]
            self._send(200, body)
            self.wfile.flush()
            self.server.sent_at = time.perf_counter()
            self.server.big_sent += 1
            return
        for suffix, (status, answer) in small.items():
            if path.endswith(suffix):
                self._send(status, json.dumps(answer).encode())
                return
        self._send(200, json.dumps(SMALL_PROMETHEUS if kind == "prometheus" else {}).encode())

    do_GET = do_POST = do_DELETE = _handle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port-file", type=Path, required=True, help="where to write the port once listening")
    parser.add_argument("--huge-mb", type=float, default=300)
    parser.add_argument("--big-mb", type=float, default=50)
    parser.add_argument("--kinds", default=",".join(KINDS), help="the big answers to build")
    args = parser.parse_args()
    server = AnswerServer(int(args.huge_mb * 1e6), int(args.big_mb * 1e6), [k for k in args.kinds.split(",") if k])
    args.port_file.write_text(str(server.server_address[1]))
    server.serve_forever(poll_interval=0.05)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
