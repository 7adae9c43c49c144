"""The Logs column picker offers the pod, tenant and endpoint under whatever names the source
uses, and shows what is ticked, on three shapes of logs:

- the demo world's otel_logs in an embedded ClickHouse (the pod in ``service.instance.id``);
- a shop's logs in the OpenTelemetry collector exporter's own table (tests/support/k8s_logs.py:
  ``k8s.pod.name``, ``http.route``, ``http.response.status_code``);
- Loki, served over HTTP on 127.0.0.1 in the envelope of a real captured answer
  (../shared/fixtures/real/loki/query-range-streams-categorize-labels.json) with the stream
  labels of Loki's own docs example (series-docs-example.json: Promtail's ``instance`` is the
  pod) and OTLP-style structured metadata (``http_route``, ``tenant_id``).

What each record should show is read from the records as written, never from the screen's code.
"""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

pytest.importorskip("chdb", reason="two of the shapes are in an embedded ClickHouse (pip install chdb)")

from tests.support.console import settled
from tests.support.k8s_logs import T_END as SHOP_END
from tests.support.k8s_logs import TABLE as SHOP_TABLE
from tests.support.k8s_logs import write_shop_logs
from tests.support.servers import real_fixture
from tests.support.world import SEED, T0
from zeta_tui.config.models import ContextConfig, LogsConfig, ZetaConfig
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.launch import build_app
from zeta_tui.models.conventions import ENDPOINT_LABELS
from zeta_tui.models.log_fields import ENDPOINT, POD, STATUS, TENANT
from zeta_tui.models.logs import LogRecord
from zeta_tui.screens.log_columns import ColumnPicker
from zeta_tui.widgets.log_view import LogView

# --- the spellings, one shipper at a time -------------------------------------------------------


def _record(**fields) -> LogRecord:
    return LogRecord(1, "INFO", "svc", "m", fields)


SHIPPERS = {
    # shipper: (its fields, the pod, the tenant, the endpoint) as that shipper writes them
    "OpenTelemetry collector, k8sattributes": (
        {"k8s.pod.name": "api-5d8-x", "service.instance.id": "4f1c-uuid", "http.route": "/v1/a/{id}"},
        "api-5d8-x",
        None,
        "/v1/a/{id}",
    ),
    "OpenTelemetry SDK only": (
        {"service.instance.id": "api-0:8080", "url.path": "/v1/a/7"},
        "api-0:8080",
        None,
        "/v1/a/7",
    ),
    "Filebeat (ECS)": (
        {"kubernetes.pod.name": "api-5d8-y", "url.path": "/v1/b", "labels.tenant_id": "t1", "host.name": "node-3"},
        "api-5d8-y",
        "t1",
        "/v1/b",
    ),
    "Fluent Bit kubernetes filter": ({"kubernetes.pod_name": "api-5d8-z", "path": "/v1/c"}, "api-5d8-z", None, "/v1/c"),
    "Promtail": ({"pod": "api-5d8-w", "instance": "api-5d8-w", "handler": "/v1/d"}, "api-5d8-w", None, "/v1/d"),
    "Loki OTLP": (
        {"k8s_pod_name": "api-5d8-v", "service_instance_id": "i-9", "http_route": "/v1/e", "tenant_id": "t2"},
        "api-5d8-v",
        "t2",
        "/v1/e",
    ),
    "the seed's JSON lines": (
        {"tenant_id": "tenant_001", "endpoint": "/api/v1/recommendations"},
        None,
        "tenant_001",
        "/api/v1/recommendations",
    ),
    "a node, not a pod": ({"host.name": "node-1", "tenant": "acme"}, None, "acme", None),
}


@pytest.mark.parametrize("shipper", SHIPPERS)
def test_each_shippers_pod_tenant_and_endpoint(shipper) -> None:
    fields, pod, tenant, endpoint = SHIPPERS[shipper]
    record = _record(**fields)
    assert (POD.value(record), TENANT.value(record), ENDPOINT.value(record)) == (pod, tenant, endpoint)


def test_the_endpoint_spellings_are_the_metric_conventions_with_dots() -> None:
    for label in ENDPOINT_LABELS:
        assert label in ENDPOINT.names
        dotted = label.replace("_", ".")
        assert ENDPOINT.names.index(dotted) <= ENDPOINT.names.index(label)
    # A route before the path, as for the metrics (a route groups /orders/1 and /orders/2).
    both = _record(**{"url.path": "/orders/17", "http.route": "/orders/{id}"})
    assert ENDPOINT.value(both) == "/orders/{id}"
    assert STATUS.value(_record(**{"http.response.status_code": 503, "code": "E42"})) == 503
    assert STATUS.value(_record(code="E42")) is None  # a bare code is an error code as often as not


