"""Logs as the seed's Logstash pipeline indexes them, read with zeta's default settings.

The seed (../shared/seed/team-zeta-observability.md, "Logging (ELK Stack)") ships JSON lines
through Beats into Logstash: ``json`` puts the line's fields at the top level, ``date`` parses
``timestamp`` into ``@timestamp`` (milliseconds; ``timestamp`` stays), ``geoip`` looks up the
client address, ``mutate`` removes ``user_id`` and ``context.ip_address``, and the output
writes ``logs-<service>-YYYY.MM.dd``. Beats and Logstash add ``@version``, ``host``, ``agent``,
``ecs``, ``input``, ``log`` and ``tags``.

Two shapes are built from the same seed lines:

- the one the issue describes (both PII fields removed, the geoip lookup done);
- the one the pipeline as written gives: a Logstash field reference to a nested field is
  ``[context][ip_address]`` (Logstash's "Field References" docs); ``"context.ip_address"``
  names a top-level field that does not exist, so the nested address stays and the geoip lookup
  fails (``_geoip_lookup_failure``). zeta masks it by default.

The answers are served over real HTTP on 127.0.0.1 in the envelope of a real captured response
(../shared/fixtures/real/elasticsearch/msearch-logs-sort-highlight.json), and the queries are
evaluated by Elasticsearch's matching rules for the mapping those indices get
(tests/support/es_semantics.py: the default dynamic mapping, and Elasticsearch 8's
``logs-*-*`` data-stream template). What each query should find is a plain Python predicate
over the seed lines, written here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from tests.support.log_fixtures import Doc, FakeSearch, seed_line
from tests.support.servers import real_fixture
from zeta_tui.backends.logs.elasticsearch import ElasticsearchLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.models.pii import masked
from zeta_tui.models.timerange import TimeRange

NOW = datetime(2025, 1, 7, 11, 0, tzinfo=UTC).timestamp()
DAY = TimeRange(NOW - 86_400, NOW, "24h")
SERVICES = ["backend-api", "ml-engine", "auth", "redis", "postgres", "auth-proxy", "backend-api-canary"]
ENDPOINTS = ["/api/v1/recommendations", "/api/v1/auth/login", "/api/v1/auth/login/sso", "/api/v1/users"]
TENANTS = ["tenant_001", "tenant_002", "TENANT_001", "tenant_010"]


def _seed() -> list[dict]:
    """Seed-format lines (as dicts), every 40 minutes back from NOW: two days' indices."""
    lines = []
    for i in range(36):
        ns = int((NOW - 60 - i * 2400) * 1e9) + i * 1_234_567  # sub-millisecond digits, which @timestamp drops
        endpoint = ENDPOINTS[i % 4]
        status = [200, 401, 500, 401, 404][i % 5]  # independent of the endpoint (i % 4): every pair occurs
        lines.append(
            json.loads(
                seed_line(
                    ns,
                    ["INFO", "ERROR", "WARN", "DEBUG", "ERROR"][i % 5],
                    f"request {i} on {endpoint}",
                    service=SERVICES[i % 7],
                    tenant_id=TENANTS[i % 4],
                    endpoint=endpoint,
                    trace_id=f"{0x4BF92F3577B34DA6A3CE929D0E0E4736 + i:032x}",
                    span_id=f"{0x00F067AA0BA902B7 + i:016x}",
                    method="POST" if "auth" in endpoint else "GET",
                    status_code=status,
                    latency_ms=[45, 1000, 1001, 2500, 12][i % 5],
                    user_id=f"user_{i:03d}",
                    context={
                        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                        "ip_address": f"192.168.1.{i}",
                        "api_key_id": f"key_{i % 3}",
                    },
                )
            )
        )
    return lines


def _ms_iso(text: str) -> str:
    """What the date filter writes: the instant to the millisecond, in UTC."""
    whole, frac = text.rstrip("Z").split(".")
    return f"{whole}.{frac[:3]}Z"


