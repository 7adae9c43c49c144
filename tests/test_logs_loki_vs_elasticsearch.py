"""The Loki and Elasticsearch sources answer the same question alike: the same seed records,
stored in each as that backend holds them, come back as the same LogRecords, page by page."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from tests.support.log_fixtures import Doc, FakeLoki, FakeSearch, seed_line
from zeta_tui.backends.logs.elasticsearch import ElasticsearchLogSource
from zeta_tui.backends.logs.loki import LogQL, LokiLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.models.timerange import TimeRange

T0_MS = 1_767_225_600_000
WIDE = TimeRange(0, 4_102_444_800, "all")
LABELS = {"namespace": "production", "app": "zeta"}


def _seed(n: int) -> list[tuple[int, str]]:
    levels = ["INFO", "WARN", "ERROR", "DEBUG"]
    out = []
    for i in range(n):
        ms = T0_MS + (i // 3) * 10  # groups of three records share a millisecond
        ns = ms * 1_000_000
        out.append(
            (
                ns,
                seed_line(
                    ns,
                    levels[i % 4],
                    f"request {i} ✓",
                    service=["backend-api", "auth"][i % 2],
                    status_code=200 + i,
                    context={"ip_address": f"10.0.0.{i}"},
                ),
            )
        )
    return out


async def _pages(src, query, *, newest_first: bool) -> list[tuple]:
    out = []
    cursor = None
    for _ in range(50):
        page = await src.search(query, WIDE, limit=4, newest_first=newest_first, cursor=cursor)
        out.extend(page.records if not newest_first else reversed(page.records))
        cursor = page.cursor
        if cursor is None:
            break
    await src.aclose()
    # What both stores hold; Loki adds its stream labels as fields.
    return [
        (
            r.timestamp_ns,
            r.level,
            r.service,
            r.message,
            r.trace_id,
            r.span_id,
            {k: v for k, v in r.fields.items() if k not in LABELS},
        )
        for r in out
    ]


@pytest.mark.parametrize("newest_first", [True, False])
async def test_same_records_from_both(httpserver: HTTPServer, newest_first: bool) -> None:
    seed = _seed(14)
    FakeSearch(
        [Doc("logs-zeta", f"d{i}", ns // 1_000_000, json.loads(line)) for i, (ns, line) in enumerate(seed)], pit="es"
    ).install(httpserver)
    FakeLoki([(LABELS, ns, line) for ns, line in seed]).install(httpserver)
    url = httpserver.url_for("/").rstrip("/")
    es = ElasticsearchLogSource(LogsConfig(kind="elasticsearch", url=url, timestamp_field="timestamp"))
    loki = LokiLogSource(LogsConfig(kind="loki", url=url))
    from_es = await _pages(es, {"match_all": {}}, newest_first=newest_first)
    from_loki = await _pages(loki, LogQL('{namespace="production"}'), newest_first=newest_first)
    assert len(from_es) == len(from_loki) == 14
    key = lambda row: (row[0], row[3])  # noqa: E731 - ties within a millisecond may come in either order
    assert sorted(from_es, key=key) == sorted(from_loki, key=key)
    assert [r[0] for r in from_es] == [r[0] for r in from_loki]
    expected = sorted((ns for ns, _ in seed), reverse=newest_first)
    assert [r[0] for r in from_es] == expected
    levels = {r[3]: r[1] for r in from_es}
    assert levels["request 2 ✓"] == "ERROR" and from_es[0][6]["context.ip_address"].startswith("10.0.0.")
