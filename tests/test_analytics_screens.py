"""Tenants, a tenant, Cost and the SQL console over the world's usage in a real embedded
ClickHouse (chdb): what the screens show is recounted from the generated requests in plain
Python; snapshots at 80x24 and 160x50, and in error."""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from datetime import UTC, timedelta

import pytest

pytest.importorskip("chdb", reason="the analytics screens read usage from an embedded ClickHouse (pip install chdb)")

from textual.widgets import DataTable, TextArea

from tests.support.analytics_world import TODAY, module_usage
from tests.support.console import settled
from tests.support.world import T0
from zeta_tui.config.models import ClickHouseConfig, ContextConfig, ZetaConfig
from zeta_tui.demo.usage import ML_ENDPOINT, ML_SERVICE, service_of, tenant_rows, unit_cost_usd
from zeta_tui.launch import build_app
from zeta_tui.models.analytics import count_text
from zeta_tui.screens.tenant_detail import TenantDetailScreen

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(scope="module")
def usage(tmp_path_factory):
    yield from module_usage(tmp_path_factory, "analytics_screens")


def _app(config: ZetaConfig, first: str = "health"):
    return build_app(config, "w", clock=lambda: float(T0), live=False)


async def _go(pilot, key: str):
    await pilot.press(key)
    return await settled(pilot)


def _cells(table: DataTable, column: str) -> list[str]:
    return [str(table.get_cell(row, column)) for row in table.rows]


def _keys(table: DataTable) -> list[str]:
    return [str(k.value) for k in table.rows]


# --- Tenants ---------------------------------------------------------------------------------


async def test_tenants_are_counted_from_the_requests_and_sort_and_filter(usage) -> None:
    app = _app(usage.config())
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _go(pilot, "7")
        assert screen.snapshot.error is None, screen.snapshot.error
        table = screen.query_one("#tenants-table", DataTable)
        window = usage.in_window(7)
        requests = Counter(r.tenant_id for r in window)
        errors = Counter(r.tenant_id for r in window if r.status_code >= 400)
        expected = sorted(requests, key=lambda t: (-requests[t], t))
        assert _keys(table) == expected
        assert _cells(table, "requests") == [count_text(requests[t]) for t in expected]
        plans = {t["tenant_id"]: t["plan"] for t in tenant_rows(usage.world.topology, TODAY)}
        assert _cells(table, "plan") == [plans[t] for t in expected]

        await pilot.press("s")  # by error rate
        await pilot.pause()
        rate = {t: errors[t] / requests[t] for t in requests}
        assert _keys(table) == sorted(requests, key=lambda t: (-rate[t], t))
        assert _cells(table, "errors")[0].endswith(f"{rate[_keys(table)[0]] * 100:.2f} %")

        await pilot.press("slash", *"enterprise", "enter")
        await pilot.pause()
        enterprise = {t for t, plan in plans.items() if plan == "enterprise" and t in requests}
        assert set(_keys(table)) == enterprise
        assert "filter 'enterprise'" in str(screen.query_one("#tenants-summary").render())
        await pilot.press("escape")
        await pilot.pause()
        assert len(_keys(table)) == len(requests)

        answered = screen.snapshot
        await pilot.press("w")  # 30 days
        for _ in range(400):  # settled() alone would see the 7-day answer still on screen
            if screen.snapshot is not answered:
                break
            await pilot.pause(0.05)
        await settled(pilot)
        month = Counter(r.tenant_id for r in usage.in_window(30))
        assert dict(zip(_keys(table), _cells(table, "requests"))) == {t: count_text(n) for t, n in month.items()}


async def test_a_tenant_shows_its_endpoints_and_cost(usage) -> None:
    app = _app(usage.config())
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _go(pilot, "7")
        tenant = _keys(screen.query_one("#tenants-table", DataTable))[0]
        await pilot.press("enter")
        for _ in range(100):
            if isinstance(pilot.app.screen, TenantDetailScreen):
                break
            await pilot.pause(0.05)
        detail = await settled(pilot)
        assert isinstance(detail, TenantDetailScreen) and detail.snapshot.error is None, detail.snapshot.error
        mine = [r for r in usage.in_window(7) if r.tenant_id == tenant]
        per_endpoint = Counter(f"{r.method} {r.endpoint}" for r in mine)
        table = detail.query_one("#tenant-endpoints", DataTable)
        assert dict(zip(_keys(table), _cells(table, "requests"))) == {k: count_text(n) for k, n in per_endpoint.items()}
        # Cost over the window: its calls per day and service times that day's unit cost.
        cost = 0.0
        for r in mine:
            day = TODAY - timedelta(days=(TODAY.toordinal() - _day(r).toordinal()))
            cost += unit_cost_usd(service_of(r.endpoint), day)
            if (r.method, r.endpoint) == ML_ENDPOINT:
                cost += unit_cost_usd(ML_SERVICE, day)
        facts = str(detail.query_one("#tenant-facts").render())
        assert f"{count_text(len(mine))} requests" in facts
        assert f"cost ${cost:.2f} over the window" in facts
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, TenantDetailScreen)


