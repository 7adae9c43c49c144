"""One tenant's figures: its ClickHouse usage (endpoints, quota, cost, SLA) and its Prometheus
half (model quality, training, data freshness, recommendations served, open alerts).

Pure folds of the answers backends/tenant.py asks for; the Tenant screen and `zeta tenant` show
the same ``TenantReport``. How each Prometheus figure is computed:

- **Quality**: NDCG@10 now against the tenant's 7-day median, with models/ml_engine.py's
  ``tenant_quality`` fold and QUALITY_DROP_THRESHOLD (the ModelQualityDrop rule's 10 %, without
  its ``for: 30m``). The chart draws one line per ``model_version`` over the window (a rollout
  shows as the old version's line ending where the new one's starts) and the median beside them.
- **Training**: the tenant's latest job, models/ml_engine.py's ``training_jobs`` fold.
- **Freshness**: now minus ``tenant_data_last_ingest_timestamp_seconds``; STALE when over
  DATA_STALE_AFTER_S, the TenantDataStale rule's threshold (queries/prometheus/alerts.yaml;
  tests/test_tenant.py checks that they agree), again without the rule's ``for: 5m``.
- **Served**: ``rate(recommendations_served_total)`` summed over the tenant's series, averaged
  over the window, and the same rate over the window as a small trend.
- **Alerts**: Alertmanager's alerts whose ``tenant_id`` label is the tenant (active and muted:
  a silenced alert is still open, and says so), or, in a context without Alertmanager,
  Prometheus's ``ALERTS{alertstate="firing"}`` series with that label.

``healthy`` is False when the latest training job failed, quality dropped, the data is stale or
an alert is firing (a silenced or inhibited one does not count: someone has decided about it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zeta_tui.errors import ZetaError
from zeta_tui.models.ml_engine import TenantQuality, TrainingJob, tenant_quality, training_jobs

#: TenantDataStale's threshold (alerts.yaml: ``time() - tenant_data_last_ingest_timestamp_seconds > 3600``)
DATA_STALE_AFTER_S = 3600.0
#: the metric names tenant_training.promql answers with, each sample under its __name__
TRAINING_STATUS = "training_job_status"
TRAINING_START = "training_job_last_start_timestamp_seconds"
TRAINING_DURATION = "training_job_last_duration_seconds"
TRAINING_SUCCESS = "training_job_last_success_timestamp_seconds"

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Trend:
    """One line of a chart: its label and points (NaN where there is no sample)."""

    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class TenantAlert:
    """An open alert carrying the tenant's id."""

    name: str
    severity: str
    state: str  # firing, silenced, inhibited, muted
    since: float | None  # unix seconds
    summary: str = ""
    source: str = "alertmanager"  # or "prometheus" (ALERTS series)

    @property
    def firing(self) -> bool:
        """Firing and not muted: the alerts that make the tenant unhealthy."""
        return self.state == "firing"


@dataclass(frozen=True, slots=True)
class TenantMl:
    """The Prometheus half of a tenant's figures, as of ``at``, over the window ``range_label``."""

    tenant_id: str
    at: float
    range_label: str
    quality: TenantQuality | None = None
    ndcg: tuple[Trend, ...] = ()
    training: TrainingJob | None = None
    last_ingest: float | None = None
    served_per_second: float | None = None
    served_trend: Trend | None = None
    alerts: tuple[TenantAlert, ...] = ()
    #: where the alerts came from: "alertmanager", or "prometheus" (ALERTS) without one
    alerts_source: str = "alertmanager"
    #: why the alerts are unknown (Alertmanager could not be read); "" when they were read
    alerts_error: str = ""

    @property
    def data_age_s(self) -> float | None:
        """How old the tenant's newest ingested data is (None: no gauge, or 0 = never)."""
        if self.last_ingest is None or self.last_ingest <= 0:
            return None
        return max(0.0, self.at - self.last_ingest)

    @property
    def stale(self) -> bool:
        age = self.data_age_s
        return age is not None and age > DATA_STALE_AFTER_S

    @property
    def firing(self) -> tuple[TenantAlert, ...]:
        return tuple(a for a in self.alerts if a.firing)

    @property
    def known(self) -> bool:
        """Prometheus has any of the tenant's series (False: a mistyped id, or not an ML tenant)."""
        return bool(
            self.quality is not None
            or self.training is not None
            or self.last_ingest is not None
            or self.served_per_second is not None
            or self.alerts
        )

    def problems(self) -> list[str]:
        """What is wrong, in words, worst first; empty when healthy."""
        out = []
        if self.training is not None and self.training.failed:
            out.append(f"training failed ({self.training.reason or 'no reason given'})")
        if self.quality is not None and self.quality.dropped and self.quality.drop is not None:
            out.append(f"NDCG@10 {self.quality.drop * 100:.1f} % below its 7-day median")
        if self.stale:
            out.append("data stale")
        if self.firing:
            out.append(f"{len(self.firing)} alert(s) firing")
        if self.alerts_error:
            out.append("alerts unknown")
        return out

    @property
    def healthy(self) -> bool:
        return not self.problems()


