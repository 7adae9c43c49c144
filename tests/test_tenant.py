"""One tenant's figures (`zeta tenant`, the Tenant screen's Prometheus half): the folds on hand-built
answers, and every figure on the backfilled world at T0 against the world's raw samples and its
documented schedule (tests/test_world_ml.py says the dates): tenant_007's training has failed
data validation since 08:00; tenant_013's feed has been stale since 15:30 (its batches every 5
minutes at tenant number x 37 s mod 300). The ClickHouse half is the catalog's queries, checked
in tests/test_analytics_screens.py; here its absence, failure and the JSON it gives.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tests.support.world import T0, close, extrapolated_rate, grid
from tests.test_ml_engine import _level, _median
from zeta_tui.cli import main
from zeta_tui.models.alerts import Alert
from zeta_tui.models.ml_engine import QUALITY_DROP_THRESHOLD
from zeta_tui.models.tenant import (
    DATA_STALE_AFTER_S,
    TenantAlert,
    TenantMl,
    ndcg_trends,
    quality_of,
    sort_alerts,
    tenant_in,
    training_of,
)
from zeta_tui.models.timerange import TimeRange

FAILURES_FROM = datetime(2026, 3, 11, 8, 0, tzinfo=UTC).timestamp()
STALE_FROM = datetime(2026, 3, 11, 15, 30, tzinfo=UTC).timestamp()
BEFORE_SPIKE = T0 - 15 * 60  # before the 17:10 ml-engine spike dips every tenant's quality
RULES = Path(__file__).resolve().parent.parent / "queries" / "prometheus" / "alerts.yaml"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


# --- the folds on hand-built answers -------------------------------------------------------------


def test_the_stale_threshold_is_the_rules():
    rule = next(
        r
        for g in yaml.safe_load(RULES.read_text())["groups"]
        for r in g["rules"]
        if r.get("alert") == "TenantDataStale"
    )
    found = re.fullmatch(r"time\(\) - tenant_data_last_ingest_timestamp_seconds > (\d+)", rule["expr"].strip())
    assert found is not None and float(found.group(1)) == DATA_STALE_AFTER_S


def test_staleness_is_strictly_over_the_threshold_and_never_is_unknown():
    at = 10_000.0
    assert not TenantMl("t", at, "1h", last_ingest=at - DATA_STALE_AFTER_S).stale
    assert TenantMl("t", at, "1h", last_ingest=at - DATA_STALE_AFTER_S - 1).stale
    never = TenantMl("t", at, "1h", last_ingest=0.0)
    assert never.data_age_s is None and not never.stale and never.healthy


def test_training_from_one_answer_of_four_metric_names():
    samples = [
        ("training_job_status", {"status": "running", "tenant_id": "t"}, 0.0),
        ("training_job_status", {"status": "failed", "reason": "oom", "tenant_id": "t"}, 1.0),
        ("training_job_status", {"status": "succeeded", "tenant_id": "t"}, 0.0),
        ("training_job_last_start_timestamp_seconds", {"tenant_id": "t"}, 900.0),
        ("training_job_last_duration_seconds", {"tenant_id": "t"}, 30.0),
        ("training_job_last_success_timestamp_seconds", {"tenant_id": "t"}, 400.0),
    ]
    job = training_of("t", samples, now=1000.0)
    assert job is not None
    assert (job.status, job.reason, job.started, job.duration_s, job.failing_for_s) == ("failed", "oom", 900, 30, 600)
    assert training_of("t", [], now=1000.0) is None


def test_quality_takes_the_serving_version_against_the_median():
    q = quality_of("t", [("v41", 0.50), ("v42", 0.40)], 0.50)
    assert q is not None and (q.ndcg, q.model_version, q.drop) == (0.50, "v41", 0.0)
    q = quality_of("t", [("v42", 0.44)], 0.50)
    assert q is not None and q.dropped and q.drop == pytest.approx(0.12) and QUALITY_DROP_THRESHOLD == 0.10
    assert quality_of("t", [], None) is None


def test_ndcg_lines_per_version_in_serving_order_with_gaps():
    xs = (0.0, 60.0, 120.0)
    lines = ndcg_trends([("v42", [(120.0, 0.3)]), ("v41", [(0.0, 0.4), (60.0, 0.41)])], xs)
    assert [ln.label for ln in lines] == ["v41", "v42"]
    assert lines[0].ys[:2] == (0.4, 0.41) and math.isnan(lines[0].ys[2]) and math.isnan(lines[1].ys[0])


def test_alerts_firing_first_and_muted_ones_do_not_count():
    alerts = sort_alerts(
        [
            TenantAlert("B", "warning", "silenced", 100.0),
            TenantAlert("A", "warning", "firing", 300.0),
            TenantAlert("C", "critical", "firing", 200.0),
        ]
    )
    assert [a.name for a in alerts] == ["C", "A", "B"]
    ml = TenantMl("t", 1000.0, "1h", alerts=alerts)
    assert len(ml.firing) == 2 and not ml.healthy and ml.problems() == ["2 alert(s) firing"]
    assert TenantMl("t", 1000.0, "1h", alerts=alerts[2:]).healthy  # silenced: someone decided


def test_tenant_of_a_span_or_labels():
    assert tenant_in({"tenant.id": "acme"}.get, ("tenant_id", "tenant.id")) == "acme"
    assert tenant_in({"tenant_id": " ", "tenant": "b"}.get, ("tenant_id", "tenant")) == "b"
    assert tenant_in({}.get, ("tenant_id",)) == ""


class _Fake:
    """Prometheus and Alertmanager answering empty, counting what is in flight at once."""

    def __init__(self) -> None:
        self.in_flight = self.most = 0
        self.filters: list = []

    async def _wait(self):
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1

    async def query(self, expr, at=None):
        from zeta_tui.models.series import InstantSample, QueryResult

        await self._wait()
        if expr.startswith("ALERTS"):  # another tenant's alert must not be counted
            return QueryResult([InstantSample({"alertname": "X", "tenant_id": "other"}, 0, 1)])
        return QueryResult([])

    async def query_range(self, expr, start, end, step):
        from zeta_tui.models.series import QueryResult

        await self._wait()
        return QueryResult([])

    async def alerts(self, filters=()):
        await self._wait()
        self.filters = list(filters)
        return [
            Alert({"alertname": "TenantDataStale", "tenant_id": "t1", "severity": "warning"}, starts_at=5.0),
            Alert({"alertname": "ModelQualityDrop", "tenant_id": "t1"}, silenced_by=("s1",)),
        ]


def _catalog():
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    return PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")


def test_one_gather_and_alertmanager_asked_for_the_tenant_only():
    from zeta_tui.backends.tenant import fetch_tenant_ml

    fake = _Fake()
    tr = TimeRange(0, 3600, "1h")
    ml = asyncio.run(fetch_tenant_ml(fake, _catalog(), "t1", time_range=tr, am=fake)).data
    assert fake.most == 8  # every question in flight before the first answer
    assert fake.filters == ['tenant_id="t1"']
    assert [(a.name, a.state) for a in ml.alerts] == [("TenantDataStale", "firing"), ("ModelQualityDrop", "silenced")]
    assert ml.alerts_source == "alertmanager" and ml.known  # its alerts are all Prometheus had of it
    without_am = asyncio.run(fetch_tenant_ml(fake, _catalog(), "t1", time_range=tr)).data
    assert without_am.alerts == () and without_am.alerts_source == "prometheus"


def test_an_alertmanager_that_fails_leaves_the_alerts_unknown_and_the_rest_shown():
    from zeta_tui.backends.tenant import fetch_tenant_ml
    from zeta_tui.errors import BackendUnavailable

    class Down(_Fake):
        async def alerts(self, filters=()):
            raise BackendUnavailable("cannot connect", where="alertmanager at http://127.0.0.1:2")

    fake = _Fake()
    ml = asyncio.run(fetch_tenant_ml(fake, _catalog(), "t1", time_range=TimeRange(0, 3600, "1h"), am=Down())).data
    assert ml.alerts == () and "cannot connect (alertmanager at http://127.0.0.1:2)" in ml.alerts_error
    assert ml.problems() == ["alerts unknown"] and not ml.healthy


# --- against the world ---------------------------------------------------------------------------


def _config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[contexts.t.prometheus]\nurl = "{url}"\ntimeout_seconds = 20\n{extra}')
    return path


def _tenant(capsys, config: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "tenant", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _doc(capsys, config: Path, tenant: str, at: float = T0, range_: str = "1h") -> tuple[int, dict]:
    code, out, err = _tenant(capsys, config, tenant, "--at", str(at), "--range", range_, "--json")
    assert "Traceback" not in err
    return code, json.loads(out)


def _raw(pw, series, end: float) -> list[tuple[float, float]]:
    times = grid(pw.start, end, pw.step)
    return list(zip(times, pw.world.values(series, times)))


def _at_grid(pw, series, at: float) -> float:
    return _raw(pw, series, at)[-1][1]


def _newest_batch(tenant: str, t: float) -> float:
    """The documented schedule: a batch every 5 minutes at tenant number x 37 s mod 300; none of
    tenant_013's from 15:30."""
    phase = int(tenant[-3:]) * 37 % 300
    newest = max(b for b in range(int(t) - 600, int(t) + 1) if b % 300 == phase)
    if tenant == "tenant_013" and newest >= STALE_FROM:
        newest = max(b for b in range(int(STALE_FROM) - 600, int(STALE_FROM)) if b % 300 == phase)
    return float(newest)


