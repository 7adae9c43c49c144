"""The ML Engine's figures: training jobs, model quality, embedding cache, ANN latency, recommendations.

Pure folds of Prometheus answers (backends/ml_engine.py asks the questions):

- **Training jobs**: one row per tenant, its latest job's status (running, succeeded, failed and
  the reason), when it started, how long it took (for a running job: how long it has run so far,
  not the previous run's duration, which the duration gauge still holds), and for a failure how
  long the tenant has been without a good model: now minus its last success. Failed first
  (longest failing first), then running, then succeeded, each by tenant.
- **Quality**: NDCG@10 now against the tenant's own 7-day median. ``drop`` is the relative fall
  ``(median - now) / median``; ``dropped`` marks a fall over QUALITY_DROP_THRESHOLD, the same
  10 % the ModelQualityDrop rule uses (queries/prometheus/alerts.yaml), without the rule's
  ``for: 30m``: the screen shows the fall as soon as it is there, the alert waits to page.
  Worst (largest drop) first.
- **Recommendations served**: per tenant, per second averaged over the range, top first.

The screen adds charts over the range (``MlCharts``; `zeta ml` leaves them out): NDCG@10 of the
CHART_TENANTS worst tenants (the quality rows' first, so the chart and the table name the same
tenants in the same order), a line per tenant and model version where the label exists; the cache
hit ratio, each point over the rate window ending there; ANN p50/p95/p99 the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from zeta_tui.models.series import Series

#: ModelQualityDrop's threshold: a tenant's NDCG@10 more than 10 % below its 7-day median
QUALITY_DROP_THRESHOLD = 0.10
#: ANN latency quantiles shown
ANN_QUANTILES = (0.5, 0.95, 0.99)
#: how many of the worst tenants the quality chart draws (a line per model version each)
CHART_TENANTS = 5

_STATUS_ORDER = {"failed": 0, "running": 1, "succeeded": 2}


@dataclass(frozen=True, slots=True)
class TrainingJob:
    """A tenant's latest training job as its gauges say it at the time asked."""

    tenant_id: str
    status: str  # running, succeeded, failed (or what the exporter says)
    reason: str = ""  # why it failed ("" otherwise)
    started: float | None = None  # unix seconds
    duration_s: float | None = None  # of this job once finished (None while it runs)
    running_for_s: float | None = None  # running jobs only: now minus their start
    last_success: float | None = None  # unix seconds; None when never
    failing_for_s: float | None = None  # failed jobs only: now minus the last success

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def sort_key(self) -> tuple[int, float, str]:
        return (_STATUS_ORDER.get(self.status, 3), -(self.failing_for_s or 0.0), self.tenant_id)


@dataclass(frozen=True, slots=True)
class TenantQuality:
    """A tenant's NDCG@10 now, the model version serving it, and its 7-day median."""

    tenant_id: str
    ndcg: float | None
    model_version: str = ""
    median_7d: float | None = None

    @property
    def drop(self) -> float | None:
        """Relative fall below the median (negative when above it); None when either is unknown."""
        if self.ndcg is None or self.median_7d is None or self.median_7d == 0:
            return None
        return (self.median_7d - self.ndcg) / self.median_7d

    @property
    def dropped(self) -> bool:
        d = self.drop
        return d is not None and d > QUALITY_DROP_THRESHOLD


@dataclass(frozen=True, slots=True)
class TenantServed:
    """Recommendations served to a tenant, per second over the range."""

    tenant_id: str
    per_second: float


@dataclass(frozen=True, slots=True)
class QualityLine:
    """One tenant's NDCG@10 under one model version over the range ("" when unversioned)."""

    tenant_id: str
    model_version: str
    series: Series
    #: the tenant's rank among the charted tenants (0 = worst): its colour in the chart
    rank: int


