"""The alerts overview: Alertmanager's alerts and Prometheus's, one row each (pure).

Firing alerts come from Alertmanager (with the receivers they route to and whether a silence or
an inhibition mutes them); pending alerts (the condition holds, its ``for`` has not passed yet)
come from Prometheus's /api/v1/alerts. An alert both know is one row, Alertmanager's copy
(Prometheus adds its external labels when it sends, so a Prometheus alert is "known" when
Alertmanager has one carrying all its labels). A firing alert only Prometheus knows (not
delivered, or no Alertmanager configured) is a row too. Used by `zeta alerts` and the screen.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zeta_tui.models.alerts import SERVICE_LABELS, Alert, Labelled, LabelSet
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
    #: when the alert resolved (unix seconds; None while it fires): a past incident's alert
    ended: float | None = None

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


# --- folding: identical alerts as one row ---------------------------------------------------------

#: How urgent a state is, most first: firing and nothing mutes it; pending (it may page soon);
#: then what a silence, an inhibition or a mute interval holds.
STATE_URGENCY = {"active": 0, "pending": 1}
#: A state as a person says it (Alertmanager's "active" is what pages).
STATE_NAMES = {"active": "firing"}

#: Labels that tell alerts apart without saying anything a reader can act on: ids and hashes
#: Kubernetes makes anew on every rollout or restart (pod_template_hash, controller_revision_hash,
#: uid, container_id, image_id of kube-state-metrics; cAdvisor's ``id``, the cgroup path of a pod
#: uid and a container id). The pod or container they belong to is the readable label and differs
#: alike. They are shown only when no other label tells the members apart.
EVER_CHANGING = frozenset({"pod_template_hash", "controller_revision_hash", "uid", "container_id", "image_id", "id"})


def service_labels(conventions_service: str) -> tuple[str, ...]:
    """Which label names an alert's service, first found wins: the context's own (its label
    conventions, models/conventions.py: ``labels.service``, "job" unless configured), then the
    other spellings alerts use (SERVICE_LABELS: a cAdvisor alert has only ``container``)."""
    return (conventions_service, *(name for name in SERVICE_LABELS if name != conventions_service))


def urgency(row: AlertRow) -> int:
    return STATE_URGENCY.get(row.state, len(STATE_URGENCY))


def member_order(r: AlertRow) -> tuple[int, int, float, str, list[tuple[str, str]]]:
    """Members of a fold: most severe, then most urgent (firing, pending, muted), then newest;
    then by fingerprint, or labels for Prometheus's own (sorting 100,000 label lists costs 0.3 s)."""
    return (r.severity_rank, urgency(r), -r.since, r.fingerprint, [] if r.fingerprint else sorted(r.labels.items()))


@dataclass(frozen=True, slots=True)
class AlertFold:
    """Alerts of one name on one service, as one row of the Alerts screen ("ModelTrainingFailed
    ×5"). It stands where its lead stands in sort_rows' order (severity, then newest): the lead is
    its most severe member, of those the most urgent, then the newest. A fold of one is the
    alert itself."""

    name: str
    #: the label that names the service ("" when the alerts have none) and its value
    service_label: str
    service: str
    #: the members in member_order, at most the limit fold_rows was given; ``count`` has them all
    members: tuple[AlertRow, ...]
    count: int
    #: (state, how many members are in it), most urgent first
    states: tuple[tuple[str, int], ...]
    #: the labels whose values differ between the members (see distinguishing_labels)
    distinguishing: tuple[str, ...] = ()
    #: what every member has alike: a silence of them all matches these
    shared: LabelSet = field(default_factory=lambda: LabelSet({}))
    #: when the first member started (0.0 when no member's start is known)
    first_since: float = 0.0
    #: every receiver a member was routed to, in the order first seen
    receivers: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Stable across refreshes while the alerts keep their name and service."""
        return f"{self.name}\x1f{self.service_label}={self.service}"

    @property
    def lead(self) -> AlertRow:
        return self.members[0]

    @property
    def is_group(self) -> bool:
        return self.count > 1

    @property
    def mixed(self) -> bool:
        """Whether the members are in more than one state."""
        return len(self.states) > 1

    def describe_states(self) -> str:
        """``3 firing, 2 pending`` (every state, most urgent first)."""
        return ", ".join(f"{n} {STATE_NAMES.get(state, state)}" for state, n in self.states)

    def scope_of(self, row: AlertRow) -> LabelSet:
        """What a silence of one member matches: its own labels, the fold's service label, and
        the labels that tell it from the other members."""
        return LabelSet(row.labels, row.annotations, self.service_label, self.distinguishing)

    def values_of(self, row: AlertRow) -> tuple[tuple[str, str], ...]:
        """The member's distinguishing labels and values ("" for a label it lacks)."""
        return tuple((name, row.labels.get(name, "")) for name in self.distinguishing)