# --- the picker on the console ------------------------------------------------------------------

WORLD_END = int(T0) // STEP_SECONDS * STEP_SECONDS


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """One embedded store (chdb opens one path per process) with both ClickHouse shapes."""
    path = tmp_path_factory.mktemp("logs-columns") / "store"
    requests = list(WorldRequests(TeamZetaWorld(SEED), sample_every=10).generate(WORLD_END - 30, WORLD_END))
    world = WorldLogStore(path)
    world.insert(requests)
    shop = write_shop_logs(str(path))
    yield str(path), requests, shop
    world.close()


def _app(logs: LogsConfig, now: float, namespace: str = "production"):
    context = ContextConfig(logs=logs, time_range="15m", namespace=namespace)
    return build_app(ZetaConfig(default_context="c", contexts={"c": context}), "c", clock=lambda: now, live=False)


def _drawn(view: LogView, y: int) -> str:
    return "".join(segment.text for segment in view.render_line(y))


def _cursor_line(view: LogView) -> str:
    return _drawn(view, view.cursor - view.scroll_offset.y + 1)


def _header(view: LogView) -> list[str]:
    return _drawn(view, 0).split()


async def _pick(pilot, titles: list[str]) -> ColumnPicker:
    """Open the picker and tick (or untick) the lines titled ``titles``, by keys."""
    await pilot.press("C")
    await pilot.pause()
    picker = pilot.app.screen
    assert isinstance(picker, ColumnPicker)
    at = 0
    for title in titles:
        index = next(i for i, c in enumerate(picker.choices) if c.title == title)
        moves = ["down"] * (index - at) if index >= at else ["up"] * (at - index)
        await pilot.press(*moves, "space")
        at = index
    return picker


def _choice(picker: ColumnPicker, title: str):
    return next(c for c in picker.choices if c.title == title)


def _in_cell(line: str, value: str) -> bool:
    """``value`` in the line whole, or cut in the middle with both ends kept."""
    if value in line:
        return True
    for word in line.split():
        head, cut, tail = word.partition("…")
        if cut and value.startswith(head) and value.endswith(tail) and len(head) >= 4 and len(tail) >= 4:
            return True
    return False


@pytest.mark.console
async def test_the_demo_worlds_pod_tenant_and_endpoint_are_offered_and_shown(stores) -> None:
    path, requests, _ = stores
    newest = max(requests, key=lambda r: r.timestamp_ns)
    async with _app(LogsConfig(kind="clickhouse", path=path), float(WORLD_END)).run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        view = (await settled(pilot)).query_one(LogView)
        assert not {"Pod", "Tenant", "Endpoint"} & set(_header(view))  # 80 columns: the message keeps its room
        picker = await _pick(pilot, ["Pod"])
        assert _choice(picker, "Pod").found == ("service.instance.id",)
        assert _choice(picker, "Tenant").found == ("tenant_id",)
        assert _choice(picker, "Endpoint").found == ("endpoint",)
        assert not _choice(picker, "Pod").shown and not _choice(picker, "Tenant").shown
        await pilot.press("escape")
        await pilot.pause()
        assert "Pod" in _header(view) and view.current().timestamp_ns == newest.timestamp_ns
        assert newest.instance in _cursor_line(view)  # a picked pod is whole at 80 columns
        # Tenant too, by the picker again: both on the newest record's line.
        await _pick(pilot, ["Tenant"])
        await pilot.press("escape")
        await pilot.pause()
        line = _cursor_line(view)
        assert {"Pod", "Tenant"} <= set(_header(view)) and newest.instance in line and newest.tenant_id in line
        assert "ms" not in _header(view)  # the latency gave way to the picked columns


@pytest.mark.console
async def test_the_exporters_k8s_names_are_offered_and_an_automatic_column_can_be_hidden(stores) -> None:
    path, _, shop = stores
    newest = max(shop, key=lambda r: r.ns)
    logs = LogsConfig(kind="clickhouse", path=path, table=SHOP_TABLE)
    async with _app(logs, float(SHOP_END)).run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        view = (await settled(pilot)).query_one(LogView)
        line = _cursor_line(view)
        # 160 columns: pod, tenant and endpoint show by themselves; this source has no latency.
        assert {"Pod", "Tenant", "Endpoint", "St"} <= set(_header(view)) and "ms" not in _header(view)
        assert _in_cell(line, newest.pod) and newest.tenant in line and str(newest.status) in line.split()
        assert _in_cell(line, newest.route)  # names share the room the message leaves (30 cells)
        picker = await _pick(pilot, ["Method", "Tenant"])
        assert _choice(picker, "Pod").found == ("k8s.pod.name",)
        assert _choice(picker, "Endpoint").found == ("http.route",)
        assert _choice(picker, "St").found == ("http.response.status_code",)
        assert _choice(picker, "Method").found == ("http.request.method",)
        assert not _choice(picker, "ms").found
        # The SDK's random instance id beside the pod is a field of its own; so is the node.
        offered = [c.title for c in picker.choices]
        assert {"service.instance.id", "host.name", "k8s.namespace.name", "url.full"} <= set(offered)
        await pilot.press("escape")
        await pilot.pause()
        header, line = _header(view), _cursor_line(view)
        assert "Method" in header and "Tenant" not in header and newest.tenant not in line
        assert newest.method in line.split()


