"""Loki's default stream selector on streams that have no ``namespace`` label (Grafana Alloy, the
OpenTelemetry collector): the label names are read from /loki/api/v1/labels, a selector that
matches is chosen and said; a selector the user set is used as it is, with nothing asked.

The label answers are the real docs envelopes of ../shared/fixtures/real/loki with the label
names of the shippers put in; the expected selectors are written here from the rule in
zeta_tui/backends/logs/loki_selector.py's docstring, not taken from the program.
"""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from tests.support.log_fixtures import FakeLoki, seed_line
from tests.support.servers import real_fixture
from zeta_tui.backends.logs.loki import LokiLogSource
from zeta_tui.backends.logs.loki_selector import choose_selector
from zeta_tui.cli import main
from zeta_tui.config.models import LogsConfig
from zeta_tui.models.timerange import TimeRange

T0_NS = 1_767_225_600 * 10**9
WINDOW = TimeRange(1_767_225_600 - 60, 1_767_225_600 + 600, "10m")
# What Loki's OTLP endpoint makes of an OpenTelemetry SDK's resource (service.name and the
# k8s.* attributes become index labels, dots as underscores); Alloy's loki.source.* sets
# service_name too.
OTEL_LABELS = {
    "service_name": "backend-api",
    "service_namespace": "zeta",
    "deployment_environment": "prod",
    "k8s_namespace_name": "prod-eu",
}


def _source(server: HTTPServer, namespace: str = "production", clock=None, **extra) -> LokiLogSource:
    cfg = LogsConfig(kind="loki", url=server.url_for("/").rstrip("/"), **extra)
    return LokiLogSource(cfg, namespace=namespace, **({"clock": clock} if clock else {}))


def _entries(labels: dict, n: int = 3) -> list[tuple[dict, int, str]]:
    return [(labels, T0_NS + i * 10**9, seed_line(T0_NS + i * 10**9, "INFO", f"line {i}")) for i in range(n)]


def test_the_rule_on_the_real_label_answers() -> None:
    docs_labels = json.loads(real_fixture("loki/labels-docs-example.json"))["data"]  # foo, bar, baz
    choice = choose_selector("production", docs_labels)
    assert choice.selector == '{bar=~".+"}'  # no usual label: the first name, alphabetically
    assert "no namespace label" in choice.note and "foo" in choice.note

    series = json.loads(real_fixture("loki/series-docs-example.json"))["data"]
    names = {k for s in series for k in s}
    values = {s["namespace"] for s in series}  # {"default"}
    kept = choose_selector("production", names, values)
    assert kept.selector == '{namespace="production"}'  # the label exists: widening would mix namespaces
    assert "no stream has namespace='production'" in kept.note and "default" in kept.note
    assert choose_selector("default", names, values).note == ""

    assert choose_selector("production", ["job", "app", "service_name"]).selector == '{service_name=~".+"}'
    assert choose_selector("production", ["job", "app"]).selector == '{app=~".+"}'
    assert (
        choose_selector("prod-eu", OTEL_LABELS, otel_namespace_values=["prod-eu"]).selector
        == '{k8s_namespace_name="prod-eu"}'
    )
    assert (
        choose_selector("production", OTEL_LABELS, otel_namespace_values=["prod-eu"]).selector == '{service_name=~".+"}'
    )
    empty = choose_selector("production", [])
    assert empty.selector == '{namespace="production"}' and "no streams" in empty.note
    assert choose_selector('we"ird', ["x"]).selector == '{x=~".+"}'
    assert choose_selector('we"ird', ["namespace"], ['we"ird']).selector == '{namespace="we\\"ird"}'


async def test_otel_streams_get_a_matching_selector_and_it_is_said(httpserver: HTTPServer) -> None:
    fake = FakeLoki(_entries(OTEL_LABELS))
    fake.install(httpserver)
    src = _source(httpserver)
    page = await src.search("level:INFO", WINDOW, limit=10)
    await src.aclose()
    assert fake.requests[0]["query"].startswith('{service_name=~".+"} ')
    assert [r.message for r in page.records] == ["line 0", "line 1", "line 2"]
    assert src.selector == '{service_name=~".+"}' and "service_name" in src.note and "no namespace label" in src.note
    assert 'selector {service_name=~".+"}' in src.describe()
    asked = [r["path"] for r in fake.label_requests]
    assert asked == ["/loki/api/v1/labels", "/loki/api/v1/label/k8s_namespace_name/values", "/loki/api/v1/series"]
    assert fake.label_requests[2]["match[]"] == '{service_name=~".+"}'  # the stream labels of the chosen selector
    assert fake.label_requests[0]["start"] == str(int(WINDOW.start * 1e9))  # the search's own window