@pytest.mark.prometheus
@pytest.mark.parametrize("tenant", ["tenant_007", "tenant_013", "tenant_021"])
def test_every_figure_against_the_raw_samples(prometheus_world, tmp_path, capsys, tenant):
    pw = prometheus_world
    code, doc = _doc(capsys, _config(tmp_path, pw.url), tenant)
    ml = doc["prometheus"]
    # Freshness: the schedule's newest batch as of the newest sample an instant query at T0 sees.
    seen = grid(pw.start, T0, pw.step)[-1]
    age = T0 - _newest_batch(tenant, seen)
    assert ml["freshness"]["age_seconds"] == age
    assert ml["freshness"]["stale"] is (age > 3600) is (tenant == "tenant_013")
    # Training: the raw status gauge that is 1, and the three gauges.
    statuses = [
        (s.label_dict["status"], s.label_dict.get("reason", ""))
        for s in pw.world.find("training_job_status", tenant_id=tenant)
        if _at_grid(pw, s, T0) == 1
    ]
    assert [(ml["training"]["status"], ml["training"]["reason"] or "")] == statuses
    started = _at_grid(pw, pw.world.one("training_job_last_start_timestamp_seconds", tenant_id=tenant), T0)
    assert ml["training"]["started"] == datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if tenant == "tenant_007":  # failing data validation since 08:00: no good model since before then
        assert (ml["training"]["status"], ml["training"]["reason"]) == ("failed", "data_validation")
        assert T0 - (FAILURES_FROM + 55 * 60) < ml["training"]["failing_for_seconds"] < T0 - (FAILURES_FROM - 6 * 3600)
    # Quality: max over versions in the 5-minute lookback now, the median of its 5-minute steps.
    per_version = [
        _raw(pw, s, T0) for s in pw.world.find("ml_recommendation_quality", metric="ndcg_10", tenant_id=tenant)
    ]
    steps = range(math.ceil((T0 - 7 * 86400) / 300) * 300, int(T0) + 1, 300)
    median = _median([v for v in (_level(per_version, s) for s in steps) if v is not None])
    now = _level(per_version, T0)
    assert close(ml["quality"]["value"], now) and close(ml["quality"]["median_7d"], median)
    assert ml["quality"]["dropped"] is ((median - now) / median > 0.10)
    # Served: rate over the hour, summed over the tenant's series.
    served = sum(
        extrapolated_rate(_raw(pw, s, T0), T0, 3600)
        for s in pw.world.find("recommendations_served_total", tenant_id=tenant)
    )
    assert close(ml["recommendations_served_per_second"], served, 1e-9)
    assert ml["alerts"] == [] and ml["alerts_source"] == "prometheus"  # the world Prometheus evaluates no rules
    assert code == (0 if ml["healthy"] else 1) and code == 1  # at T0 the spike dips every tenant's quality
    assert doc["clickhouse"] is None and doc["clickhouse_error"]["kind"] == "not_configured"
    assert "[contexts.t.clickhouse]" in doc["clickhouse_error"]["hint"]