def logstash_document(line: dict, *, as_written: bool = False) -> tuple[str, dict]:
    """(index, _source) of one seed line after the seed's Beats -> Logstash pipeline."""
    doc = json.loads(json.dumps(line))
    doc["@timestamp"] = _ms_iso(doc["timestamp"])
    doc["@version"] = "1"
    doc["host"] = {"name": "ip-10-0-1-23"}
    doc["agent"] = {"type": "filebeat", "version": "8.11.3", "name": "ip-10-0-1-23"}
    doc["ecs"] = {"version": "8.0.0"}
    doc["input"] = {"type": "filestream"}
    doc["log"] = {"file": {"path": f"/var/log/zeta/{line['service']}.log"}, "offset": 4096}
    doc["tags"] = ["beats_input_codec_plain_applied"]
    del doc["user_id"]
    if as_written:
        doc["tags"].append("_geoip_lookup_failure")
    else:
        ip = doc["context"].pop("ip_address")
        doc["geoip"] = {"ip": ip, "country_iso_code": "NL", "location": {"lat": 52.37, "lon": 4.89}}
    day = line["timestamp"][:10].replace("-", ".")
    return f"logs-{line['service']}-{day}", doc


def _docs(lines: list[dict], *, as_written: bool = False) -> list[Doc]:
    out = []
    for i, line in enumerate(lines):
        index, source = logstash_document(line, as_written=as_written)
        ts_ms = int(datetime.fromisoformat(source["@timestamp"].replace("Z", "+00:00")).timestamp() * 1000)
        out.append(Doc(index, f"id{i:03d}", ts_ms, source))
    return out


def _envelope() -> dict:
    return json.loads(real_fixture("elasticsearch/msearch-logs-sort-highlight.json"))["responses"][0]


def _serve(server: HTTPServer, lines: list[dict], mapping: str = "dynamic", **kw) -> FakeSearch:
    fake = FakeSearch(_docs(lines, **kw), pit="es", mapping=mapping, envelope=_envelope())
    fake.install(server)
    return fake


def _source(server: HTTPServer) -> ElasticsearchLogSource:
    # Nothing but the kind and the URL: index "logs-*" and timestamp_field "@timestamp" are the defaults.
    return ElasticsearchLogSource(
        LogsConfig(kind="elasticsearch", url=server.url_for("/").rstrip("/")), clock=lambda: NOW
    )


async def _all(src: ElasticsearchLogSource, query, window: TimeRange = DAY) -> list:
    out, cursor = [], None
    while True:
        page = await src.search(query, window, limit=7, cursor=cursor)
        out.extend(page.records)
        if (cursor := page.cursor) is None:
            return out


async def test_default_settings_read_the_logstash_shape(httpserver: HTTPServer) -> None:
    lines = _seed()
    _serve(httpserver, lines)
    src = _source(httpserver)
    records = await _all(src, None)
    await src.aclose()
    by_id = {r.record_id: r for r in records}
    assert len(by_id) == len(lines) == 36
    for i, line in enumerate(lines):
        index = f"logs-{line['service']}-{line['timestamp'][:10].replace('-', '.')}"
        r = by_id[f"{index}/id{i:03d}"]
        ts = datetime.fromisoformat(line["timestamp"][:23] + "+00:00")
        assert r.timestamp_ns == int(ts.timestamp()) * 10**9 + ts.microsecond * 1000  # @timestamp, to the millisecond
        assert (r.service, r.level, r.message, r.trace_id, r.span_id) == (
            line["service"],
            line["level"].replace("WARNING", "WARN"),
            line["message"],
            line["trace_id"],
            line["span_id"],
        )
        for key in ("tenant_id", "endpoint", "method", "status_code", "latency_ms"):
            assert r.fields[key] == line[key]
        assert (
            r.fields["context.user_agent"] == line["context"]["user_agent"] and r.fields["host.name"] == "ip-10-0-1-23"
        )
        assert "timestamp" not in r.fields and "@timestamp" not in r.fields  # the one time is the record's
        assert "user_id" not in r.fields and "context.ip_address" not in r.fields
    assert {r.record_id.split("/")[0][-10:] for r in records} == {"2025.01.06", "2025.01.07"}  # both days' indices


