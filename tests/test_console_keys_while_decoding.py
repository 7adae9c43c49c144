"""The console answers keys while a large answer is decoded and built (Logs and Traces).

The backend's model building is held in its decode thread (a threading.Event) while a key is
pressed: the key is handled (the help screen opens) before the build is let go. Were the answer
built on the event loop, the key would wait behind it, and the help screen would only open
after the build. Not timed: what is asserted is the order of events.
"""

from __future__ import annotations

import threading

import orjson
import pytest
from pytest_httpserver import HTTPServer

import zeta_tui.backends.logs.elasticsearch as elasticsearch
import zeta_tui.backends.traces.jaeger as jaeger
from zeta_tui.config.models import ContextConfig, LogsConfig, TracesConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.help import HelpScreen
from zeta_tui.widgets.log_view import LogView

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

NOW = 1_740_823_200.0
JSON = "application/json"


class Held:
    """Wraps ``fn`` so that its first call waits, in whatever thread runs it, until let go."""

    def __init__(self, fn) -> None:
        self.fn, self.entered, self.go, self.threads = fn, threading.Event(), threading.Event(), []

    def __call__(self, *args, **kwargs):
        self.threads.append(threading.get_ident())
        self.entered.set()
        self.go.wait(15)
        return self.fn(*args, **kwargs)


async def _key_while_held(pilot, held: Held, screen_key: str, key: str = "question_mark", done=None) -> bool:
    """Open the screen, wait until the build is held, press ``key`` (`?` by default, whose
    handler opens the help screen): was it handled (``done()``) meanwhile?"""
    await pilot.press(screen_key)
    for _ in range(500):
        if held.entered.is_set():
            break
        await pilot.pause(0.02)
    assert held.entered.is_set(), "the answer was never built"
    await pilot.press(key)
    await pilot.pause()
    handled = (done() if done is not None else isinstance(pilot.app.screen, HelpScreen)) and not held.go.is_set()
    held.go.set()
    if done is None:
        await pilot.press("escape")
    return handled


async def _until(pilot, check) -> bool:
    for _ in range(500):
        if check():
            return True
        await pilot.pause(0.02)
    return False


async def test_logs_answers_a_key_while_a_large_search_answer_is_built(httpserver: HTTPServer, monkeypatch) -> None:
    hits = [
        {
            "_index": "svc-logs",
            "_id": f"e{i}",
            "sort": [int(NOW * 1000) - i],
            "_source": {
                "ts": int(NOW * 1000) - i,
                "severity": "warn",
                "text": f"cache miss for basket {i}",
                "pod": f"basket-{i % 4}",
            },
        }
        for i in range(2_000)
    ]
    body = orjson.dumps({"hits": {"hits": hits}})
    assert len(body) > 256 * 1024  # large enough to be decoded off the event loop
    httpserver.expect_request("/svc-logs/_pit", method="POST").respond_with_json({"error": "no pit"}, status=400)
    httpserver.expect_request("/svc-logs/_search", method="POST").respond_with_data(body, content_type=JSON)
    held = Held(elasticsearch.records_from_hits)
    monkeypatch.setattr(elasticsearch, "records_from_hits", held)
    logs = LogsConfig(
        kind="elasticsearch", url=httpserver.url_for("/").rstrip("/"), index="svc-logs", timestamp_field="ts"
    )
    app = build_app(
        ZetaConfig(default_context="w", contexts={"w": ContextConfig(logs=logs, time_range="1h")}),
        "w",
        clock=lambda: NOW,
        live=False,
    )
    loop_thread = threading.get_ident()
    async with app.run_test(size=(120, 40)) as pilot:
        handled = await _key_while_held(pilot, held, "3")
        view = app.screen.query_one(LogView)
        shown = await _until(pilot, lambda: len(view.records) == 2_000)
    assert handled, "the key waited for the build"
    assert held.threads and loop_thread not in held.threads
    assert shown and view.records[-1].message == "cache miss for basket 0"


async def test_traces_answers_a_key_while_a_large_search_answer_is_built(httpserver: HTTPServer, monkeypatch) -> None:
    tid = "0af7651916cd43dd8448eb211c80319c"
    spans = [
        {
            "traceID": tid,
            "spanID": f"{i + 1:016x}",
            "operationName": f"GET /cart/{i % 9}",
            "startTime": int(NOW * 1e6) - 5_000_000 + i,
            "duration": 250,
            "processID": "p1",
            "references": [] if i == 0 else [{"refType": "CHILD_OF", "traceID": tid, "spanID": "0000000000000001"}],
            "tags": [{"key": "http.status_code", "type": "int64", "value": 200}],
        }
        for i in range(3_000)
    ]
    body = orjson.dumps(
        {"data": [{"traceID": tid, "spans": spans, "processes": {"p1": {"serviceName": "cart-api", "tags": []}}}]}
    )
    assert len(body) > 256 * 1024
    httpserver.expect_request("/api/v3/services").respond_with_data("404 page not found", status=404)
    httpserver.expect_request("/api/services").respond_with_json({"data": ["cart-api"]})
    httpserver.expect_request("/api/traces").respond_with_data(body, content_type=JSON)
    held = Held(jaeger.traces_from_jaeger)
    monkeypatch.setattr(jaeger, "traces_from_jaeger", held)
    traces = TracesConfig(kind="jaeger", url=httpserver.url_for("/").rstrip("/"))
    app = build_app(
        ZetaConfig(default_context="w", contexts={"w": ContextConfig(traces=traces, time_range="1h")}),
        "w",
        clock=lambda: NOW,
        live=False,
    )
    loop_thread = threading.get_ident()
    async with app.run_test(size=(120, 40)) as pilot:
        # `s` (sort) rather than `?`: a screen pushed on top would suspend the Traces screen,
        # which then drops its fetch until it is shown again
        handled = await _key_while_held(pilot, held, "4", "s", lambda: app.screen.sort_index == 1)
        # The first answer is dropped by design: the search picked Jaeger's first service into the
        # form meanwhile, so it answers another question. Ask again (r), now with that service.
        await pilot.press("r")
        shown = await _until(pilot, lambda: len(getattr(app.screen, "summaries", ())) == 1)
        summary = app.screen.summaries[0]
    assert handled, "the key waited for the build"
    assert held.threads and loop_thread not in held.threads
    assert shown and summary.span_count == 3_000 and summary.root_service == "cart-api"
