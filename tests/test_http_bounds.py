"""Every read is bounded: bytes, time per action, and the words when a bound is hit.

Against a real misbehaving HTTP server on 127.0.0.1 (tests/support/faults.py).
"""

from __future__ import annotations

import asyncio
import resource
import time

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.faults import fault_server
from zeta_tui.backends.json_pieces import decode_json
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.models import PrometheusConfig
from zeta_tui.errors import AnswerTooLarge, BackendTimeout, BackendUnavailable, NotConfigured
from zeta_tui.models.snapshot import PaneState, Snapshot, retry_delay

MIB = 1024 * 1024


def _client(fault: str, **cfg) -> PrometheusClient:
    return PrometheusClient(PrometheusConfig(url=fault_server().url(fault), **cfg))


async def test_an_answer_over_the_cap_stops_the_read_and_says_how_to_ask_for_less() -> None:
    client = _client(f"huge/{40 * MIB}", max_response_bytes=MIB, timeout_seconds=20)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.monotonic()
    with pytest.raises(AnswerTooLarge) as info:
        await client.query("up")
    await client.aclose()
    assert time.monotonic() - began < 5  # stopped at 1 MiB, not after 40
    # the read stopped: the process did not grow by the answer's size (ru_maxrss is in KiB)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20 * 1024
    text = info.value.render()
    assert "1 MiB cap" in text and "prometheus at http://127.0.0.1" in text
    assert "narrower time range" in text and "max_response_bytes" in text


async def test_a_declared_length_over_the_cap_fails_before_reading() -> None:
    client = _client(f"declared/{500 * MIB}", max_response_bytes=MIB, timeout_seconds=3)
    began = time.monotonic()
    with pytest.raises(AnswerTooLarge, match="it declared 500 MiB"):
        await client.query("up")
    await client.aclose()
    assert time.monotonic() - began < 2  # the server holds the body back for 5 s


async def test_an_answer_under_the_cap_is_read_whole() -> None:
    client = _client(f"huge/{3 * MIB}", max_response_bytes=8 * MIB, timeout_seconds=20)
    resp = await client.request("GET", "/anything")
    await client.aclose()
    assert resp.status_code == 200 and orjson.loads(resp.content)[-1] == "end"


async def test_a_server_dripping_a_byte_a_second_cannot_outlast_the_timeout() -> None:
    client = _client("drip", timeout_seconds=1.5)
    began = time.monotonic()
    with pytest.raises(BackendTimeout):
        await client.query("up")
    await client.aclose()
    assert time.monotonic() - began < 3


async def test_requests_in_one_action_share_one_deadline() -> None:
    client = _client("drip", timeout_seconds=1.5)
    began = time.monotonic()
    async with client.action():
        for _ in range(3):  # the first uses up the budget; the others fail at once
            with pytest.raises(BackendTimeout):
                await client.query("up")
    await client.aclose()
    assert time.monotonic() - began < 2.5  # not 3 x 1.5 s


async def test_429_honours_retry_after() -> None:
    client = _client("status/429")
    with pytest.raises(BackendUnavailable) as info:
        await client.query("up")
    await client.aclose()
    assert (
        info.value.retry_after == 7
        and "HTTP 429" in info.value.message
        and "status 429 from the fault server" in info.value.message
    )
    assert retry_delay(info.value, 1, 2.0) == 7  # the pane waits as long as the server asked
    assert retry_delay(info.value, 3, 2.0) == 8  # or its own backoff when that is longer


async def test_a_redirect_loop_is_named() -> None:
    client = _client("loop")
    with pytest.raises(BackendUnavailable, match="redirect loop") as info:
        await client.query("up")
    await client.aclose()
    assert "/loop/api/v1/query" in info.value.message


async def test_an_html_error_page_is_one_line_with_its_title() -> None:
    client = _client("html500")
    with pytest.raises(BackendUnavailable) as info:
        await client.query("up")
    await client.aclose()
    message = info.value.message
    assert "HTTP 500" in message and "502 Bad Gateway" in message and "<" not in message and "\n" not in message
    assert len(message) < 160 and info.value.hint


async def test_a_backend_recovers_on_the_next_try() -> None:
    fault_server().counts.pop("flaky/2", None)
    client = _client("flaky/2")
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            await client.query("up")
    assert (await client.query("up")).data == []
    await client.aclose()