@dataclass(frozen=True)
class TenantUsage:
    """The ClickHouse half: the tenant's endpoints over ``days`` whole UTC days to ``until``, the
    daily latency trend, and its rows of quota, cost and SLA (None: no row for the tenant)."""

    days: int
    until: Any  # datetime.date
    endpoints: tuple[Record, ...]
    trend: tuple[Record, ...]
    quota: Record | None
    cost: Record | None
    sla: Record | None
    notes: tuple[str, ...] = ()  # where the usage figures came from, when not zeta's rollup

    @property
    def requests(self) -> int:
        return sum(int(r["requests"]) for r in self.endpoints)

    @property
    def errors(self) -> int:
        return sum(int(r["errors"]) for r in self.endpoints)


@dataclass(frozen=True)
class TenantReport:
    """Both halves; a half that could not be had carries its error instead (NotConfigured when the
    context has no such backend)."""

    tenant_id: str
    usage: TenantUsage | None = None
    usage_error: ZetaError | None = None
    ml: TenantMl | None = None
    ml_error: ZetaError | None = None


def mine(records: list[Record], tenant: str) -> Record | None:
    """The tenant's row of a per-tenant answer."""
    return next((r for r in records if r["tenant_id"] == tenant), None)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def training_of(tenant: str, samples: list[tuple[str, Mapping[str, str], float]], *, now: float) -> TrainingJob | None:
    """The tenant's latest job from (metric name, labels, value) of tenant_training.promql."""
    status = [
        (tenant, labels.get("status", ""), labels.get("reason", ""))
        for name, labels, v in samples
        if name == TRAINING_STATUS and v == 1
    ]
    gauges: dict[str, dict[str, float]] = {TRAINING_START: {}, TRAINING_DURATION: {}, TRAINING_SUCCESS: {}}
    for name, _, v in samples:
        if name in gauges:
            gauges[name][tenant] = v
    rows = training_jobs(status, gauges[TRAINING_START], gauges[TRAINING_DURATION], gauges[TRAINING_SUCCESS], now=now)
    return rows[0] if rows else None


def quality_of(tenant: str, by_version: list[tuple[str, float]], median: float | None) -> TenantQuality | None:
    """NDCG@10 now (the serving version's) against the median; None when Prometheus has neither."""
    rows = tenant_quality(
        [(tenant, version, v) for version, v in by_version], {tenant: median} if median is not None else {}
    )
    return rows[0] if rows else None


def ndcg_trends(series: list[tuple[str, list[tuple[float, float]]]], xs: tuple[float, ...]) -> tuple[Trend, ...]:
    """One line per model version on the common grid ``xs`` (NaN where that version has no
    sample), in the order the versions first serve."""
    lines = []
    for version, samples in series:
        at = {t: v for t, v in samples}
        ys = tuple(at.get(x, math.nan) for x in xs)
        first = next((i for i, y in enumerate(ys) if not math.isnan(y)), len(ys))
        lines.append((first, version or "ndcg@10", ys))
    lines.sort(key=lambda line: (line[0], line[1]))
    return tuple(Trend(label, xs, ys) for _, label, ys in lines)


def alert_from_labels(
    labels: Mapping[str, str], annotations: Mapping[str, str], state: str, since: float | None, source: str
) -> TenantAlert:
    return TenantAlert(
        name=labels.get("alertname", "?"),
        severity=labels.get("severity", ""),
        state=state,
        since=since,
        summary=annotations.get("summary", ""),
        source=source,
    )


def sort_alerts(alerts: list[TenantAlert]) -> tuple[TenantAlert, ...]:
    """Firing first, then by severity (critical first), then oldest first."""
    rank = {"critical": 0, "warning": 1, "info": 2}
    return tuple(
        sorted(alerts, key=lambda a: (not a.firing, rank.get(a.severity, 3), a.since if a.since else math.inf, a.name))
    )


#: where a span keeps its tenant (OpenTelemetry attribute spellings first, then the log fields')
SPAN_TENANT_KEYS = ("tenant_id", "tenant.id", "tenantId", "tenant")
#: an alert's tenant label
ALERT_TENANT_LABELS = ("tenant_id", "tenant")


def tenant_in(get: Callable[[str], Any], names: Sequence[str]) -> str:
    """The first non-empty value of ``names`` by ``get`` (a span's attribute, an alert's label), as
    text; "" when there is none."""
    for name in names:
        value = get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""
