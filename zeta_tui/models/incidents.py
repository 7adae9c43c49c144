"""Incidents from Prometheus's alert history, measured against the seed's success criteria.

Prometheus writes two series for every alert its rules hold, at every evaluation while the alert
is pending or firing: ``ALERTS{alertstate="pending"|"firing", <the alert's labels>} 1`` and
``ALERTS_FOR_STATE{<the alert's labels>} <activeAt>`` (the unix second its condition began to
hold; it survives a restart of Prometheus, which restores alerts from it). When the condition
stops holding, the series stop. This module turns their raw samples into *episodes* of one
alert, then critical episodes into *incidents*. Definitions (docs/incidents.md says them for
users):

- An episode's **condition began** at ALERTS_FOR_STATE's value (its activeAt). That value is in
  whole seconds; when the episode's first sample is the evaluation that value names, the
  sample's own millisecond timestamp is used. Without ALERTS_FOR_STATE, at the episode's first
  sample (pending, else firing).
- It **fired** at its first ``alertstate="firing"`` sample; an episode that never fired (its
  condition ended within its rule's ``for``) is no incident.
- It **resolved** at the first evaluation after its last sample: the last sample plus the
  evaluation interval (the series' own sample spacing). It is still **open** when its last
  sample is within two evaluation intervals of the end of the window.
- Episodes are split by ALERTS_FOR_STATE's value (a new activeAt is a new episode); samples
  without it are split where they stop for more than three intervals.

An **incident** is a critical episode that fired (severity label ``critical``), merged with the
other critical episodes of the same service whose spans [began, resolved] overlap it. Its
*began* is the earliest condition began, its *detected* the earliest firing, its *resolved* the
latest resolution (open while any is open). Time to detect (MTTD) = detected − began; time to
resolve (MTTR) = resolved − detected (PagerDuty's: from the page to the resolution). Around it,
the *related* alerts are the other alerts of the same service that fired within ``AROUND`` of
its span. The service of an alert is the context's configured service label when the alert
carries it, else the first of ``service``, ``job``, ``container`` (models/alerts.SERVICE_LABELS).

A critical is **missed** when no notification for it could page: its route reaches no pager
receiver (models/alert_routing.py), or a silence matching it was in force when it fired.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from zeta_tui.models.alerts import Labelled, Silence, service_label

#: the seed's success criteria
MTTD_TARGET = 300.0
MTTR_TARGET = 3600.0
MISSED_TARGET = 0
#: how far before and after an incident another alert of its service counts as related
AROUND = 900.0
#: labels of the ALERTS series that are not the alert's own
SERIES_LABELS = ("__name__", "alertstate")


@dataclass(frozen=True, slots=True)
class AlertSamples:
    """One alert's raw history: the times of its pending and firing samples, and its
    ALERTS_FOR_STATE samples as (time, activeAt)."""

    labels: Mapping[str, str]
    pending: tuple[float, ...] = ()
    firing: tuple[float, ...] = ()
    active_at: tuple[tuple[float, float], ...] = ()


def alert_samples(series: Iterable[tuple[Mapping[str, str], Sequence[tuple[float, float]]]]) -> list[AlertSamples]:
    """ALERTS and ALERTS_FOR_STATE series (labels, samples) gathered by alert (labels without
    ``__name__`` and ``alertstate``). Other series are ignored."""
    by_alert: dict[tuple[tuple[str, str], ...], dict[str, list[tuple[float, float]]]] = {}
    for labels, samples in series:
        name = labels.get("__name__", "")
        if name == "ALERTS":
            kind = labels.get("alertstate", "")
            if kind not in ("pending", "firing"):
                continue
        elif name == "ALERTS_FOR_STATE":
            kind = "active_at"
        else:
            continue
        key = tuple(sorted((k, v) for k, v in labels.items() if k not in SERIES_LABELS))
        by_alert.setdefault(key, {}).setdefault(kind, []).extend(samples)
    return [
        AlertSamples(
            dict(key),
            tuple(sorted(t for t, _ in kinds.get("pending", ()))),
            tuple(sorted(t for t, _ in kinds.get("firing", ()))),
            tuple(sorted(kinds.get("active_at", ()))),
        )
        for key, kinds in by_alert.items()
    ]


@dataclass(frozen=True, slots=True)
class AlertEpisode(Labelled):
    """One alert from its condition beginning to its resolution (see the module docstring)."""

    labels: Mapping[str, str]
    began: float
    fired: float | None
    last_seen: float
    resolved: float | None  # None: still open at the end of the window
    interval: float
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.resolved is None

    def end(self, now: float) -> float:
        """When it resolved, else ``now`` (it is still open)."""
        return self.resolved if self.resolved is not None else now


def sample_interval(times: Sequence[float]) -> float | None:
    """The median spacing of sorted sample times (an alert's evaluation interval); None for fewer
    than two distinct times."""
    gaps = [b - a for a, b in pairwise(times) if b > a]
    return statistics.median(gaps) if gaps else None


def episodes(alert: AlertSamples, end: float, default_interval: float) -> list[AlertEpisode]:
    """The episodes of one alert in a window ending at ``end`` (see the module docstring);
    ``default_interval`` is used when the alert's own samples do not show its interval."""
    times = sorted({*alert.pending, *alert.firing, *(t for t, _ in alert.active_at)})
    if not times:
        return []
    interval = sample_interval(times) or default_interval
    spans: list[tuple[float | None, list[float]]] = []
    # ALERTS_FOR_STATE: one run of equal activeAt values is one episode.
    for t, value in alert.active_at:
        if spans and spans[-1][0] == value:
            spans[-1][1].append(t)
        else:
            spans.append((value, [t]))
    # ALERTS samples inside a run belong to it; the others are split where they stop.
    loose: list[float] = []
    for t in sorted({*alert.pending, *alert.firing}):
        if not any(ts[0] - interval / 2 <= t <= ts[-1] + interval / 2 for _, ts in spans):
            loose.append(t)
    for t in loose:
        if spans and spans[-1][0] is None and t - spans[-1][1][-1] <= 3 * interval:
            spans[-1][1].append(t)
        else:
            spans.append((None, [t]))
    found = []
    for active_at, span in sorted(spans, key=lambda s: s[1][0]):
        first, last = span[0], span[-1]
        inside = [t for t in alert.firing if first - interval / 2 <= t <= last + interval / 2]
        if active_at is None:
            began = first
        elif active_at <= first < active_at + 1:
            began = first  # the evaluation activeAt names, to the millisecond
        else:
            began = active_at
        is_open = end - last <= 2 * interval
        found.append(
            AlertEpisode(
                labels=alert.labels,
                began=began,
                fired=min(inside) if inside else None,
                last_seen=last,
                resolved=None if is_open else last + interval,
                interval=interval,
            )
        )
    return found


def alert_service(labels: Mapping[str, str], preferred: str | None = None) -> str:
    """The service an alert is about: the ``preferred`` label (the context's service label) when the
    alert carries it, else the first of SERVICE_LABELS; "" when none names one."""
    if preferred and labels.get(preferred):
        return labels[preferred]
    name = service_label(labels)
    return labels[name] if name else ""


@dataclass(frozen=True, slots=True)
class CriticalAlert:
    """A critical episode of an incident, with where Alertmanager routes it and what silenced it.

    ``receivers`` and ``pager_receivers`` are None when the routing is unknown (no Alertmanager),
    ``silenced_by`` when the silences are."""

    episode: AlertEpisode
    receivers: tuple[str, ...] | None = None
    pager_receivers: tuple[str, ...] | None = None
    silenced_by: tuple[str, ...] | None = None

    @property
    def missed_because(self) -> str:
        """Why no page went out: "no pager route", "silenced", both, "" (it paged), or "unknown"."""
        reasons = []
        if self.pager_receivers is not None and not self.pager_receivers:
            reasons.append("no pager route")
        if self.silenced_by:
            reasons.append("silenced")
        if reasons:
            return ", ".join(reasons)
        return "unknown" if self.pager_receivers is None or self.silenced_by is None else ""

    @property
    def missed(self) -> bool | None:
        """True when it could not page, False when it did, None when that is unknown."""
        why = self.missed_because
        return None if why == "unknown" else bool(why)


def silences_in_force(silences: Iterable[Silence], labels: Mapping[str, str], at: float) -> tuple[str, ...]:
    """Ids of the silences matching ``labels`` that were in force at ``at`` (starts <= at < ends)."""
    return tuple(s.id for s in silences if s.starts_at <= at < s.ends_at and s.matches(labels))


@dataclass(frozen=True, slots=True)
class Incident:
    """Critical alerts of one service that fired together, with the alerts around them."""

    service: str
    criticals: tuple[CriticalAlert, ...]
    related: tuple[AlertEpisode, ...] = ()

    @property
    def began(self) -> float:
        return min(c.episode.began for c in self.criticals)

    @property
    def detected(self) -> float:
        return min(c.episode.fired or c.episode.began for c in self.criticals)

    @property
    def resolved(self) -> float | None:
        ends = [c.episode.resolved for c in self.criticals]
        return None if any(e is None for e in ends) else max(e for e in ends if e is not None)

    @property
    def is_open(self) -> bool:
        return self.resolved is None

    @property
    def mttd(self) -> float:
        """Seconds from the condition beginning to the first critical firing."""
        return self.detected - self.began

    @property
    def mttr(self) -> float | None:
        """Seconds from the first critical firing to the last one resolving (None while open)."""
        return None if self.resolved is None else self.resolved - self.detected

    @property
    def missed(self) -> tuple[CriticalAlert, ...]:
        return tuple(c for c in self.criticals if c.missed)

    @property
    def key(self) -> str:
        """A stable id for the incident's row: its service and when it began."""
        return f"{self.service}@{self.began:.3f}"

    @property
    def first(self) -> CriticalAlert:
        """The critical that fired first (what Enter opens)."""
        return min(self.criticals, key=lambda c: (c.episode.fired or c.episode.began, c.episode.name))

    def window(self, now: float, margin: float = 600.0) -> tuple[float, float]:
        """[began - margin, resolved + margin] (to ``now`` while open): what its logs and traces cover."""
        end = self.resolved if self.resolved is not None else now
        return self.began - margin, min(now, end + margin)


def incidents_from(
    criticals: Iterable[AlertEpisode],
    others: Iterable[AlertEpisode],
    *,
    since: float,
    now: float,
    service_of: Callable[[Mapping[str, str]], str],
    route: Callable[[Mapping[str, str]], tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
    silences: Sequence[Silence] | None = None,
) -> list[Incident]:
    """The incidents that were detected in [since, now], the latest to begin first.

    ``route`` gives an alert's (receivers, pager receivers) from its labels; None when the routing
    is unknown. ``silences`` are Alertmanager's (None when unknown)."""
    by_service: dict[str, list[AlertEpisode]] = {}
    for ep in criticals:
        if ep.fired is not None:
            by_service.setdefault(service_of(ep.labels), []).append(ep)
    others = [ep for ep in others if ep.fired is not None]
    found = []
    for service, eps in by_service.items():
        # Criticals that name no service are not merged: nothing says they are one incident.
        for group in _overlapping(eps, now) if service else [[ep] for ep in eps]:
            alerts = tuple(_critical(ep, route, silences) for ep in sorted(group, key=lambda e: (e.began, e.name)))
            incident = Incident(service, alerts)
            if not since <= incident.detected <= now:
                continue
            start, end = incident.began - AROUND, incident.resolved or now
            related = tuple(
                sorted(
                    (
                        ep
                        for ep in others
                        if service
                        and service_of(ep.labels) == service
                        and ep.began <= end + AROUND
                        and ep.end(now) >= start
                    ),
                    key=lambda e: (e.fired or e.began, e.name),
                )
            )
            found.append(Incident(service, alerts, related))
    return sorted(found, key=lambda i: (-i.began, i.service))


def _overlapping(eps: list[AlertEpisode], now: float) -> list[list[AlertEpisode]]:
    """Episodes chained by overlapping [began, resolved] spans (open ones reach ``now``)."""
    groups: list[list[AlertEpisode]] = []
    reach = float("-inf")
    for ep in sorted(eps, key=lambda e: e.began):
        if groups and ep.began <= reach:
            groups[-1].append(ep)
        else:
            groups.append([ep])
            reach = float("-inf")
        reach = max(reach, ep.end(now))
    return groups


def _critical(
    ep: AlertEpisode,
    route: Callable[[Mapping[str, str]], tuple[tuple[str, ...], tuple[str, ...]]] | None,
    silences: Sequence[Silence] | None,
) -> CriticalAlert:
    receivers = pagers = None
    if route is not None:
        receivers, pagers = route(ep.labels)
    silenced = None if silences is None else silences_in_force(silences, ep.labels, ep.fired or ep.began)
    return CriticalAlert(ep, receivers, pagers, silenced)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One of the seed's success criteria: its words, its target, what was measured, and whether
    it is met (None: it could not be judged)."""

    name: str
    target: str
    measured: str
    met: bool | None
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "BROKEN", None: "unknown"}[self.met]


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    """The incidents of a window against the seed's MTTD, MTTR and missed-critical criteria."""

    since: float
    until: float
    incidents: int
    open: int
    mttd: float | None
    mttr: float | None
    missed: int | None
    criteria: tuple[Criterion, ...]

    @property
    def broken(self) -> bool:
        return any(c.met is False for c in self.criteria)

    @property
    def unknown(self) -> bool:
        return any(c.met is None for c in self.criteria)


def summarise(
    incidents: Sequence[Incident], since: float, until: float, span: Callable[[float], str]
) -> IncidentSummary:
    """Means over the window's incidents (MTTR over the resolved ones) against the seed's targets;
    ``span`` writes a duration (models.timerange.format_age)."""
    resolved = [i.mttr for i in incidents if i.mttr is not None]
    mttd = statistics.fmean(i.mttd for i in incidents) if incidents else None
    mttr = statistics.fmean(resolved) if resolved else None
    criticals = [c for i in incidents for c in i.criticals]
    judged = [c.missed for c in criticals]
    missed_known = sum(1 for m in judged if m)
    all_known = all(m is not None for m in judged)
    missed: int | None = missed_known if all_known or missed_known else None
    open_count = sum(1 for i in incidents if i.is_open)
    no_pager = sum(1 for c in criticals if "no pager route" in c.missed_because)
    silenced = sum(1 for c in criticals if c.silenced_by)
    criteria = (
        Criterion(
            "MTTD",
            f"< {span(MTTD_TARGET)}",
            span(mttd) if mttd is not None else "no incident",
            True if mttd is None else mttd < MTTD_TARGET,
            f"mean of {len(incidents)}" if incidents else "",
        ),
        Criterion(
            "MTTR",
            f"< {span(MTTR_TARGET)}",
            span(mttr) if mttr is not None else ("none resolved" if incidents else "no incident"),
            True if mttr is None else mttr < MTTR_TARGET,
            f"mean of {len(resolved)} resolved" + (f", {open_count} still open" if open_count else "")
            if resolved
            else (f"{open_count} still open" if open_count else ""),
        ),
        Criterion(
            "missed criticals",
            f"{MISSED_TARGET}",
            "unknown" if missed is None else str(missed) if all_known else f"at least {missed}",
            None if missed is None else missed <= MISSED_TARGET,
            f"{no_pager} without a pager route, {silenced} silenced when they fired" if missed else "",
        ),
    )
    return IncidentSummary(since, until, len(incidents), open_count, mttd, mttr, missed, criteria)