def _day(r):
    from datetime import datetime

    return datetime.fromtimestamp(r.timestamp_ns // 1_000_000_000, tz=UTC).date()


# --- Cost ------------------------------------------------------------------------------------


async def test_cost_recommends_the_services_whose_cost_per_call_rose(usage) -> None:
    # Independent: calls per (service, day) from the requests, priced by the documented unit costs.
    cost, calls = Counter(), Counter()
    for r in usage.public:
        day = _day(r)
        for service in [service_of(r.endpoint)] + ([ML_SERVICE] if (r.method, r.endpoint) == ML_ENDPOINT else []):
            week = 0 if (TODAY - day).days < 7 else 1 if (TODAY - day).days < 14 else None
            if week is not None:
                cost[(service, week)] += unit_cost_usd(service, day)
                calls[(service, week)] += 1
    rising = {
        s for s in {k[0] for k in calls} if (cost[(s, 0)] / calls[(s, 0)]) / (cost[(s, 1)] / calls[(s, 1)]) - 1 > 0.20
    }
    assert rising, "the world's drift should make one service's cost per call rise"
    app = _app(usage.config())
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _go(pilot, "8")
        assert screen.snapshot.error is None, screen.snapshot.error
        advice = str(screen.query_one("#cost-advice-text").render())
        flagged = {
            line.split(":")[0].removeprefix("▲ WARNING ")
            for line in advice.splitlines()
            if "cost per call rose" in line
        }
        assert flagged == rising
        table = screen.query_one("#cost-tenants", DataTable)
        assert set(_keys(table)) == {r.tenant_id for r in usage.in_window(7)}


# --- SQL console -----------------------------------------------------------------------------


async def _sql(pilot, text: str) -> None:
    editor = pilot.app.screen.query_one("#sql-editor", TextArea)
    editor.text = text
    await pilot.press("f5")
    for _ in range(200):
        if pilot.app.screen.running is None:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.1)


