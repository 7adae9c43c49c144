"""LokiLogSource.tail against a real websocket server on 127.0.0.1 (wsproto over asyncio):
frames, dropped entries, a connection cut mid-stream, a refused upgrade."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.log_fixtures import TailServer, loki_frame, seed_line
from tests.support.servers import real_fixture
from zeta_tui.backends.logs.loki import LogQL, LokiLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.models.logs import LogPage

T0 = 1_767_225_600 * 10**9
Q = LogQL('{app="api"}')
STREAM = {"app": "api", "namespace": "production"}


def source(url: str, **extra) -> LokiLogSource:
    src = LokiLogSource(LogsConfig(kind="loki", url=url, **extra))
    src.reconnect_delay = 0.01
    src.poll_seconds = 0.05
    return src


async def collect(src: LokiLogSource, since_ns: int, *, records: int, timeout: float = 5.0) -> list[LogPage]:
    """Pages from the tail until ``records`` records have come (or the timeout passes)."""
    pages: list[LogPage] = []

    async def run() -> None:
        total = 0
        async for page in src.tail(Q, since_ns):
            pages.append(page)
            total += len(page.records)
            if total >= records:
                return

    try:
        await asyncio.wait_for(run(), timeout)
    except TimeoutError:
        pass
    return pages


async def test_the_captured_frame_with_dropped_entries() -> None:
    raw = real_fixture("loki/tail-ws-frame-compact.json").decode()
    frame = json.loads(raw)
    async with TailServer(lambda params: [raw]) as server:
        src = source(server.url)
        pages = await collect(src, 0, records=1)
        await src.aclose()
    records = [r for p in pages for r in p.records]
    assert [(r.timestamp_ns, r.message, r.service) for r in records] == [(1, "foobar", "foo")]
    assert sum(p.dropped for p in pages) == len(frame["dropped_entries"]) == 1


async def test_frames_flow_with_auth_headers_and_dropped_counts() -> None:
    lines = [(T0 + i, seed_line(T0 + i, "INFO", f"request {i}")) for i in range(6)]
    frames = [
        loki_frame(STREAM, lines[:3]),
        loki_frame(STREAM, lines[3:], dropped=[(T0 + 10, STREAM), (T0 + 11, STREAM)]),
    ]
    async with TailServer(lambda params: frames) as server:
        src = source(server.url, headers={"X-Scope-OrgID": "zeta"}, bearer_token="s3cret")
        pages = await collect(src, T0, records=6)
        await src.aclose()
    assert [r.message for p in pages for r in p.records] == [f"request {i}" for i in range(6)]
    assert sum(p.dropped for p in pages) == 2
    params, headers = server.connections[0], server.headers[0]
    assert params["query"] == ['{app="api"}'] and params["start"] == [str(T0)]
    assert headers["x-scope-orgid"] == "zeta" and headers["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("how", ["DROP", "CLOSE"])
async def test_reconnect_resumes_from_the_last_timestamp_without_duplicates(how: str) -> None:
    lines = [(T0 + i * 1000, seed_line(T0 + i * 1000, "INFO", f"line {i}")) for i in range(8)]

    def script(params: dict) -> list:
        start = int(params["start"][0])
        # Like Loki: replay from start (inclusive), so the last line seen comes again.
        todo = [(ns, line) for ns, line in lines if ns >= start]
        if start == T0:
            return [loki_frame(STREAM, todo[:2]), loki_frame(STREAM, todo[2:4]), how]
        return [loki_frame(STREAM, todo[:2]), loki_frame(STREAM, todo[2:])]

    async with TailServer(script) as server:
        src = source(server.url)
        pages = await collect(src, T0, records=8)
        await src.aclose()
    messages = [r.message for p in pages for r in p.records]
    assert messages == [f"line {i}" for i in range(8)]
    assert [c["start"] for c in server.connections] == [[str(T0)], [str(T0 + 3000)]]
    notes = [w for p in pages for w in p.warnings]
    assert any("reconnecting from 2026-01-01T00:00:00.000003000Z" in w for w in notes)
    if how == "CLOSE":
        assert any("1000" in w and "tail ended" in w for w in notes)


async def test_a_huge_line_and_unicode_come_through_the_websocket() -> None:
    huge = "ü" * 600_000
    frame = loki_frame(STREAM, [(T0, json.dumps({"level": "warn", "message": huge})), (T0 + 1, "🚀 déployé")])
    async with TailServer(lambda params: [frame]) as server:
        src = source(server.url)
        pages = await collect(src, T0, records=2)
        await src.aclose()
    records = [r for p in pages for r in p.records]
    assert records[0].message == huge and records[0].level == "WARN"
    assert records[1].message == "🚀 déployé"


@pytest.mark.parametrize("status", [403, 502])
async def test_refused_upgrade_falls_back_to_polling_with_a_warning(status: int) -> None:
    lines = [(T0 + i, seed_line(T0 + i, "INFO", f"polled {i}")) for i in range(3)]

    def query_range(params: dict) -> dict:
        start, end = int(params["start"]), int(params["end"])
        values = [[str(ns), line] for ns, line in lines if start <= ns < end]
        return {
            "status": "success",
            "data": {"resultType": "streams", "result": [{"stream": STREAM, "values": values}]},
        }

    async with TailServer(lambda params: [], refuse=status, routes={"/loki/api/v1/query_range": query_range}) as server:
        src = source(server.url)
        pages = await collect(src, T0, records=3)
        await src.aclose()
    assert "websocket" in pages[0].warnings[0] and "polling" in pages[0].warnings[0]
    assert f"HTTP {status}" in pages[0].warnings[0] and "websockets are blocked" in pages[0].warnings[0]
    assert [r.message for p in pages for r in p.records] == ["polled 0", "polled 1", "polled 2"]
    assert server.http_requests and server.http_requests[0][1]["query"] == '{app="api"}'


async def test_nothing_listening_falls_back_to_polling_and_reports_the_failure() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    src = source(f"http://127.0.0.1:{port}")
    gen = src.tail(Q, T0)
    first = await asyncio.wait_for(gen.__anext__(), 5)
    assert "websocket unavailable" in first.warnings[0]
    from zeta_tui.errors import BackendUnavailable

    with pytest.raises(BackendUnavailable):
        await asyncio.wait_for(gen.__anext__(), 5)
    await gen.aclose()
    await src.aclose()


async def test_websocket_that_keeps_being_refused_after_working_falls_back_to_polling() -> None:
    first = [(T0 + i, seed_line(T0 + i, "INFO", f"live {i}")) for i in range(2)]
    later = [(T0 + 10 + i, seed_line(T0 + 10 + i, "INFO", f"polled {i}")) for i in range(2)]
    holder: dict = {}

    def script(params: dict) -> list:
        holder["server"].refuse = 400  # every later upgrade is refused, as at Loki's tail limit
        return [loki_frame(STREAM, first), "CLOSE"]

    def query_range(params: dict) -> dict:
        start, end = int(params["start"]), int(params["end"])
        values = [[str(ns), line] for ns, line in first + later if start <= ns < end]
        return {
            "status": "success",
            "data": {"resultType": "streams", "result": [{"stream": STREAM, "values": values}]},
        }

    async with TailServer(script, routes={"/loki/api/v1/query_range": query_range}) as server:
        holder["server"] = server
        src = source(server.url)
        pages = await collect(src, T0, records=4)
        await src.aclose()
    assert [r.message for p in pages for r in p.records] == ["live 0", "live 1", "polled 0", "polled 1"]
    notes = [w for p in pages for w in p.warnings]
    assert sum("could not reopen the tail" in w for w in notes) == 2
    assert any("polling" in w and "HTTP 400" in w for w in notes)


async def test_stopping_the_tail_closes_the_websocket() -> None:
    frame = loki_frame(STREAM, [(T0, "one")])
    async with TailServer(lambda params: [frame]) as server:
        src = source(server.url)
        gen = src.tail(Q, T0)
        page = await asyncio.wait_for(gen.__anext__(), 5)
        assert [r.message for r in page.records] == ["one"] and len(server._writers) == 1
        await gen.aclose()
        for _ in range(200):
            if not server._writers:
                break
            await asyncio.sleep(0.01)
        assert not server._writers  # the server saw the client go
        await src.aclose()