def fold_order(f: AlertFold) -> tuple[int, float, str, list[tuple[str, str]]]:
    """Where a fold stands: where its lead would in sort_rows."""
    return row_order(f.lead)


def distinguishing_labels(members: Sequence[AlertRow], fixed: Sequence[str] = ()) -> tuple[str, ...]:
    """The labels whose values differ between ``members`` (or that some carry and others lack),
    but ``fixed`` (the labels the members were grouped by) and, unless nothing else differs,
    EVER_CHANGING. An alert only Prometheus knows lacks the external labels Prometheus adds when
    it sends to Alertmanager (cluster, replica), so a label it lacks does not count as differing.
    Fewest values first (coarse to fine: ``cluster`` before ``instance``), then by name."""
    sent = [r.labels for r in members if r.source != "prometheus"]
    own = [r.labels for r in members if r.source == "prometheus"]
    values: dict[str, set[str | None]] = {}
    for name in set().union(*sent, *own).difference(fixed):
        # None: an alert Alertmanager holds lacks the label.
        values[name] = {labels.get(name) for labels in sent} | {labels[name] for labels in own if name in labels}
    differ = [name for name, seen in values.items() if len(seen) > 1]
    readable = [name for name in differ if name not in EVER_CHANGING] or differ
    return tuple(sorted(readable, key=lambda name: (len(values[name]), name)))


def _shared(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The keys every map has with the same value."""
    first = maps[0]
    return {k: v for k, v in first.items() if len({m.get(k) for m in maps}) == 1}


def fold_rows(
    rows: Sequence[AlertRow],
    labels: Sequence[str],
    *,
    limit: int | None = None,
    member_limit: int | None = None,
) -> list[AlertFold]:
    """Alerts of the same name and service as one fold each, in fold_order. ``labels`` say which
    label names the service, first found wins (service_labels). ``limit`` keeps the first folds,
    ``member_limit`` the first members of each (counts, states and labels are over them all).
    Heaps rather than sorts: a sort of 100,000 rows is one C call that holds the GIL."""
    groups: dict[tuple[str, str, str], list[AlertRow]] = {}
    for row in rows:
        found = ""
        for label in labels:
            if row.labels.get(label):
                found = label
                break
        groups.setdefault((row.name, found, row.labels.get(found, "")), []).append(row)
    folds = [_fold(key, members, member_limit) for key, members in groups.items()]
    if limit is None:
        limit = len(folds)
    return heapq.nsmallest(limit, folds, key=fold_order)


def _fold(key: tuple[str, str, str], members: list[AlertRow], member_limit: int | None) -> AlertFold:
    name, label, service = key
    if len(members) == 1:
        (row,) = members
        return AlertFold(
            name,
            label,
            service,
            (row,),
            1,
            ((row.state, 1),),
            (),
            LabelSet(row.labels, row.annotations, label),
            row.since,
            row.receivers,
        )
    kept = heapq.nsmallest(member_limit or len(members), members, key=member_order)
    states: dict[str, int] = {}
    receivers: dict[str, None] = {}
    for row in members:
        states[row.state] = states.get(row.state, 0) + 1
        receivers.update(dict.fromkeys(row.receivers))
    shared = LabelSet(_shared([r.labels for r in members]), _shared([r.annotations for r in members]), label)
    starts = [r.since for r in members if r.since]
    return AlertFold(
        name,
        label,
        service,
        tuple(kept),
        len(members),
        tuple(sorted(states.items(), key=lambda item: (STATE_URGENCY.get(item[0], len(STATE_URGENCY)), item[0]))),
        distinguishing_labels(members, ("alertname", label)),
        shared,
        min(starts, default=0.0),
        tuple(receivers),
    )
