"""Reading the incident history: Prometheus's ALERTS / ALERTS_FOR_STATE samples, Alertmanager's
routing tree and silences. Used by `zeta incidents` and the Incidents screen; the meaning of it
all is models/incidents.py.

The history is read as raw samples (an instant query of a range selector, ``ALERTS[7d]`` at the
window's end), not as a range query: a range query stamps every point with its step's time, and
a series written without staleness markers (backfilled history, a remote store) would seem to
last five minutes (the lookback) after its last sample. Raw samples give the evaluations
themselves, to the millisecond. Two kinds of question are asked:

- the critical alerts over the whole window and ``MARGIN`` before it (an incident detected in
  the window may have begun before it): one query;
- the other alerts around each incident (models/incidents.AROUND), one query per stretch of
  time the incidents cover (overlapping stretches merged), at most ``PARALLEL`` at once: an
  always-firing warning (a Watchdog, a failed job) would otherwise bring a week of samples.

Alertmanager gives the routing tree as the server runs it (/api/v2/status, ``config.original``,
YAML) and its silences, expired ones included, for as long as it keeps them (its
``--data.retention``, 120 h by default): an incident older than that may have been silenced
without zeta knowing. Its routing is today's: a tree changed since an incident is evaluated as it
is now. Either backend may fail: Prometheus's failure leaves nothing to show; Alertmanager's
leaves the receivers and silences unknown (the errors and ``unread`` say which).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zeta_tui.errors import BackendUnavailable, ZetaError
from zeta_tui.models.alert_routing import RoutingError, RoutingTree, routing_tree
from zeta_tui.models.alerts import Silence
from zeta_tui.models.incidents import (
    AROUND,
    AlertEpisode,
    Incident,
    IncidentSummary,
    alert_samples,
    alert_service,
    episodes,
    incidents_from,
    sample_interval,
    summarise,
)
from zeta_tui.models.timerange import format_age

if TYPE_CHECKING:
    from zeta_tui.backends.alertmanager import AlertmanagerClient
    from zeta_tui.backends.prometheus import PrometheusClient

#: how long before the window the critical alerts are read: an incident detected in the window
#: may have begun before it
MARGIN = 3600.0
#: related-alert queries in flight at once
PARALLEL = 4
#: the evaluation interval assumed for an alert seen at one evaluation only
DEFAULT_INTERVAL = 60.0

#: the critical alerts: severity "critical" in any case, as models/alerts.Labelled reads it
CRITICAL_SELECTOR = '{__name__=~"ALERTS|ALERTS_FOR_STATE", severity=~"(?i)critical"}'
#: the other alerts, firing only (ALERTS_FOR_STATE has no alertstate: != keeps it)
OTHER_SELECTOR = '{__name__=~"ALERTS|ALERTS_FOR_STATE", severity!~"(?i)critical", alertstate!="pending"}'

RawSeries = tuple[dict[str, str], list[tuple[float, float]]]
ServiceOf = Callable[[Mapping[str, str]], str]


@dataclass
class IncidentHistory:
    """What the backends answered for the window [since, until]."""

    since: float
    until: float
    criticals: list[AlertEpisode] = field(default_factory=list)
    others: list[AlertEpisode] = field(default_factory=list)
    routing: RoutingTree | None = None
    silences: list[Silence] | None = None
    errors: list[ZetaError] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    #: "alertmanager" when its routing and silences are unknown (not configured, or not read)
    unread: tuple[str, ...] = ()


async def read_history(
    prom: PrometheusClient,
    am: AlertmanagerClient | None,
    since: float,
    until: float,
    *,
    service_of: ServiceOf,
    pager: str | None = None,
) -> IncidentHistory:
    """The critical alerts of [since - MARGIN, until], the other alerts around them, and
    Alertmanager's routing and silences. Raises the Prometheus error when the critical alerts
    cannot be read (there is nothing to show); an Alertmanager failure is kept in ``errors``."""
    history = IncidentHistory(since, until)

    async def from_prometheus() -> None:
        series, warnings = await raw_samples(prom, CRITICAL_SELECTOR, since - MARGIN, until)
        history.warnings += warnings
        history.criticals = _episodes(series, until)
        stretches = related_stretches(history.criticals, since, until, service_of)
        history.others, warnings = await _others(prom, stretches, until)
        history.warnings += warnings

    async def from_alertmanager() -> tuple[RoutingTree, list[Silence]] | None:
        return await _routing(am, pager) if am is not None else None

    prom_result, am_result = await asyncio.gather(from_prometheus(), from_alertmanager(), return_exceptions=True)
    if isinstance(prom_result, BaseException):
        raise prom_result
    if isinstance(am_result, ZetaError):
        history.errors.append(am_result)
    elif isinstance(am_result, BaseException):
        raise am_result  # anything but a ZetaError is a bug
    elif am_result is not None:
        history.routing, history.silences = am_result
    if history.routing is None:
        history.unread = ("alertmanager",)
    return history


def related_stretches(
    criticals: Sequence[AlertEpisode], since: float, until: float, service_of: ServiceOf
) -> list[tuple[float, float]]:
    """The stretches of time to read the other alerts in: each fired critical's span widened by
    AROUND, overlapping ones merged, clipped to [since - MARGIN, until]."""
    spans = sorted(
        (max(since - MARGIN, ep.began - AROUND), min(until, ep.end(until) + AROUND))
        for ep in criticals
        if ep.fired is not None and service_of(ep.labels)
    )
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


async def _others(
    prom: PrometheusClient, stretches: Sequence[tuple[float, float]], until: float
) -> tuple[list[AlertEpisode], tuple[str, ...]]:
    gate = asyncio.Semaphore(PARALLEL)

    async def one(start: float, end: float) -> tuple[list[RawSeries], tuple[str, ...]]:
        async with gate:
            return await raw_samples(prom, OTHER_SELECTOR, start, end)

    answers = await asyncio.gather(*(one(s, e) for s, e in stretches))
    series = [s for found, _ in answers for s in found]
    warnings = tuple(dict.fromkeys(w for _, ws in answers for w in ws))
    # A stretch's end is not the window's: an alert is open only if it lasts to ``until``.
    return _episodes(series, until), warnings


def _episodes(series: Sequence[RawSeries], until: float) -> list[AlertEpisode]:
    alerts = alert_samples(series)
    every = sorted(t for _, samples in series for t, _ in samples)
    default = sample_interval(every) or DEFAULT_INTERVAL
    return [ep for alert in alerts for ep in episodes(alert, until, default)]


async def raw_samples(
    prom: PrometheusClient, selector: str, start: float, end: float
) -> tuple[list[RawSeries], tuple[str, ...]]:
    """Every sample of the series ``selector`` picks in [start, end], as (labels, [(t, v)])."""
    result = await prom.samples(selector, start, end)
    data = [(dict(s.labels), [(p.t, p.v) for p in s.samples]) for s in result.data]
    return data, tuple(f"prometheus: {w}" for w in result.warnings)


async def _routing(am: AlertmanagerClient, pager: str | None) -> tuple[RoutingTree, list[Silence]]:
    status, silences = await asyncio.gather(am.status(), am.silences())
    return routing_from_status(status, am.where, pager), silences


def routing_from_status(status: Mapping[str, Any], where: str, pager: str | None = None) -> RoutingTree:
    """The routing tree of Alertmanager's /api/v2/status answer (its ``config.original`` YAML)."""
    import yaml  # only here: reading a configuration is this module's business alone

    text = (status.get("config") or {}).get("original") if isinstance(status.get("config"), Mapping) else None
    if not isinstance(text, str) or not text.strip():
        raise BackendUnavailable(
            "Alertmanager's /api/v2/status has no config.original: its routing tree is unknown",
            where=where,
            hint="receivers and missed pages cannot be told; is this an Alertmanager (API v2)?",
        )
    try:
        config = yaml.safe_load(text)
        return routing_tree(config, pager)
    except (yaml.YAMLError, RoutingError) as exc:
        raise BackendUnavailable(
            f"Alertmanager's configuration could not be read: {exc}",
            where=where,
            hint="receivers and missed pages are unknown; `amtool check-config` on its file says more",
        ) from None


