"""The evidence of one alert: its failing requests by label from Prometheus and its service's
ERROR records from the logs, read together (models/evidence.py says what is made of them).

The window is the alert's: from five minutes before its condition began (the rules' rate window)
to its end (now while it fires). A latency alert (its expression reads the latency histogram)
counts the requests slower than its threshold, at the histogram's nearest bound at or above it;
any other alert counts 5xx responses. Either source may fail alone: what the other found is
shown, with a note saying what is missing and why.
"""

from __future__ import annotations

import asyncio

from zeta_tui.backends.logs.base import LogSource
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.errors import ZetaError
from zeta_tui.models.alerts import Labelled
from zeta_tui.models.conventions import bucket_bound_pattern
from zeta_tui.models.discovery import ServiceInventory
from zeta_tui.models.evidence import Culprit, Evidence, log_culprits, metric_culprits, slow_bound, varying_labels
from zeta_tui.models.timerange import TimeRange
from zeta_tui.querying.alert_expression import split_conditions
from zeta_tui.querying.promql_catalog import string_literal

#: the rules' rate window: failures counted from this long before the condition began
LEAD_SECONDS = 300.0
#: the longest window counted (an alert firing for days is read over its last 6 hours)
MAX_WINDOW_SECONDS = 6 * 3600.0
#: ERROR records read (the newest of the window); the note says when there were more
LOG_LIMIT = 1000
#: series the failing-requests query may return
SERIES_LIMIT = 2000


def evidence_window(began: float, end: float) -> tuple[float, float]:
    """[start, end] of the failures that count: from LEAD_SECONDS before the condition began."""
    start = (began or end - 3600.0) - LEAD_SECONDS
    return max(start, end - MAX_WINDOW_SECONDS), end


def log_query(service: str, field: str = "", value: str = "") -> str:
    """The Logs screen's query for the service's ERROR records (and one field's value)."""
    parts = [f'service:"{_lucene(service)}"'] if service else []
    if field:
        parts.append(f'{_lucene_field(field)}:"{_lucene(value)}"')
    return " AND ".join([*parts, "level:ERROR"])


def _lucene(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _lucene_field(name: str) -> str:
    return "".join("\\" + c if c in ' +-!(){}[]^"~*?:\\/' else c for c in name)


def _selector(inventory: ServiceInventory, row: Labelled, service: str, *extra: str) -> str:
    c = inventory.conventions
    matchers = [f"{c.service}={string_literal(service)}"]
    endpoint = row.labels.get(c.endpoint)
    if endpoint:  # a per-endpoint alert (HighLatency): that endpoint's failures
        matchers.append(f"{c.endpoint}={string_literal(endpoint)}")
    return "{" + ", ".join([*matchers, *extra]) + "}"


def metric_queries(
    inventory: ServiceInventory, row: Labelled, service: str, expression: str, seconds: float
) -> tuple[str, str, str]:
    """(what is counted, the failing series' query, the query of every series of the service)."""
    c = inventory.conventions
    w = f"{max(60, round(seconds))}s"
    conditions = split_conditions(expression) or []
    if c.latency in expression or "histogram_quantile" in expression:
        threshold = conditions[0][2] if conditions else None
        bound = slow_bound(threshold, inventory.latency_bounds, c.seconds_per_unit) if threshold is not None else None
        if bound is not None:
            buckets = f"{c.latency}_bucket"
            every = _selector(inventory, row, service, 'le="+Inf"')
            under = _selector(inventory, row, service, f"le=~{string_literal(bucket_bound_pattern(bound))}")
            failing = (
                f"sum without (le) (increase({buckets}{every}[{w}]))"
                f" - sum without (le) (increase({buckets}{under}[{w}]))"
            )
            unit = "s" if c.latency_unit == "seconds" else "ms"
            return f"requests over {bound:g} {unit}", failing, f"last_over_time({buckets}{every}[{w}])"
    server_errors = _selector(inventory, row, service, f'{c.status}=~"5.."')
    failing = f"increase({c.requests}{server_errors}[{w}])"
    return "5xx responses", failing, f"last_over_time({c.requests}{_selector(inventory, row, service)}[{w}])"


async def gather_evidence(
    prom: PrometheusClient | None,
    inventory: ServiceInventory | None,
    logs: LogSource | None,
    row: Labelled,
    *,
    expression: str,
    window: tuple[float, float],
) -> Evidence:
    """The culprits of ``row`` in ``window`` from whichever of Prometheus and the logs is configured."""
    service = row.service
    start, end = window
    notes: list[str] = []
    if not service:
        return Evidence("failures", notes=("the alert names no service: nothing to break down",))

    async def from_metrics() -> tuple[str, float, list[Culprit]]:
        if prom is None or inventory is None:
            return "failures", 0.0, []
        what, failing, every = metric_queries(inventory, row, service, expression, end - start)
        bad, all_series = await asyncio.gather(
            prom.query(f"topk({SERIES_LIMIT}, {failing})", at=end), prom.query(every, at=end)
        )
        rows = [(s.labels, s.v) for s in bad.data]
        varying = varying_labels(s.labels for s in all_series.data)
        culprits = metric_culprits(rows, varying=varying, constant=(inventory.conventions.service,))
        return what, sum(v for _, v in rows if v > 0), culprits

    async def from_logs() -> tuple[int, list[Culprit], dict[str, frozenset[str]], bool]:
        if logs is None:
            return 0, [], {}, False
        from zeta_tui.querying.logquery import parse_log_query

        page = await logs.search(parse_log_query(log_query(service)), TimeRange(start, end), limit=LOG_LIMIT)
        culprits, fields = log_culprits(page.records)
        return len(page.records), culprits, fields, page.cursor is not None

    metrics, logged = await asyncio.gather(from_metrics(), from_logs(), return_exceptions=True)
    what, metric_total = "failures", 0.0
    metric_found: list[Culprit] = []
    if isinstance(metrics, BaseException):
        notes.append(f"metrics: {_said(metrics)}")
    else:
        what, metric_total, metric_found = metrics
        if prom is not None and not metric_found:
            notes.append(f"metrics: no {what} of {service} in the window")
    log_total: int = 0
    log_found: list[Culprit] = []
    fields: dict[str, frozenset[str]] = {}
    if isinstance(logged, BaseException):
        notes.append(f"logs: {_said(logged)}")
    else:
        log_total, log_found, fields, more = logged
        if more:
            notes.append(f"logs: the newest {log_total:,} ERROR records of the window")
        elif logs is not None and not log_total:
            notes.append(f"logs: no ERROR records of {service} in the window")
    return Evidence(
        what,
        metric_total=metric_total,
        log_total=log_total,
        culprits=(*metric_found, *log_found),
        notes=tuple(notes),
        log_values=fields,
    )


def _said(exc: BaseException) -> str:
    if isinstance(exc, ZetaError):
        return exc.message
    return f"unexpected answer: {type(exc).__name__}: {exc}"
