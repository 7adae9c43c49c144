"""What accounts for an alert: the label values and log fields that carry its failures (pure).

An alert says *that* a service fails; the engineer on call next asks *where*: which pod, which
endpoint, which tenant, which message. Two sources answer, and both are shown:

- **metrics**: the failing requests of the alert's window (5xx, or for a latency alert those slower
  than its threshold) by every label whose values differ between the series. The labels are taken
  from the data, not from a list, so ``instance``, ``pod``, ``handler`` or ``tenant`` all count
  wherever a user's metrics carry them.
- **logs**: the service's ERROR records of the window, by the fields that name a pod, a tenant and
  an endpoint (models/log_fields.py: each record under its own shipper's spelling), and by message
  pattern (the message with its numbers as ``#``).

A *culprit* is one value of one dimension with its share of the failures. A dimension spread
evenly (four pods with a quarter each) accounts for nothing, so dimensions are ranked by their
top share, and within one the values by share. ``Evidence`` holds both sources' culprits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from zeta_tui.models.conventions import ENDPOINT_LABELS, STATUS_LABELS
from zeta_tui.models.log_fields import ENDPOINT, POD, STATUS, TENANT, LogField
from zeta_tui.models.logs import LogRecord

#: labels that never tell failures apart: they name the metric, a histogram's bucket, or are
#: the same for every series of one service by construction
IGNORED_LABELS = frozenset({"__name__", "le", "quantile"})
#: how many values of one dimension are kept (the rest are "others" in the share)
TOP_VALUES = 3
#: a message longer than this is grouped by its first this-many characters
MESSAGE_KEY_CHARS = 200
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACES = re.compile(r"\s+")


def message_pattern(message: str) -> str:
    """What messages that differ only in their numbers (a latency, an id, a count) share:
    ``POST /predict # #ms: model server OOMKilled``. Errors are counted by pattern, so one failure
    written with a thousand latencies is one row, not a thousand rows of 0.1 %."""
    return _SPACES.sub(" ", _NUMBER.sub("#", message)).strip()[:MESSAGE_KEY_CHARS] or "(empty)"


@dataclass(frozen=True, slots=True)
class Culprit:
    """One value of one dimension and its part of the failures."""

    source: str  # "metrics" | "logs"
    dimension: str  # the label or field name as the source spells it ("instance", "tenant_id", "message")
    value: str
    count: float
    share: float  # of the failures the source saw, 0..1


#: the roles a row of the evidence table can name, in the order the rows come
ROLES = ("pod", "endpoint", "tenant", "message", "status")
#: metric labels that name a pod (``instance`` is the scrape target: a pod's address, usually)
POD_LABELS = ("pod", "pod_name", "kubernetes_pod_name", "k8s_pod_name", "instance")


def role_of(dimension: str) -> str:
    """The role a label or log field plays (pod, endpoint, tenant, status, message); else its own name."""
    if dimension == "message":
        return "message"
    if dimension in POD_LABELS or dimension in POD.names:
        return "pod"
    if dimension in ENDPOINT_LABELS or dimension in ENDPOINT.names:
        return "endpoint"
    if "tenant" in dimension or dimension in TENANT.names:
        return "tenant"
    if dimension in STATUS_LABELS or dimension in STATUS.names:
        return "status"
    return dimension


@dataclass(frozen=True, slots=True)
class Finding:
    """One row of the evidence table: the top value of one role, with its share in the metrics and
    in the logs when both name it (the same pod seen by Prometheus and in the records is one row),
    and the runner-up, so that 82 % and "ml-engine-0 18 %" read together."""

    role: str
    value: str
    metric: Culprit | None = None
    log: Culprit | None = None
    runner_up: Culprit | None = None

    @property
    def share(self) -> float:
        return max(c.share for c in (self.metric, self.log) if c is not None)

    @property
    def culprits(self) -> tuple[Culprit, ...]:
        return tuple(c for c in (self.metric, self.log) if c is not None)


def findings(culprits: Sequence[Culprit]) -> list[Finding]:
    """The culprits as one row per role and source's top value (merged across sources when both
    name the same value), the roles of ROLES first in that order, then the other dimensions by
    their top share."""
    tops: dict[tuple[str, str], list[Culprit]] = {}
    for c in culprits:
        tops.setdefault((c.source, c.dimension), []).append(c)
    rows: list[Finding] = []
    for (source, dimension), values in tops.items():
        top = values[0]
        role = role_of(dimension)
        runner = values[1] if len(values) > 1 else None
        twin = next((f for f in rows if f.role == role and f.value == top.value and source not in _sources(f)), None)
        if twin is not None:
            rows[rows.index(twin)] = Finding(
                role,
                top.value,
                twin.metric or (top if source == "metrics" else None),
                twin.log or (top if source == "logs" else None),
                twin.runner_up or runner,
            )
            continue
        rows.append(
            Finding(
                role,
                top.value,
                top if source == "metrics" else None,
                top if source == "logs" else None,
                runner,
            )
        )

    def order(f: Finding) -> tuple[int, float]:
        return (ROLES.index(f.role) if f.role in ROLES else len(ROLES), -f.share)

    return sorted(rows, key=order)


def _sources(f: Finding) -> set[str]:
    return {c.source for c in f.culprits}


@dataclass(frozen=True, slots=True)
class Evidence:
    """The culprits of one alert's window, the strongest dimension first, from metrics then logs."""

    failures: str  # what was counted: "5xx responses", "requests over 1 s", "ERROR records"
    metric_total: float = 0.0
    log_total: int = 0
    culprits: tuple[Culprit, ...] = ()
    #: what could not be read or was cut, said under the table
    notes: tuple[str, ...] = ()
    #: each log field of a role (pod, tenant, endpoint) found in the records, with its values
    log_values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.culprits

    def findings(self) -> list[Finding]:
        return findings(self.culprits)

    def finding_filter(self, finding: Finding) -> tuple[str, str]:
        """The (log field, value) that narrows the logs to ``finding`` ("", "" when none does)."""
        for culprit in (finding.log, finding.metric):
            if culprit is not None:
                narrowed = self.log_filter(culprit)
                if narrowed[0]:
                    return narrowed
        return "", ""

    def log_filter(self, culprit: Culprit) -> tuple[str, str]:
        """The (log field, value) that narrows the logs to ``culprit``, ("", "") when none does:
        a log culprit's own field (not a message: messages are not searched by equality); for a
        metric label, the log field that holds the same value (``instance`` and
        ``service.instance.id`` may name the same pod, or not)."""
        if culprit.source == "logs":
            return ("", "") if culprit.dimension == "message" else (culprit.dimension, culprit.value)
        for name, values in self.log_values.items():
            if culprit.value in values:
                return name, culprit.value
        return "", ""


