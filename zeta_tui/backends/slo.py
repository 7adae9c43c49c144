"""Ask Prometheus for every SLO figure at once and fold the answers into SloStatus rows.

Per window (the burn windows 5m/30m/1h/6h and the 30-day budget period) four counts per
service: requests, 5xx answers, requests in the latency histogram and those under 100 ms;
the ratios are taken here, so a service that never failed (no 5xx series) is 0 % bad, and
one that served nothing is "no data" rather than a division by zero. Plus the p95 over the
period and how much of the period the backend holds.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

from zeta_tui.backends.discovery import query_params
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.models.conventions import FAST_SECONDS
from zeta_tui.models.discovery import ServiceInventory
from zeta_tui.models.series import InstantSample, QueryResult
from zeta_tui.models.slo import BURN_WINDOWS, PERIOD_DAYS, SEED_OBJECTIVES, Objective, ObjectiveKind, SloStatus
from zeta_tui.querying.promql_catalog import PromCatalog

PERIOD_WINDOW = f"{PERIOD_DAYS}d"
WINDOWS: tuple[str, ...] = (*BURN_WINDOWS, PERIOD_WINDOW)
#: catalog query -> key of its counts
COUNT_QUERIES = {
    "slo_requests": "requests",
    "slo_requests_failed": "failed",
    "slo_requests_timed": "timed",
    "slo_requests_fast": "fast",
}
P95 = "0.95"


def _by_service(samples: list[InstantSample], label: str) -> dict[str, float]:
    return {s.label(label): s.v for s in samples if not math.isnan(s.v)}


def slo_services(inventory: ServiceInventory, configured: Sequence[str]) -> list[str]:
    """The services to read SLOs for: the configured ones, else those with HTTP requests (an SLO
    of a service that serves none is no data), else every one."""
    from zeta_tui.models.discovery import Signal

    if configured:
        return inventory.names()
    return inventory.with_signal(Signal.REQUESTS) or inventory.names()


def _share(part: float | None, whole: float | None) -> float | None:
    """part/whole clamped to [0, 1]; None when the whole is missing or zero (no traffic).

    The clamp is there because each counter is extrapolated on its own: a bucket's increase
    can come out a hair above the +Inf bucket's.
    """
    if whole is None or whole <= 0.0:
        return None
    return min(1.0, max(0.0, (part or 0.0) / whole))


async def fetch_slo(
    prom: PrometheusClient,
    catalog: PromCatalog,
    inventory: ServiceInventory,
    services: Sequence[str],
    at: float | None = None,
    objectives: Sequence[Objective] = SEED_OBJECTIVES,
) -> QueryResult[list[SloStatus]]:
    """One SloStatus per service and objective, in the order given. Raises only ZetaError.

    ``at`` is the evaluation time (unix seconds; None: the server's now).
    """
    params = query_params(inventory, services)
    label = inventory.conventions.service
    # Without a 100 ms bucket bound no request is known to be fast: the latency SLI is unknown.
    fast_known = not inventory.latency_bounds or any(abs(b - FAST_SECONDS) < 1e-9 for b in inventory.latency_bounds)
    jobs = []
    keys: list[tuple[str, str]] = []
    for window in WINDOWS:
        for name, key in COUNT_QUERIES.items():
            keys.append((key, window))
            jobs.append(prom.query(catalog.render(name, **params, window=window), at=at))
    jobs.append(prom.query(catalog.render("slo_latency_quantile", **params, quantile=P95, window=PERIOD_WINDOW), at=at))
    jobs.append(prom.query(catalog.render("slo_history", **params, window=PERIOD_WINDOW), at=at))
    results = await asyncio.gather(*jobs)
    warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
    if not fast_known:
        bounds = ", ".join(f"{b * 1000:g} ms" for b in inventory.latency_bounds if math.isfinite(b))
        warnings += (f"{inventory.conventions.latency} has no 100 ms bucket ({bounds}): the latency SLI is unknown",)

    counts = {k: _by_service(r.data, label) for k, r in zip(keys, results)}
    p95 = _by_service(results[-2].data, label)
    history = {s.label(label): s.t - s.v for s in results[-1].data if not math.isnan(s.v)}

    def bad_share(service: str, kind: ObjectiveKind, window: str) -> float | None:
        if kind is ObjectiveKind.LATENCY:
            if not fast_known:
                return None
            good = _share(counts["fast", window].get(service), counts["timed", window].get(service))
            return None if good is None else 1.0 - good
        return _share(counts["failed", window].get(service), counts["requests", window].get(service))

    rows = []
    for service in services:
        for objective in objectives:
            kind = objective.kind
            bad = bad_share(service, kind, PERIOD_WINDOW)
            total_key = "timed" if kind is ObjectiveKind.LATENCY else "requests"
            total = counts[total_key, PERIOD_WINDOW].get(service) if bad is not None else None
            rows.append(
                SloStatus(
                    service=service,
                    objective=objective,
                    sli=None if bad is None else 1.0 - bad,
                    good=None if total is None or bad is None else total * (1.0 - bad),
                    total=total,
                    error_ratios={w: bad_share(service, kind, w) for w in BURN_WINDOWS},
                    history_seconds=history.get(service),
                    p95_seconds=p95.get(service) if kind is ObjectiveKind.LATENCY else None,
                )
            )
    return QueryResult(rows, warnings)