QUERIES = {
    "level:ERROR AND timestamp:[now-1h TO now]": lambda d: d["level"] == "ERROR" and _age(d) <= 3600,
    "latency_ms:>1000": lambda d: d["latency_ms"] > 1000,
    'endpoint:"/api/v1/auth/login" AND status_code:401': lambda d: (
        d["endpoint"] == "/api/v1/auth/login" and d["status_code"] == 401
    ),
    'tenant_id:"tenant_001" AND level:ERROR': lambda d: d["tenant_id"] == "tenant_001" and d["level"] == "ERROR",
    # The joins from a trace or an alert: one service's records, exactly that service.
    'service:"auth"': lambda d: d["service"] == "auth",
    'service:"backend-api" AND level:ERROR': lambda d: d["service"] == "backend-api" and d["level"] == "ERROR",
    "service:backend-api": lambda d: d["service"] == "backend-api",
    "endpoint:/api/v1/auth/*": lambda d: d["endpoint"].startswith("/api/v1/auth/"),
    "tenant_id:[tenant_001 TO tenant_002]": lambda d: "tenant_001" <= d["tenant_id"] <= "tenant_002",
    "NOT service:auth AND level:WARN": lambda d: d["service"] != "auth" and d["level"] == "WARN",
    "login": lambda d: "login" in d["message"].lower().replace("/", " ").split(),
}


def _age(line: dict) -> float:
    return NOW - datetime.fromisoformat(line["timestamp"][:26] + "+00:00").timestamp()


@pytest.mark.parametrize("mapping", ["dynamic", "logs-data-stream"])
@pytest.mark.parametrize("query", list(QUERIES))
async def test_the_seed_queries_and_the_joins_find_what_they_say(
    httpserver: HTTPServer, query: str, mapping: str
) -> None:
    lines = _seed()
    _serve(httpserver, lines, mapping)
    src = _source(httpserver)
    got = sorted(r.message for r in await _all(src, query))
    await src.aclose()
    want = sorted(d["message"] for d in lines if QUERIES[query](d))
    assert want, "a query that finds nothing proves nothing"
    assert got == want


async def test_the_trace_join_finds_the_trace_in_its_service(httpserver: HTTPServer) -> None:
    lines = _seed()
    target = next(d for d in lines if d["service"] == "backend-api")
    lines.append({**target, "service": "backend-api-canary", "message": "same trace, another service"})
    fake = _serve(httpserver, lines)
    src = _source(httpserver)
    got = await _all(src, f'trace_id:"{target["trace_id"]}" AND service:"backend-api"')
    await src.aclose()
    assert [r.message for r in got] == [target["message"]]
    assert len(fake.caps_requests) == 1  # what the mapping says is asked once per field


async def test_an_index_pattern_mixing_text_and_keyword_mappings(httpserver: HTTPServer) -> None:
    # Yesterday's indices got the dynamic mapping (text + .keyword); today's a template that maps
    # strings as keyword (the field has no .keyword there). The exact value is found in both.
    lines = _seed()
    _serve(httpserver, lines, lambda index: "logs-data-stream" if index.endswith("2025.01.07") else "dynamic")
    src = _source(httpserver)
    got = sorted(r.message for r in await _all(src, 'service:"auth" OR endpoint:/api/v1/users*'))
    await src.aclose()
    assert src.exact_fields == {"service": ("service.keyword", "service"), "endpoint": ("endpoint.keyword", "endpoint")}
    want = sorted(d["message"] for d in lines if d["service"] == "auth" or d["endpoint"].startswith("/api/v1/users"))
    assert {d["timestamp"][:10] for d in lines if d["message"] in want} == {"2025-01-06", "2025-01-07"} and got == want


async def test_without_field_caps_the_fields_are_used_as_they_are(httpserver: HTTPServer) -> None:
    # A server that refuses _field_caps (a role without the privilege): the search still runs.
    lines = _seed()
    fake = FakeSearch(_docs(lines), pit="es", envelope=_envelope())
    fake.install(httpserver)
    httpserver.expect_request("/logs-*/_field_caps").respond_with_json(
        {
            "error": {"type": "security_exception", "reason": "action [indices:data/read/field_caps] is unauthorized"},
            "status": 403,
        },
        status=403,
    )
    src = _source(httpserver)
    await _all(src, 'service:"auth"')
    await src.aclose()
    sent = fake.requests[-1]["body"]["query"]["bool"]["filter"][0]
    assert sent == {"match_phrase": {"service": "auth"}} and src.exact_fields == {}