@dataclass(frozen=True)
class IncidentReport:
    """What `zeta incidents` and the Incidents screen show: the incidents, the latest to begin first, and
    their summary against the seed's criteria."""

    incidents: list[Incident]
    summary: IncidentSummary
    #: what cannot be judged without Alertmanager ("receivers", "silences"), empty when it was read
    unknown: tuple[str, ...] = ()
    pager_receivers: tuple[str, ...] = ()


def incident_report(history: IncidentHistory, service_label: str | None = None) -> IncidentReport:
    """The incidents of the history (models/incidents.py) and their summary."""

    def service_of(labels: Mapping[str, str]) -> str:
        return alert_service(labels, service_label)

    routing = history.routing
    route = None
    if routing is not None:

        def route(labels: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
            receivers = routing.receivers_for(labels)
            return receivers, tuple(r for r in receivers if routing.is_pager(r))

    found = incidents_from(
        history.criticals,
        history.others,
        since=history.since,
        now=history.until,
        service_of=service_of,
        route=route,
        silences=history.silences,
    )
    summary = summarise(found, history.since, history.until, format_age)
    unknown = ("receivers", "silences") if "alertmanager" in history.unread else ()
    return IncidentReport(found, summary, unknown, routing.pager_receivers() if routing is not None else ())