def test_a_missing_section_is_not_an_error_and_is_not_retried() -> None:
    error = NotConfigured("context 'x' has no [prometheus] section", hint="add [contexts.x.prometheus]")
    snapshot = Snapshot().failed(error, None)
    assert snapshot.state(0.0, 10.0) is PaneState.NOT_CONFIGURED
    assert retry_delay(error, 1, 10.0) is None


# --- decoding in pieces ------------------------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_pieces_decode_what_orjson_decodes(value) -> None:
    body = orjson.dumps(value)
    import zeta_tui.backends.json_pieces as pieces

    small, piece = pieces.SMALL_BYTES, pieces.PIECE_BYTES
    pieces.SMALL_BYTES, pieces.PIECE_BYTES = 0, 8  # split everything, however small
    try:
        assert decode_json(body) == orjson.loads(body)
    finally:
        pieces.SMALL_BYTES, pieces.PIECE_BYTES = small, piece


def test_pieces_raise_what_orjson_raises_on_broken_json() -> None:
    body = b'{"data": [' + b'"x",' * 400_000 + b" oops]}"
    with pytest.raises(orjson.JSONDecodeError):
        decode_json(body)


async def test_a_large_answer_is_decoded_off_the_event_loop() -> None:
    """While a large matrix is decoded, the event loop keeps ticking (a key would be handled)."""
    import threading

    from tests.support.faults import FaultServer

    series = [
        {"metric": {"job": f"j{i}"}, "values": [[1_700_000_000 + j, str(j)] for j in range(2_000)]} for i in range(400)
    ]
    body = orjson.dumps({"status": "success", "data": {"resultType": "matrix", "result": series}})
    assert len(body) > 10 * MIB
    loop_thread = threading.get_ident()
    seen_threads: set[int] = set()
    import zeta_tui.backends.prometheus as prometheus

    original = prometheus._matrix

    def spy(result):
        seen_threads.add(threading.get_ident())
        return original(result)

    prometheus._matrix = spy
    server = FaultServer()
    try:
        import http.server

        class Serve(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server.RequestHandlerClass = Serve
        client = PrometheusClient(
            PrometheusConfig(url=f"http://127.0.0.1:{server.server_address[1]}", timeout_seconds=30)
        )
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        result = await client.query_range("x", 0, 1, 1)
        ticker.cancel()
        await client.aclose()
    finally:
        prometheus._matrix = original
        server.shutdown()
    assert len(result.data) == 400 and len(result.data[0].samples) == 2_000
    assert seen_threads and loop_thread not in seen_threads  # built in a worker thread
    assert ticks > 0


async def test_a_json_answer_with_a_wrong_content_type_is_read(httpserver) -> None:
    body = orjson.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"job": "a"}, "value": [1, "2"]}]}}
    )
    httpserver.expect_request("/api/v1/query").respond_with_data(body, content_type="text/html; charset=iso-8859-1")
    client = PrometheusClient(PrometheusConfig(url=httpserver.url_for("").rstrip("/")))
    assert [s.v for s in (await client.query("a")).data] == [2.0]
    await client.aclose()


@pytest.mark.console  # the whole console through Textual's pilot
async def test_a_pane_is_fresh_again_within_one_retry_after_its_backend_heals() -> None:
    """A real console against a server that is down, then heals: the pane goes from error to fresh
    on the first retry after the healing, not later."""
    from zeta_tui.config.models import ContextConfig, ZetaConfig
    from zeta_tui.launch import build_app
    from zeta_tui.widgets.pane_status import PaneStatus

    server = fault_server()
    server.broken.add("heal")
    context = ContextConfig(
        prometheus=PrometheusConfig(url=server.url("switch/heal"), timeout_seconds=2), refresh_seconds=1
    )
    app = build_app(ZetaConfig(default_context="r", contexts={"r": context}), "r", live=True)

    def pane() -> str:
        return str(app.screen.query_one(PaneStatus).render())

    async with app.run_test(size=(100, 30)) as pilot:
        began = time.monotonic()
        while "✖ error" not in pane() and time.monotonic() - began < 10:
            await pilot.pause(0.05)
        assert "✖ error" in pane() and "retry in" in pane(), pane()
        await pilot.pause(2.5)  # a retry or two fail, so the backoff has grown past one period
        countdown = int(pane().rsplit("retry in ", 1)[1].split("s")[0])
        server.broken.discard("heal")
        healed = time.monotonic()
        while not pane().startswith("● fresh") and time.monotonic() - healed < 20:
            await pilot.pause(0.05)
        took = time.monotonic() - healed
        last = pane()
    assert last.startswith("● fresh"), last
    assert took <= countdown + 1.5, (took, countdown)  # the next retry, not a later one