@pytest.mark.prometheus
def test_the_charts_against_the_raw_samples(prometheus_world):
    """The NDCG@10 line and the served trend at each step of the range, as a range query sees them."""
    from zeta_tui.backends.tenant import fetch_tenant_ml

    pw = prometheus_world
    tr = TimeRange(T0 - 3600, T0, "1h")

    async def fetch():
        client = pw.client()
        try:
            return (await fetch_tenant_ml(client, _catalog(), "tenant_013", time_range=tr)).data
        finally:
            await client.aclose()

    ml = asyncio.run(fetch())
    series = {
        s.label_dict["model_version"]: _raw(pw, s, T0)
        for s in pw.world.find("ml_recommendation_quality", metric="ndcg_10", tenant_id="tenant_013")
    }
    assert [ln.label for ln in ml.ndcg] == [v for v in sorted(series) if _level([series[v]], ml.ndcg[0].xs[-1])]
    for line in ml.ndcg:
        for x, y in zip(line.xs, line.ys):
            expected = _level([series[line.label]], x)
            assert (math.isnan(y) and expected is None) or close(y, expected), (line.label, x)
    window = {"1h": 120}[tr.label]  # rate_window of a 1 h range (step 60 s): 2 min
    counters = [_raw(pw, s, T0) for s in pw.world.find("recommendations_served_total", tenant_id="tenant_013")]
    trend = ml.served_trend
    assert trend is not None
    for x, y in list(zip(trend.xs, trend.ys))[::10]:
        assert close(y, sum(extrapolated_rate(c, x, window) for c in counters), 1e-9), x