async def test_the_join_on_a_service_reaches_the_service_name_label(httpserver: HTTPServer) -> None:
    fake = FakeLoki(_entries(OTEL_LABELS))
    fake.install(httpserver)
    src = _source(httpserver)
    page = await src.search('service:"backend-api"', WINDOW, limit=10)
    await src.aclose()
    assert (
        fake.requests[0]["query"]
        == '{service_name=~".+"} | json | (service="backend-api" or (service="" and service_name="backend-api"))'
    )
    assert {r.service for r in page.records} == {"backend-api"}


async def test_the_context_namespace_under_its_otel_name(httpserver: HTTPServer) -> None:
    fake = FakeLoki(_entries(OTEL_LABELS))
    fake.install(httpserver)
    src = _source(httpserver, namespace="prod-eu")
    await src.search(None, WINDOW, limit=10)
    await src.aclose()
    assert fake.requests[0]["query"] == '{k8s_namespace_name="prod-eu"}'


async def test_a_namespace_label_keeps_the_default_and_asks_once(httpserver: HTTPServer) -> None:
    fake = FakeLoki(_entries({"namespace": "production", "app": "api"}))
    fake.install(httpserver)
    src = _source(httpserver)
    for _ in range(3):
        await src.search(None, WINDOW, limit=10)
    await src.aclose()
    assert [r["query"] for r in fake.requests] == ['{namespace="production"}'] * 3
    assert src.note == "" and [r["path"] for r in fake.label_requests].count("/loki/api/v1/labels") == 1  # asked once


async def test_a_selector_the_user_set_is_never_replaced(httpserver: HTTPServer) -> None:
    fake = FakeLoki(_entries(OTEL_LABELS))
    fake.install(httpserver)
    src = _source(httpserver, selector='{namespace="production"}')
    page = await src.search(None, WINDOW, limit=10)
    await src.aclose()
    assert fake.requests[0]["query"] == '{namespace="production"}' and fake.label_requests == []
    assert src.note == "" and page.records  # FakeLoki does not evaluate LogQL: what matters is what was asked


async def test_no_answer_keeps_the_default_and_tries_again_a_minute_later(httpserver: HTTPServer) -> None:
    calls = []

    def refuse(request):
        from werkzeug import Response

        calls.append(request.path)
        return Response("too many outstanding requests", status=429)

    httpserver.expect_request("/loki/api/v1/labels").respond_with_handler(refuse)
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_json(
        {"status": "success", "data": {"resultType": "streams", "result": []}}
    )
    now = [1_767_225_600.0]
    src = _source(httpserver, clock=lambda: now[0])
    await src.search(None, WINDOW)
    await src.search(None, WINDOW)
    assert len(calls) == 1 and src.selector == '{namespace="production"}' and src.note == ""
    now[0] += 61
    await src.search(None, WINDOW)
    await src.aclose()
    assert len(calls) == 2


def test_zeta_logs_prints_the_selector_in_use_on_stderr(httpserver: HTTPServer, tmp_path, capsys) -> None:
    entries = _entries(OTEL_LABELS)
    FakeLoki(entries).install(httpserver)
    config = tmp_path / "zeta.toml"
    config.write_text(
        '[contexts.otel]\nnamespace = "production"\n[contexts.otel.logs]\nkind = "loki"\nurl = '
        f'"{httpserver.url_for("/").rstrip("/")}"\n'
    )
    code = main(["--config", str(config), "logs", "--from", str(WINDOW.start), "--to", str(WINDOW.end)])
    out, err = capsys.readouterr()
    assert code == 0 and len(out.splitlines()) == len(entries)
    assert err.startswith('note: selector {service_name=~".+"}') and "set selector in [contexts.NAME.logs]" in err


@pytest.mark.console  # the whole console through Textual's pilot
async def test_the_logs_screen_says_which_selector_it_reads(httpserver: HTTPServer) -> None:
    from tests.support.console import settled
    from zeta_tui.config.models import ContextConfig, ZetaConfig
    from zeta_tui.launch import build_app
    from zeta_tui.widgets.log_view import LogView
    from zeta_tui.widgets.pane_status import PaneStatus

    entries = _entries(OTEL_LABELS)
    FakeLoki(entries).install(httpserver)
    context = ContextConfig(logs=LogsConfig(kind="loki", url=httpserver.url_for("/").rstrip("/")), time_range="1h")
    app = build_app(
        ZetaConfig(default_context="otel", contexts={"otel": context}), "otel", clock=lambda: WINDOW.end, live=False
    )
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        screen = await settled(pilot)
        assert len(screen.query_one(LogView).records) == len(entries)
        status = str(screen.query_one(PaneStatus).render())
        assert 'selector {service_name=~".+"}' in status and "no namespace label" in status