async def test_sql_console_runs_read_only_and_exports(usage, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = _app(usage.config())
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("9")
        await pilot.pause()
        screen = pilot.app.screen
        await _sql(pilot, "SELECT tenant_id, count() AS n FROM api_usage GROUP BY tenant_id ORDER BY tenant_id")
        expected = sorted(Counter(r.tenant_id for r in usage.public).items())
        table = screen.query_one("#sql-results", DataTable)
        assert [
            (str(table.get_row_at(i)[0]), int(str(table.get_row_at(i)[1]))) for i in range(table.row_count)
        ] == expected
        status = str(screen.query_one("#sql-status").render())
        assert status.startswith(f"{len(expected):,} rows in ") and "read" in status

        await pilot.press("escape", "e")  # leave the editor, export CSV
        await pilot.pause()
        files = list(tmp_path.glob("zeta-sql-*.csv"))
        assert len(files) == 1
        with files[0].open() as f:
            exported = list(csv.reader(f))
        assert exported[0] == ["tenant_id", "n"] and [(t, int(n)) for t, n in exported[1:]] == expected

        await pilot.press("i")
        await _sql(pilot, "DROP TABLE api_usage")
        status = str(screen.query_one("#sql-status").render())
        assert "refused" in status and "DROP" in status
        await _sql(pilot, "SELECT count() FROM api_usage")
        assert int(str(table.get_row_at(0)[0])) == len(usage.public)  # still there

        await _sql(pilot, "SELECT number FROM system.numbers LIMIT 50000")
        assert table.row_count == 10_000  # the context's row cap
        assert "row cap" in str(screen.query_one("#sql-status").render())

        await _sql(pilot, "SELECT no_such_column FROM api_usage")
        assert "no_such_column" in str(screen.query_one("#sql-status").render())


# --- snapshots -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_tenants_snapshot(snap_compare, usage, size) -> None:
    async def run_before(pilot) -> None:
        await _go(pilot, "7")

    assert snap_compare(_app(usage.config()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_tenant_detail_snapshot(snap_compare, usage, size) -> None:
    async def run_before(pilot) -> None:
        await _go(pilot, "7")
        await pilot.press("enter")
        for _ in range(100):
            if isinstance(pilot.app.screen, TenantDetailScreen):
                break
            await pilot.pause(0.05)
        await settled(pilot)

    assert snap_compare(_app(usage.config()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_cost_snapshot(snap_compare, usage, size) -> None:
    async def run_before(pilot) -> None:
        await _go(pilot, "8")

    assert snap_compare(_app(usage.config()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sql_console_snapshot(snap_compare, usage, size) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("9")
        await pilot.pause()
        pilot.app.screen.query_one("#sql-editor", TextArea).cursor_blink = False
        await _sql(
            pilot, "SELECT plan, count() AS tenants, sum(mrr_usd) AS mrr_usd FROM tenants GROUP BY plan ORDER BY plan"
        )
        pilot.app.screen.query_one("#sql-status").update(
            "3 rows in 0.010 s, read 40 rows (2.1 KiB)"
        )  # timings vary run to run

    assert snap_compare(_app(usage.config()), terminal_size=size, run_before=run_before)


def test_tenants_without_clickhouse_say_what_to_add(snap_compare) -> None:
    config = ZetaConfig(default_context="w", contexts={"w": ContextConfig()})

    async def run_before(pilot) -> None:
        await _go(pilot, "7")

    assert snap_compare(_app(config), terminal_size=(80, 24), run_before=run_before)


def test_cost_with_a_missing_store_says_so(snap_compare) -> None:
    config = ZetaConfig(
        default_context="w", contexts={"w": ContextConfig(clickhouse=ClickHouseConfig(path="/nonexistent/zeta/store"))}
    )

    async def run_before(pilot) -> None:
        await _go(pilot, "8")

    assert snap_compare(_app(config), terminal_size=(80, 24), run_before=run_before)


# --- tenant SLAs (zeta slo and the SLO screen) ------------------------------------------------

SLA_TARGET = {"starter": 99.0, "pro": 99.9, "enterprise": 99.95}


def _expected_slas(usage) -> dict[str, tuple[int, int, bool]]:
    """tenant -> (requests, 5xx, met) over the 30 days to today, from the requests."""
    plans = {t["tenant_id"]: t["plan"] for t in tenant_rows(usage.world.topology, TODAY)}
    total, bad = Counter(), Counter()
    for r in usage.in_window(30):
        total[r.tenant_id] += 1
        bad[r.tenant_id] += r.status_code >= 500
    return {t: (total[t], bad[t], (total[t] - bad[t]) / total[t] * 100 >= SLA_TARGET[plans[t]]) for t in total}


def test_zeta_slo_adds_the_tenant_slas(usage, prometheus_world, tmp_path, monkeypatch, capsys) -> None:
    import json

    from zeta_tui.cli import main

    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "config.toml"
    path.write_text(
        f'[contexts.t]\nservices = ["auth"]\n[contexts.t.prometheus]\nurl = "{prometheus_world.url}"\n'
        f'[contexts.t.clickhouse]\npath = "{usage.path}"\ndatabase = "{usage.database}"\n'
    )
    code, out = main(["slo", "--config", str(path), "--at", str(T0), "--json"]), capsys.readouterr().out
    doc = json.loads(out)
    got = {r["tenant_id"]: (r["requests"], r["server_errors"], r["met"]) for r in doc["tenant_slas"]}
    expected = _expected_slas(usage)
    assert got == expected and doc["tenant_sla_error"] is None
    assert code == 1  # a budget is spent in the Prometheus world, and (or) a tenant misses its SLA
    main(["slo", "--config", str(path), "--at", str(T0)])
    text = capsys.readouterr().out
    missed = sum(1 for *_, met in expected.values() if not met)
    assert f"tenant SLAs over 30 days (ClickHouse usage): {missed} of {len(expected)} missed" in text


async def test_slo_screen_lists_the_tenant_slas(usage, prometheus_world) -> None:
    config = ZetaConfig(
        default_context="w",
        contexts={
            "w": ContextConfig(
                prometheus={"url": prometheus_world.url},
                clickhouse=ClickHouseConfig(path=usage.path, database=usage.database),
            )
        },
    )
    app = _app(config)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _go(pilot, "6")
        table = screen.query_one("#sla-table", DataTable)
        expected = _expected_slas(usage)
        assert set(_keys(table)) == set(expected)
        assert {k: v for k, v in zip(_keys(table), _cells(table, "met"))} == {
            t: "met" if e[2] else "✖ MISSED" for t, e in expected.items()
        }
        missed_first = [not e[2] for e in (expected[t] for t in _keys(table))]
        assert missed_first == sorted(missed_first, reverse=True)


def test_slo_with_tenant_slas_snapshot(snap_compare, usage, prometheus_world) -> None:
    config = ZetaConfig(
        default_context="w",
        contexts={
            "w": ContextConfig(
                prometheus={"url": prometheus_world.url},
                clickhouse=ClickHouseConfig(path=usage.path, database=usage.database),
            )
        },
    )

    async def run_before(pilot) -> None:
        await _go(pilot, "6")

    assert snap_compare(_app(config), terminal_size=(160, 50), run_before=run_before)


async def test_sql_console_cancels_a_running_query(usage) -> None:
    import asyncio

    app = _app(usage.config())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("9")
        await pilot.pause()
        screen = pilot.app.screen
        # A trillion hashes: far longer than the test, stopped only by a cancel (or the 10 s limit).
        screen.query_one(
            "#sql-editor", TextArea
        ).text = "SELECT count() FROM numbers(1000000000000) WHERE cityHash64(number) = 42"
        await pilot.press("f5")
        await pilot.pause(1.0)
        assert screen.running is not None and "running" in str(screen.query_one("#sql-status").render())
        started = asyncio.get_running_loop().time()
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert screen.running is None and "cancelled" in str(screen.query_one("#sql-status").render())

        def processes() -> int:  # queries still running on the store, as ClickHouse itself says
            return usage.store._query(
                "SELECT count() FROM system.processes WHERE query LIKE '%cityHash64(number) = 42%' "
                "AND query NOT LIKE '%system.processes%'",
                "CSV",
            ).strip()

        for _ in range(100):
            if processes() == "0":
                break
            await asyncio.sleep(0.1)
        assert processes() == "0" and asyncio.get_running_loop().time() - started < 5  # well before the 10 s limit


# --- the answer cache: the last answer at once, marked stale --------------------------------------


async def test_tenants_keep_their_last_answer_for_the_next_start(usage, tmp_path, monkeypatch) -> None:
    from zeta_tui.config.answer_cache import AnswerCache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = build_app(usage.config(), "w", clock=lambda: float(T0), live=True)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _go(pilot, "7")
        shown = _keys(screen.query_one("#tenants-table", DataTable))
    entry = AnswerCache().load("w", "tenants")  # the screen's answer, as the next start will read it
    assert entry is not None and entry["days"] == 7 and entry["saved_at"] == float(T0)
    assert [r["tenant_id"] for r in entry["rows"]] == shown
    assert (tmp_path / "cache" / "zeta" / "answers" / "w.tenants.json").stat().st_mode & 0o777 == 0o600

    # Next start, ClickHouse unreachable: the last answer is on screen, stale, with the error.
    down = ZetaConfig(
        default_context="w", contexts={"w": ContextConfig(clickhouse=ClickHouseConfig(path="/nonexistent/zeta/store"))}
    )
    app = build_app(down, "w", clock=lambda: float(T0) + 3600, live=True)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _go(pilot, "7")
        assert _keys(screen.query_one("#tenants-table", DataTable)) == shown
        status = str(screen.query_one("#pane-status").render())
        assert "stale" in status and "no embedded ClickHouse store" in status


def test_a_damaged_cache_entry_is_no_entry(tmp_path) -> None:
    from zeta_tui.config.answer_cache import AnswerCache

    cache = AnswerCache(tmp_path)
    (tmp_path / "w.tenants.json").write_text("{not json")
    assert cache.load("w", "tenants") is None
    (tmp_path / "w.tenants.json").write_text('["a list"]')
    assert cache.load("w", "tenants") is None
    cache.save("w/../x", "tenants", {"saved_at": 1.0, "rows": []})
    assert (
        cache.load("w/../x", "tenants") == {"saved_at": 1.0, "rows": []}
        and not (tmp_path.parent / "x.tenants.json").exists()
    )


def test_a_cached_answer_is_stale_until_this_run_answers() -> None:
    from zeta_tui.models.snapshot import PaneState, Snapshot
    from zeta_tui.widgets.pane_status import describe

    cached = Snapshot(value=[1], fetched_at=100.0, from_cache=True)
    assert cached.state(now=101.0, fresh_for=25.0) is PaneState.STALE  # one second old, but a previous run's
    assert "previous run" in describe(cached, 101.0, 25.0)[1]
    assert cached.succeeded([2], 102.0).state(now=103.0, fresh_for=25.0) is PaneState.FRESH
