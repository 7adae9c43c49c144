"""The alerts overview: Alertmanager's alerts and Prometheus's, one row each (pure).

Firing alerts come from Alertmanager (with the receivers they route to and whether a silence or
an inhibition mutes them); pending alerts (the condition holds, its ``for`` has not passed yet)
come from Prometheus's /api/v1/alerts. An alert both know is one row, Alertmanager's copy
(Prometheus adds its external labels when it sends, so a Prometheus alert is "known" when
Alertmanager has one carrying all its labels). A firing alert only Prometheus knows (not
delivered, or no Alertmanager configured) is a row too. Used by `zeta alerts` and the screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zeta_tui.models.alerts import Alert, Labelled
from zeta_tui.models.metrics_meta import RuleAlert
from zeta_tui.models.rfc3339 import rfc3339_seconds

#: seconds within which Alertmanager's startsAt (milliseconds) and Prometheus's activeAt
#: (nanoseconds) are the same moment
SAME_MOMENT = 0.001


@dataclass(frozen=True, slots=True)
class AlertRow(Labelled):
    """One alert as `zeta alerts` shows it, from Alertmanager or from Prometheus."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: str  # active | silenced | inhibited | muted | pending
    since: float  # unix seconds the alert started (0.0 when unknown)
    source: str  # alertmanager | prometheus
    receivers: tuple[str, ...] = ()
    fingerprint: str = ""
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    muted_by: tuple[str, ...] = ()
    generator_url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: when the rule's condition began to hold (Prometheus's activeAt; 0.0 when unknown)
    condition_since: float = 0.0
    #: the rule's ``for`` in seconds (from the rules API); None when unknown
    rule_for: float | None = None

    @property
    def detection_seconds(self) -> float | None:
        """From the condition beginning to the alert firing: the seed's "detection within 5 minutes".

        When the firing moment is known (``since``, Alertmanager's startsAt, after
        ``condition_since``: Prometheus 2.42 here sends the moment the alert fired) it is the
        difference. When both moments are equal (an alert without ``for``, or a Prometheus that
        sends ``startsAt = activeAt``) the alert fired at the first evaluation after ``activeAt +
        for``, and the rule's ``for`` is the answer (to within one evaluation interval). None when
        the alert is only pending or the moments are unknown.
        """
        if self.state == "pending" or not self.since or not self.condition_since:
            return None
        # Alertmanager keeps milliseconds of Prometheus's nanosecond activeAt: "equal" is within 1 ms.
        gap = self.since - self.condition_since
        if abs(gap) < SAME_MOMENT and self.rule_for is not None:
            return self.rule_for
        return max(gap, 0.0) if gap > -SAME_MOMENT else None

    @property
    def expression(self) -> str:
        """The rule's PromQL, from the generator URL Prometheus attaches (``/graph?g0.expr=``)."""
        from urllib.parse import parse_qs, urlsplit

        if not self.generator_url:
            return ""
        values = parse_qs(urlsplit(self.generator_url).query).get("g0.expr")
        return values[0] if values else ""

    @property
    def is_firing(self) -> bool:
        return self.state != "pending"

    @property
    def pages(self) -> bool:
        """A critical alert that is firing and nothing mutes: what makes the exit status 1."""
        return self.severity == "critical" and self.state == "active"


def row_from_alertmanager(alert: Alert) -> AlertRow:
    if alert.silenced_by:
        state = "silenced"
    elif alert.inhibited_by:
        state = "inhibited"
    elif alert.muted_by:
        state = "muted"
    else:
        state = "active"
    return AlertRow(
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        state=state,
        since=alert.starts_at,
        source="alertmanager",
        receivers=alert.receivers,
        fingerprint=alert.fingerprint,
        silenced_by=alert.silenced_by,
        inhibited_by=alert.inhibited_by,
        muted_by=alert.muted_by,
        generator_url=alert.generator_url,
    )


def row_from_prometheus(alert: RuleAlert) -> AlertRow:
    state = "pending" if alert.state == "pending" else "active"
    active_at = rfc3339_seconds(alert.active_at)
    return AlertRow(
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        state=state,
        since=active_at,
        source="prometheus",
        extra={"value": alert.value} if alert.value else {},
        condition_since=active_at,
        rule_for=alert.for_seconds,
    )


def merge(am_alerts: Sequence[Alert], prom_alerts: Sequence[RuleAlert]) -> list[AlertRow]:
    """Alertmanager's alerts, plus Prometheus's alerts that Alertmanager does not have (pending
    ones, and firing ones not delivered). A Prometheus alert is known to Alertmanager when an
    Alertmanager alert carries every one of its labels with the same values."""
    rows = []
    known: set[int] = set()
    for a in am_alerts:
        row = row_from_alertmanager(a)
        for n, alert in enumerate(prom_alerts):
            if all(a.labels.get(k) == v for k, v in alert.labels.items()):
                known.add(n)
                row = replace(row, condition_since=rfc3339_seconds(alert.active_at), rule_for=alert.for_seconds)
                break
        rows.append(row)
    rows += [row_from_prometheus(alert) for n, alert in enumerate(prom_alerts) if n not in known]
    return rows


def row_order(r: AlertRow) -> tuple[int, float, str, list[tuple[str, str]]]:
    """The sort key of sort_rows."""
    return (r.severity_rank, -r.since, r.name, sorted(r.labels.items()))


def sort_rows(rows: Sequence[AlertRow]) -> list[AlertRow]:
    """Severity first (critical on top), then age, newest first; then by name for a stable order."""
    return sorted(rows, key=row_order)


def is_alert_series(series_labels: Mapping[str, str], alert_labels: Mapping[str, str]) -> bool:
    """Whether a series of the rule's expression is the one this alert came from: an alert carries
    its series' labels (plus the rule's and Prometheus's external ones), so every label of the
    series must have the same value on the alert."""
    return all(alert_labels.get(k) == v for k, v in series_labels.items() if k != "__name__")