@dataclass(frozen=True, slots=True)
class MlCharts:
    """The ML Engine's figures over the range, step by step (the screen's charts)."""

    step_s: float
    #: the rate window of each point (e.g. "2m"): a point is the figure over the window ending there
    window: str
    quality: tuple[QualityLine, ...] = ()
    cache_hit_ratio: Series | None = None
    ann_latency_s: dict[float, Series | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MlEngine:
    """Every figure of the ML Engine screen for one time range."""

    at: float
    range_label: str
    training: tuple[TrainingJob, ...] = ()
    quality: tuple[TenantQuality, ...] = ()
    cache_hit_ratio: float | None = None
    ann_latency_s: dict[float, float | None] = field(default_factory=dict)
    served: tuple[TenantServed, ...] = ()
    #: the screen's charts (None for `zeta ml`, which asks only the figures above)
    charts: MlCharts | None = None

    @property
    def failing(self) -> tuple[TrainingJob, ...]:
        return tuple(j for j in self.training if j.failed)

    @property
    def dropped(self) -> tuple[TenantQuality, ...]:
        return tuple(q for q in self.quality if q.dropped)

    @property
    def healthy(self) -> bool:
        """No tenant's training is failing and no tenant's quality dropped."""
        return not self.failing and not self.dropped


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def training_jobs(
    status: list[tuple[str, str, str]],
    started: dict[str, float],
    duration: dict[str, float],
    last_success: dict[str, float],
    *,
    now: float,
) -> list[TrainingJob]:
    """Rows from (tenant, status, reason) of the status gauge's 1s and the per-tenant gauges.

    A tenant with a start but no status still gets a row ("unknown"); a last success of 0 (the
    exporter's "never") is None, and then a failure's failing-for is unknown.
    """
    by_tenant: dict[str, tuple[str, str]] = {}
    for tenant, state, reason in status:
        # One status is 1 at a time; if an exporter says two, failed wins (it is the one to act on).
        if tenant not in by_tenant or state == "failed":
            by_tenant[tenant] = (state, reason)
    tenants = sorted(set(by_tenant) | set(started))
    rows = []
    for tenant in tenants:
        state, reason = by_tenant.get(tenant, ("unknown", ""))
        success = _finite(last_success.get(tenant))
        success = success if success else None
        failing_for = max(0.0, now - success) if state == "failed" and success is not None else None
        start = _finite(started.get(tenant))
        running = state == "running"
        rows.append(
            TrainingJob(
                tenant_id=tenant,
                status=state,
                reason=reason,
                started=start,
                duration_s=None if running else _finite(duration.get(tenant)),
                running_for_s=max(0.0, now - start) if running and start is not None else None,
                last_success=success,
                failing_for_s=failing_for,
            )
        )
    rows.sort(key=TrainingJob.sort_key)
    return rows


def tenant_quality(by_version: list[tuple[str, str, float]], median: dict[str, float]) -> list[TenantQuality]:
    """Rows from (tenant, model version, NDCG) and each tenant's median; worst drop first.

    A tenant's NDCG now is the highest of its versions' (``max without (model_version)``, as the
    rule reads it: one version serves at a time, and an old version's series may linger minutes).
    Tenants without a known drop come last, by tenant.
    """
    best: dict[str, tuple[float, str]] = {}
    for tenant, version, value in by_version:
        if math.isfinite(value) and (tenant not in best or value > best[tenant][0]):
            best[tenant] = (value, version)
    rows = [
        TenantQuality(
            tenant_id=t,
            ndcg=best[t][0] if t in best else None,
            model_version=best[t][1] if t in best else "",
            median_7d=_finite(median.get(t)),
        )
        for t in sorted(set(best) | set(median))
    ]
    rows.sort(key=lambda q: (q.drop is None, -(q.drop or 0.0), q.tenant_id))
    return rows


def served_per_tenant(rates: dict[str, float]) -> list[TenantServed]:
    """Top tenants first (ties by tenant)."""
    rows = [TenantServed(t, v) for t, v in rates.items() if math.isfinite(v)]
    rows.sort(key=lambda r: (-r.per_second, r.tenant_id))
    return rows


def quality_lines(
    series: list[Series], worst: list[str], *, tenant_label: str = "tenant_id", version_label: str = "model_version"
) -> list[QualityLine]:
    """The range series of the ``worst`` tenants, worst first, then each tenant's versions in the
    order they served (first sample first). Series of other tenants are left out."""
    rank = {t: i for i, t in enumerate(worst)}
    lines = [
        QualityLine(s.label(tenant_label), s.label(version_label), s, rank[s.label(tenant_label)])
        for s in series
        if s.label(tenant_label) in rank and s.samples
    ]
    lines.sort(key=lambda ln: (ln.rank, ln.series.samples[0].t, ln.model_version))
    return lines