async def test_pii_the_pipeline_as_written_leaves_is_masked_by_default(httpserver: HTTPServer) -> None:
    lines = _seed()[:6]
    _serve(httpserver, lines, as_written=True)
    src = _source(httpserver)
    records = await _all(src, None)
    await src.aclose()
    pii = LogsConfig(kind="elasticsearch", url="http://unused").pii_fields
    for r in records:
        assert r.fields["context.ip_address"].startswith("192.168.1.")  # the address is still there
        assert "_geoip_lookup_failure" in r.fields["tags"]
        shown = masked(r, pii)
        assert shown.fields["context.ip_address"].startswith("•••") and "192.168" not in json.dumps(shown.to_dict())


async def test_the_geoip_address_is_masked_by_default(httpserver: HTTPServer) -> None:
    lines = _seed()[:6]
    _serve(httpserver, lines)
    src = _source(httpserver)
    records = await _all(src, None)
    await src.aclose()
    pii = LogsConfig(kind="elasticsearch", url="http://unused").pii_fields
    assert all(r.fields["geoip.ip"].startswith("192.168.1.") for r in records)
    assert not any("192.168" in json.dumps(masked(r, pii).to_dict()) for r in records)


def test_where_the_whole_value_is_from_a_field_caps_answer() -> None:
    from zeta_tui.backends.logs.elasticsearch_fields import exact_fields_from_caps

    caps = {
        "indices": ["logs-a", "logs-b"],
        "fields": {
            "service": {"text": {"type": "text"}},
            "service.raw": {"keyword": {"type": "keyword"}},  # Logstash 2.x-5.x template
            "note": {"text": {"type": "text"}},  # text only: nothing holds the whole value
            "endpoint": {"keyword": {"type": "keyword"}},  # keyword already
            "host": {"text": {"type": "text"}, "keyword": {"type": "keyword"}},
            "host.keyword": {"keyword": {"type": "keyword"}},
        },
    }
    got = exact_fields_from_caps(["service", "note", "endpoint", "host", "absent"], caps)
    assert got == {"service": ("service.raw",), "host": ("host.keyword", "host")}


@pytest.mark.console  # the whole console through Textual's pilot
async def test_the_logs_screen_shows_the_service_and_o_opens_the_trace(httpserver: HTTPServer) -> None:
    from tests.support.console import settled
    from zeta_tui.config.models import ContextConfig, ZetaConfig
    from zeta_tui.launch import build_app
    from zeta_tui.widgets.log_view import LogView

    lines = _seed()
    _serve(httpserver, lines)
    context = ContextConfig(
        logs=LogsConfig(kind="elasticsearch", url=httpserver.url_for("/").rstrip("/")), time_range="24h"
    )
    app = build_app(ZetaConfig(default_context="es", contexts={"es": context}), "es", clock=lambda: NOW, live=False)
    newest = max(lines, key=lambda d: d["timestamp"])
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        screen = await settled(pilot)
        view = screen.query_one(LogView)
        assert len(view.records) == len(lines)
        record = view.current()
        assert (record.service, record.trace_id, record.message) == (
            newest["service"],
            newest["trace_id"],
            newest["message"],
        )
        drawn = ["".join(segment.text for segment in view.render_line(y)) for y in range(view.size.height)]
        assert any(
            newest["service"] in line and newest["message"] in line and newest["level"] in line for line in drawn
        )
        await pilot.press("o")
        for _ in range(100):
            if getattr(app.screen, "trace_id", None) == newest["trace_id"]:
                break
            await pilot.pause(0.05)
        assert app.screen.trace_id == newest["trace_id"]


async def test_no_index_yet_means_ask_the_mapping_again_later(httpserver: HTTPServer) -> None:
    fake = FakeSearch([], pit="es", mapping="dynamic", envelope=_envelope())
    fake.install(httpserver)
    now = [NOW]
    src = ElasticsearchLogSource(
        LogsConfig(kind="elasticsearch", url=httpserver.url_for("/").rstrip("/")), clock=lambda: now[0]
    )
    assert (await src.search('service:"auth"', DAY)).records == ()
    await src.search('service:"auth"', DAY)
    now[0] += 61
    await src.search('service:"auth"', DAY)
    await src.aclose()
    assert len(fake.caps_requests) == 2 and src.exact_fields == {}