@pytest.mark.console
async def test_the_exporters_pod_at_80_columns(stores) -> None:
    path, _, shop = stores
    newest = max(shop, key=lambda r: r.ns)
    logs = LogsConfig(kind="clickhouse", path=path, table=SHOP_TABLE)
    async with _app(logs, float(SHOP_END)).run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        view = (await settled(pilot)).query_one(LogView)
        await _pick(pilot, ["Pod"])
        await pilot.press("escape")
        await pilot.pause()
        assert "Pod" in _header(view) and _in_cell(_cursor_line(view), newest.pod)


# --- Loki, as a real answer looks ---------------------------------------------------------------

LOKI_END_NS = 1_767_225_600 * 10**9


def _loki_entries() -> list[tuple[dict, int, str, dict]]:
    """(stream labels, ns, line, structured metadata): the docs' three streams, five entries each,
    the first stream's entries with OTLP-style metadata."""
    streams = json.loads(real_fixture("loki/series-docs-example.json"))["data"]
    out = []
    for s, labels in enumerate(streams):
        for i in range(5):
            ns = LOKI_END_NS - (60 - 10 * i - s) * 10**9
            metadata = {"http_route": "/loki/api/v1/push", "tenant_id": f"team-{i % 2}"} if s == 0 else {}
            out.append((labels, ns, f'level=info msg="entry {i} of stream {s}"', metadata))
    return out


def _serve_loki(server: HTTPServer, entries) -> None:
    from werkzeug import Response

    envelope = json.loads(real_fixture("loki/query-range-streams-categorize-labels.json"))

    def query_range(request) -> Response:
        rows = sorted(entries, key=lambda e: e[1], reverse=request.args.get("direction", "backward") == "backward")
        streams: dict[str, dict] = {}
        for labels, ns, line, metadata in rows[: int(request.args["limit"])]:
            key = json.dumps(labels, sort_keys=True)
            group = {"structuredMetadata": metadata} if metadata else {}
            streams.setdefault(key, {"stream": labels, "values": []})["values"].append([str(ns), line, group])
        body = json.loads(json.dumps(envelope))
        body["data"]["result"] = list(streams.values())
        return Response(json.dumps(body), content_type="application/json")

    series = {"status": "success", "data": [e[0] for e in entries]}
    labels = {"status": "success", "data": sorted({k for e in entries for k in e[0]})}
    server.expect_request("/loki/api/v1/query_range").respond_with_handler(query_range)
    server.expect_request("/loki/api/v1/series").respond_with_json(series)
    server.expect_request("/loki/api/v1/labels").respond_with_json(labels)
    for name in labels["data"]:
        values = {"status": "success", "data": sorted({e[0][name] for e in entries if name in e[0]})}
        server.expect_request(f"/loki/api/v1/label/{name}/values").respond_with_json(values)


@pytest.mark.console
async def test_lokis_instance_label_is_the_pod_and_otlp_metadata_gives_tenant_and_endpoint(
    httpserver: HTTPServer,
) -> None:
    entries = _loki_entries()
    _serve_loki(httpserver, entries)
    newest = max(entries, key=lambda e: e[1])
    logs = LogsConfig(kind="loki", url=httpserver.url_for("/").rstrip("/"))
    app = _app(logs, LOKI_END_NS / 1e9, namespace="default")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        view = (await settled(pilot)).query_one(LogView)
        assert len(view.records) == len(entries)
        assert view.current().timestamp_ns == newest[1]
        assert "Pod" in _header(view) and newest[0]["instance"] in _cursor_line(view)  # 45 characters, whole
        picker = await _pick(pilot, [])
        assert _choice(picker, "Pod").found == ("instance",)
        assert _choice(picker, "Tenant").found == ("tenant_id",)
        assert _choice(picker, "Endpoint").found == ("http_route",)
        offered = {c.title for c in picker.choices}
        assert {"container_name", "namespace", "filename"} <= offered  # the other stream labels
        await pilot.press("escape")
        # Every drawn record shows its own stream's instance as its pod.
        top = view.scroll_offset.y
        for y in range(1, min(view.region.height, len(view.records) - top + 1)):
            record = view.records[top + y - 1]
            assert record.fields["instance"] in _drawn(view, y)
