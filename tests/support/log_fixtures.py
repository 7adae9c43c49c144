"""Servers and documents for the log-source tests: a small in-memory ``_search`` that keeps
the documented sort/search_after/PIT semantics, and a real websocket server for Loki's tail.

Written from the Elasticsearch/OpenSearch and Loki API docs; the captured real responses are
read from ../shared at test time (tests.support.servers.real_fixture), never copied here.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from urllib.parse import parse_qs, urlsplit

from werkzeug import Request, Response

# --- Elasticsearch / OpenSearch -------------------------------------------------------------


@dataclass
class Doc:
    index: str
    id: str
    ts_ms: int
    source: dict


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def es_error_body(etype: str, reason: str, status: int, **extra: Any) -> dict:
    cause = {"type": etype, "reason": reason, **extra}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


@dataclass
class FakeSearch:
    """``_search`` over ``docs`` as the docs describe it: sort on the timestamp (with
    ``_shard_doc`` when a PIT is used), ``search_after`` exclusive, ``size`` hits.

    Without ``mapping`` the query itself is not evaluated (the time range is): tests put in only
    the documents that match. With ``mapping`` ("dynamic" or "logs-data-stream", see
    tests/support/es_semantics.py) each document's index gets that mapping, the query is
    evaluated by those rules and ``_field_caps`` answers from the mappings. ``envelope`` (a real
    captured ``_search`` answer) gives the answer's shape: its keys, with the hits replaced."""

    docs: list[Doc]
    pit: str = "none"  # "none" (no PIT API), "es" (_pit) or "opensearch" (_search/point_in_time)
    requests: list[dict] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    mapping: Any = None  # None, a style for every index, or index name -> style
    envelope: dict | None = None
    caps_requests: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        from tests.support.es_semantics import Index

        self.indices: dict[str, Index] = {}
        if self.mapping is not None:
            for d in self.docs:
                style = self.mapping(d.index) if callable(self.mapping) else self.mapping
                self.indices.setdefault(d.index, Index(d.index, style)).add(d.source)

    def install(self, server, index: str = "logs-*") -> None:
        server.expect_request(f"/{index}/_search", method="POST").respond_with_handler(self.search)
        server.expect_request("/_search", method="POST").respond_with_handler(self.search)
        if self.mapping is not None:
            server.expect_request(f"/{index}/_field_caps", method="GET").respond_with_handler(self.field_caps)
        if self.pit == "es":
            server.expect_request(f"/{index}/_pit", method="POST").respond_with_handler(self.open_pit)
            server.expect_request("/_pit", method="DELETE").respond_with_handler(self.close_pit)
        elif self.pit == "opensearch":
            server.expect_request(f"/{index}/_search/point_in_time", method="POST").respond_with_handler(self.open_pit)
            server.expect_request("/_search/point_in_time", method="DELETE").respond_with_handler(self.close_pit)
        else:
            # What Elasticsearch 7.9 says to an unknown endpoint.
            server.expect_request(f"/{index}/_pit", method="POST").respond_with_json(
                es_error_body(
                    "illegal_argument_exception",
                    "request [/logs-*/_pit] contains unrecognized parameter: [keep_alive]",
                    400,
                ),
                status=400,
            )
            server.expect_request(f"/{index}/_search/point_in_time", method="POST").respond_with_json(
                es_error_body("illegal_argument_exception", "no handler found", 400), status=400
            )

    def open_pit(self, request: Request) -> Response:
        pit_id = f"pit-{len(self.opened) + 1}"
        self.opened.append(pit_id)
        return json_response(
            {"id": pit_id} if self.pit == "es" else {"pit_id": pit_id, "_shards": {}, "creation_time": 0}
        )

    def close_pit(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        ids = body.get("id") or body.get("pit_id")
        self.closed.extend(ids if isinstance(ids, list) else [ids])
        return json_response({"succeeded": True, "num_freed": 1})

    def field_caps(self, request: Request) -> Response:
        from tests.support.es_semantics import field_caps

        self.caps_requests.append(dict(request.args))
        return json_response(field_caps(self.indices.values(), request.args.get("fields", "")))

    def _matches(self, query: dict, doc: Doc) -> bool:
        if self.mapping is None:
            return True
        from tests.support.es_semantics import Matcher

        return Matcher(self.indices[doc.index], doc.source).matches(query)

    def search(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.requests.append({"path": request.path, "body": body})
        sort = body["sort"]
        ts_field = next(iter(sort[0]))
        desc = sort[0][ts_field]["order"] == "desc"
        user_query, time_filter = body["query"]["bool"]["filter"]
        rng = time_filter["range"][ts_field]
        lo, hi = _iso_ms(rng["gte"]), _iso_ms(rng["lte"])
        shard_doc = len(sort) > 1
        rows = [
            (d.ts_ms, n, d) for n, d in enumerate(self.docs) if lo <= d.ts_ms <= hi and self._matches(user_query, d)
        ]
        rows.sort(key=lambda r: (r[0], r[1]), reverse=desc)
        after = body.get("search_after")
        if after:
            key = tuple(after) if shard_doc else (after[0],)
            width = len(key)
            rows = [r for r in rows if ((r[0], r[1])[:width] < key if desc else (r[0], r[1])[:width] > key)]
        hits = []
        for ts, n, d in rows[: body["size"]]:
            hits.append(
                {
                    "_index": d.index,
                    "_id": d.id,
                    "_score": None,
                    "_source": d.source,
                    "sort": [ts, n] if shard_doc else [ts],
                }
            )
        if self.envelope is not None:
            import copy

            out: dict[str, Any] = copy.deepcopy(self.envelope)
            out["hits"]["hits"] = hits
        else:
            out = {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"max_score": None, "hits": hits},
            }
        if "pit" in body:
            out["pit_id"] = body["pit"]["id"]
        return json_response(out)


def _iso_ms(text: str) -> int:
    from zeta_tui.backends.logs.records import parse_timestamp_ns

    ns = parse_timestamp_ns(text)
    assert ns is not None, text
    return ns // 1_000_000


# --- Loki tail websocket ----------------------------------------------------------------------

Frames = Callable[[dict[str, list[str]]], Awaitable[list[Any]] | list[Any]]


class TailServer:
    """A real websocket server (wsproto over asyncio) answering /loki/api/v1/tail.

    ``script(params)`` gives, per connection, the frames to send (dicts become JSON text);
    the marker ``"CLOSE"`` ends the connection cleanly and ``"DROP"`` cuts the TCP connection
    mid-stream; after the frames the server waits for the client to go. ``refuse`` answers
    the upgrade with a plain HTTP status, as a proxy that blocks websockets does."""

    def __init__(
        self, script: Frames, *, refuse: int | None = None, frame_gap: float = 0.01, routes: dict | None = None
    ) -> None:
        self.script = script
        self.refuse = refuse
        self.routes = routes or {}  # path -> callable(params) -> JSON body, for plain GETs
        self.http_requests: list[tuple[str, dict]] = []
        self.frame_gap = frame_gap
        self.connections: list[dict[str, list[str]]] = []
        self.headers: list[dict[str, str]] = []
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> TailServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, family=socket.AF_INET)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    _writers: set = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, CloseConnection, Ping, TextMessage
        from wsproto.events import Request as WsRequest

        self._writers = self._writers | {writer}
        ws = WSConnection(ConnectionType.SERVER)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = await reader.read(65536)
                if not data:
                    return
                head += data
            target = head.split(b" ", 2)[1].decode()
            path = urlsplit(target).path
            if path != "/loki/api/v1/tail" or self.refuse is not None:
                if path in self.routes:
                    params = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
                    self.http_requests.append((path, params))
                    payload = json.dumps(self.routes[path](params)).encode()
                    status = "200 OK"
                else:
                    payload = b"websockets are blocked\n"
                    status = f"{self.refuse or 404} Blocked"
                writer.write(
                    (
                        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: "
                        f"{len(payload)}\r\nConnection: close\r\n\r\n"
                    ).encode()
                    + payload
                )
                await writer.drain()
                return
            request = None
            ws.receive_data(head)
            for event in ws.events():
                if isinstance(event, WsRequest):
                    request = event
            if request is None:
                return
            parts = urlsplit(request.target)
            params = parse_qs(parts.query)
            self.connections.append(params)
            self.headers.append({k.decode().lower(): v.decode() for k, v in request.extra_headers})
            writer.write(ws.send(AcceptConnection()))
            await writer.drain()
            frames = self.script(params)
            if asyncio.iscoroutine(frames):
                frames = await frames
            for frame in frames:
                await asyncio.sleep(self.frame_gap)
                if frame == "DROP":
                    writer.transport.abort()
                    return
                if frame == "CLOSE":
                    writer.write(ws.send(CloseConnection(code=1000, reason="tail ended")))
                    await writer.drain()
                    return
                text = frame if isinstance(frame, str) else json.dumps(frame)
                writer.write(ws.send(TextMessage(data=text)))
                await writer.drain()
            while True:  # keep the stream open, answering pings, until the client leaves
                data = await reader.read(65536)
                if not data:
                    return
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, Ping):
                        writer.write(ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        writer.write(ws.send(event.response()))
                        await writer.drain()
                        return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._writers = self._writers - {writer}
            writer.close()


def loki_frame(
    stream: dict[str, str], entries: list[tuple[int, str]], dropped: list[tuple[int, dict]] | None = None
) -> dict:
    frame: dict[str, Any] = {"streams": [{"stream": stream, "values": [[str(ns), line] for ns, line in entries]}]}
    if dropped:
        frame["dropped_entries"] = [{"timestamp": str(ns), "labels": labels} for ns, labels in dropped]
    return frame


def seed_line(ns: int, level: str, message: str, **extra: Any) -> str:
    """A log line in the seed's structured format."""
    from datetime import datetime

    secs, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(secs, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"
    doc = {
        "timestamp": stamp,
        "level": level,
        "service": extra.pop("service", "backend-api"),
        "trace_id": extra.pop("trace_id", f"{ns:032x}"[-32:]),
        "span_id": extra.pop("span_id", f"{ns:016x}"[-16:]),
        "tenant_id": extra.pop("tenant_id", "tenant_001"),
        "message": message,
        **extra,
    }
    return json.dumps(doc, ensure_ascii=False)


@dataclass
class FakeLoki:
    """``/loki/api/v1/query_range`` over ``entries`` (labels, ns, line) as the docs describe
    it: start inclusive, end exclusive, ``limit`` entries in ``direction`` order, grouped by
    stream. The LogQL is recorded, not evaluated. ``/labels``, ``/label/<name>/values`` and
    ``/series`` answer the names, values and sets of the entries' stream labels in the asked
    range."""

    entries: list[tuple[dict, int, str]]
    requests: list[dict] = field(default_factory=list)  # query_range's
    label_requests: list[dict] = field(default_factory=list)  # /labels, /label/<name>/values, /series
    extra: dict = field(default_factory=dict)  # merged into "data" (stats) or the top level

    def install(self, server) -> None:
        import re

        server.expect_request("/loki/api/v1/query_range", method="GET").respond_with_handler(self.query_range)
        server.expect_request("/loki/api/v1/labels", method="GET").respond_with_handler(self.labels)
        server.expect_request(re.compile(r"/loki/api/v1/label/[^/]+/values"), method="GET").respond_with_handler(
            self.label_values
        )
        server.expect_request("/loki/api/v1/series", method="GET").respond_with_handler(self.series)

    def _in_range(self, request: Request) -> list[dict]:
        # The label APIs take the same start/end as query_range (the docs: default the last 6 h).
        start, end = int(request.args.get("start", 0)), int(request.args.get("end", 2**63 - 1))
        return [labels for labels, ns, _ in self.entries if start <= ns < end]

    def labels(self, request: Request) -> Response:
        self.label_requests.append({"path": request.path, **request.args})
        return json_response(
            {"status": "success", "data": sorted({k for labels in self._in_range(request) for k in labels})}
        )

    def series(self, request: Request) -> Response:
        # Every stream in the range (the match[] selector is recorded, not evaluated).
        self.label_requests.append({"path": request.path, **request.args})
        streams = {json.dumps(labels, sort_keys=True) for labels in self._in_range(request)}
        return json_response({"status": "success", "data": [json.loads(s) for s in sorted(streams)]})

    def label_values(self, request: Request) -> Response:
        self.label_requests.append({"path": request.path, **request.args})
        name = request.path.split("/")[-2]
        return json_response(
            {
                "status": "success",
                "data": sorted({labels[name] for labels in self._in_range(request) if name in labels}),
            }
        )

    def query_range(self, request: Request) -> Response:
        args = request.args
        self.requests.append(dict(args))
        start, end, limit = int(args["start"]), int(args["end"]), int(args["limit"])
        backward = args.get("direction", "backward") == "backward"
        rows = [(ns, n, labels, line) for n, (labels, ns, line) in enumerate(self.entries) if start <= ns < end]
        rows.sort(key=lambda r: (r[0], r[1]), reverse=backward)
        streams: dict[str, dict] = {}
        for ns, _n, labels, line in rows[:limit]:
            key = json.dumps(labels, sort_keys=True)
            streams.setdefault(key, {"stream": labels, "values": []})["values"].append([str(ns), line])
        body = {
            "status": "success",
            "data": {
                "resultType": "streams",
                "result": list(streams.values()),
                "stats": {"summary": {"totalLinesProcessed": len(rows)}},
            },
        }
        body.update(self.extra)
        return json_response(body)