def _ranked(source: str, dimension: str, counts: Mapping[str, float], total: float) -> list[Culprit]:
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_VALUES]
    return [Culprit(source, dimension, value, count, count / total) for value, count in top if count > 0]


def _order(dimensions: list[list[Culprit]], first: Sequence[str]) -> list[Culprit]:
    """Dimensions by their top share (the most concentrated first); the roles in ``first`` break ties."""

    def key(culprits: list[Culprit]) -> tuple[float, int]:
        name = culprits[0].dimension
        return (-round(culprits[0].share, 3), first.index(name) if name in first else len(first))

    return [c for group in sorted((d for d in dimensions if d), key=key) for c in group]


def varying_labels(label_sets: Iterable[Mapping[str, str]]) -> set[str]:
    """The labels with more than one value (or absent from some) across ``label_sets``: those that
    can tell one series of a service from another (``namespace`` or ``job`` cannot)."""
    sets = list(label_sets)
    names = {k for labels in sets for k in labels}
    return {name for name in names if len({labels.get(name) for labels in sets}) > 1}


def metric_culprits(
    series: Iterable[tuple[Mapping[str, str], float]],
    *,
    varying: Iterable[str] | None = None,
    constant: Iterable[str] = (),
) -> list[Culprit]:
    """The failing requests' culprits from per-series counts (labels, failures in the window).

    A dimension is a label that tells the service's series apart: ``varying`` (from every series
    of the service, failing or not: all failures on one pod is the strongest culprit, though the
    failing series share that pod) or, when not given, the labels that vary between the failing
    series. A series without the label counts under "(none)". ``constant`` names labels to leave
    out even so (the service label: the alert is about one service already).
    """
    rows = [(labels, value) for labels, value in series if value > 0]
    total = sum(value for _, value in rows)
    if not rows or total <= 0:
        return []
    skip = IGNORED_LABELS | set(constant)
    names = set(varying) if varying is not None else varying_labels(labels for labels, _ in rows)
    dimensions: list[list[Culprit]] = []
    for name in sorted(names - skip):
        counts: dict[str, float] = {}
        for labels, value in rows:
            key = labels.get(name) or "(none)"
            counts[key] = counts.get(key, 0.0) + value
        dimensions.append(_ranked("metrics", name, counts, total))
    first = ("pod", "instance", *ENDPOINT_LABELS, *STATUS_LABELS)
    return _order(dimensions, first)


def _by_field(field: LogField, records: Sequence[LogRecord]) -> tuple[str, Counter[str], frozenset[str]] | None:
    """(the spelling most records use, counts by value, the values) of ``field``; None when no
    record has it. Each record is read under its own spelling (a list may mix shippers)."""
    names: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for record in records:
        name = field.name_in(record)
        if name is not None:
            names[name] += 1
        counts[str(record.fields[name]) if name is not None else "(none)"] += 1
    if not names:
        return None
    return names.most_common(1)[0][0], counts, frozenset(v for v in counts if v != "(none)")


def log_culprits(records: Sequence[LogRecord]) -> tuple[list[Culprit], dict[str, frozenset[str]]]:
    """The ERROR records' culprits by pod, tenant, endpoint and message pattern; and each role's
    field (as most records spell it) with its values."""
    if not records:
        return [], {}
    total = len(records)
    dimensions: list[list[Culprit]] = []
    values: dict[str, frozenset[str]] = {}
    spellings: list[str] = []
    for role in (POD, TENANT, ENDPOINT):
        found = _by_field(role, records)
        if found is None:
            continue
        name, counts, seen = found
        dimensions.append(_ranked("logs", name, counts, total))
        values[name] = seen
        spellings.append(name)
    ordered = _order(dimensions, spellings)
    messages = Counter(message_pattern(r.message) for r in records)
    return ordered + _ranked("logs", "message", messages, total), values


def slow_bound(threshold: float, bounds_seconds: Sequence[float], seconds_per_unit: float) -> float | None:
    """The histogram bound (in the histogram's unit) that counts "slower than ``threshold``"
    (the threshold in that unit): the smallest bound at or above it; None when no bound is."""
    wanted = threshold * seconds_per_unit
    above = [b for b in bounds_seconds if b >= wanted - 1e-12 and b != float("inf")]
    return round(min(above) / seconds_per_unit, 9) if above else None