@pytest.mark.prometheus
def test_a_healthy_tenant_is_exit_0(prometheus_world, tmp_path, capsys):
    """Before the spike, a tenant the rollout did not hurt, whose training did not fail and whose
    feed is fresh, found from the raw samples."""
    pw = prometheus_world
    config = _config(tmp_path, pw.url)
    for tenant in (f"tenant_{n:03d}" for n in range(1, 41)):
        failed = pw.world.find("training_job_status", tenant_id=tenant, status="failed")
        if (
            any(_at_grid(pw, s, BEFORE_SPIKE) == 1 for s in failed)
            or int(tenant[-3:]) % 5 == 108 % 5
            or tenant == "tenant_013"
        ):
            continue
        code, doc = _doc(capsys, config, tenant, at=BEFORE_SPIKE)
        assert (code, doc["prometheus"]["healthy"], doc["prometheus"]["problems"]) == (0, True, [])
        code, out, _ = _tenant(capsys, config, tenant, "--at", str(BEFORE_SPIKE))
        assert code == 0 and f"tenant {tenant} at " in out and "no problem" in out
        return
    pytest.fail("no healthy tenant before the spike")


@pytest.mark.prometheus
def test_the_text_names_both_halves(prometheus_world, tmp_path, capsys):
    code, out, err = _tenant(capsys, _config(tmp_path, prometheus_world.url), "tenant_013", "--at", str(T0))
    assert (code, err) == (1, "")
    assert "data stale" in out.splitlines()[0] and "STALE" in out
    assert out.index("Prometheus (model, data, alerts)") < out.index("ClickHouse: not shown")


def test_prometheus_down_is_exit_3_with_its_url(tmp_path, capsys, closed_port_url):
    code, out, err = _tenant(capsys, _config(tmp_path, closed_port_url), "tenant_007", "--json")
    assert code == 3 and closed_port_url in err and "Traceback" not in err
    doc = json.loads(out)
    assert doc["prometheus"] is None and doc["prometheus_error"]["kind"] == "unavailable"


@pytest.mark.prometheus
def test_a_clickhouse_that_cannot_be_read_is_exit_3_with_the_prometheus_half(prometheus_world, tmp_path, capsys):
    extra = '[contexts.t.clickhouse]\npath = "/nonexistent/zeta/store"\n'
    code, out, err = _tenant(capsys, _config(tmp_path, prometheus_world.url, extra), "tenant_007", "--at", str(T0))
    assert code == 3 and "/nonexistent/zeta/store" in err
    assert "training: failed (data_validation)" in out and "ClickHouse: could not be read" in out


@pytest.mark.prometheus
def test_an_alertmanager_down_is_exit_3_with_every_other_figure(prometheus_world, tmp_path, capsys):
    extra = '[contexts.t.alertmanager]\nurl = "http://127.0.0.1:2"\ntimeout_seconds = 2\n'
    config = _config(tmp_path, prometheus_world.url, extra)
    code, out, err = _tenant(capsys, config, "tenant_013", "--at", str(T0), "--json")
    doc = json.loads(out)
    assert code == 3 and "Alertmanager could not be read" in err and "http://127.0.0.1:2" in err
    assert doc["prometheus"]["freshness"]["stale"] and doc["prometheus"]["alerts_error"]
    assert doc["prometheus"]["alerts_source"] == "alertmanager"


def test_config_errors_are_exit_2(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[contexts.t.alertmanager]\nurl = "http://127.0.0.1:9"\n')
    code, _, err = _tenant(capsys, config, "tenant_007")
    assert code == 2 and "[contexts.t.prometheus]" in err and "[contexts.t.clickhouse]" in err
    code, _, err = _tenant(capsys, _config(tmp_path, "http://127.0.0.1:9"), "tenant_007", "--range", "soon")
    assert code == 2 and "--range" in err
    code, _, err = _tenant(capsys, _config(tmp_path, "http://127.0.0.1:9"), "tenant_007", "--days", "0")
    assert code == 2 and "--days" in err


@pytest.mark.prometheus
def test_an_unknown_tenant_is_exit_2(prometheus_world, tmp_path, capsys):
    code, out, err = _tenant(capsys, _config(tmp_path, prometheus_world.url), "tenant_999", "--at", str(T0))
    assert (code, out) == (2, "") and "no data for tenant 'tenant_999'" in err
