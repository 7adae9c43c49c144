"""Alerts, alert groups, matchers and silences as Alertmanager (API v2) has them.

Times are unix seconds (floats); Alertmanager's zero time ("0001-01-01T00:00:00Z", an alert
with no end) is 0.0. A ``Matcher`` reads and writes the text form amtool and the API's
``filter=`` parameter use (``service=~"api.*"``); ``matchers_for(alert)`` is what a silence
created from an alert starts with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from zeta_tui.models.conventions import ENDPOINT_LABELS

#: Alertmanager's alert states (API v2 alertStatus.state)
ALERT_STATES = ("active", "suppressed", "unprocessed")
#: Alertmanager's silence states (API v2 silenceStatus.state)
SILENCE_STATES = ("active", "pending", "expired")
#: severities most serious first; anything else sorts after them
SEVERITIES = ("critical", "error", "warning", "info")

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# name, operator, value: the operator is the first of =~ != !~ = after the name.
_MATCHER = re.compile(r"\s*([^=!~\s]+)\s*(=~|!~|!=|=)\s*(.*?)\s*")


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher: ``name="value"`` (is_equal, not is_regex), ``!=``, ``=~`` or ``!~``."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``service=~api.*``, ``severity="critical"``, ``instance!=web1``, ``job!~"a|b"``.

        The value may be double-quoted (with ``\\"`` and ``\\\\`` escapes inside) or bare.
        Raises ValueError saying what is wrong and what a matcher looks like."""
        example = 'a matcher looks like name="value", name!="value", name=~"regex" or name!~"regex"'
        m = _MATCHER.fullmatch(text or "")
        if m is None:
            raise ValueError(f"{text!r} is not a matcher: {example}")
        name, op, raw = m.groups()
        if not _LABEL_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a label name (letters, digits and _, not starting with a digit)")
        value = _unquote(raw, text)
        return cls(name=name, value=value, is_regex=op in ("=~", "!~"), is_equal=op in ("=", "=~"))

    @property
    def operator(self) -> str:
        return ("=" if self.is_equal else "!") + ("~" if self.is_regex else ("" if self.is_equal else "="))

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.operator}"{escaped}"'

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether this matcher holds for a label set (a missing label is the empty string;
        a regex is anchored at both ends, as in Alertmanager). A regex Python cannot read
        matches nothing."""
        actual = labels.get(self.name, "")
        if self.is_regex:
            try:
                hit = re.fullmatch(self.value, actual) is not None
            except re.error:
                return False
        else:
            hit = actual == self.value
        return hit if self.is_equal else not hit


def _unquote(raw: str, text: str) -> str:
    if not raw.startswith('"'):
        if '"' in raw:
            raise ValueError(f'{text!r}: a value with a double quote must be quoted as a whole, e.g. name="a\\"b"')
        return raw
    if len(raw) < 2 or not raw.endswith('"') or _ends_escaped(raw[:-1]):
        raise ValueError(f"{text!r}: the value's closing double quote is missing")
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if ch == '"':
            raise ValueError(f'{text!r}: a double quote inside the value must be escaped as \\"')
        out.append(ch)
        i += 1
    return "".join(out)


def _ends_escaped(text: str) -> bool:
    """Whether the character after ``text`` would be escaped (an odd run of trailing backslashes)."""
    run = len(text) - len(text.rstrip("\\"))
    return run % 2 == 1


class Labelled:
    """What an alert's labels and annotations say, for any alert-like class with ``labels`` and
    ``annotations`` (Alertmanager's alerts, the rows of an alert overview)."""

    __slots__ = ()
    labels: Mapping[str, str]
    annotations: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str:
        """The severity label, lower-cased ("" when the alert has none)."""
        return self.labels.get("severity", "").strip().lower()

    @property
    def severity_rank(self) -> int:
        """0 for critical, then error, warning, info; unknown or missing severities last."""
        return SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES)

    @property
    def summary(self) -> str:
        """The summary annotation, else description or message; "" when there is none."""
        for key in ("summary", "description", "message"):
            if self.annotations.get(key):
                return self.annotations[key]
        return ""

    @property
    def service_key(self) -> str:
        """The name of the label that names the service (SERVICE_LABELS); "" when none does."""
        return service_label(self.labels)

    @property
    def match_also(self) -> tuple[str, ...]:
        """Labels a silence of this alert matches besides the identifying ones (matchers_for)."""
        return ()

    @property
    def service(self) -> str:
        """The service the alert is about (see SERVICE_LABELS); "" when no label names one."""
        name = self.service_key
        return self.labels[name] if name else ""

    @property
    def endpoint(self) -> str:
        """The endpoint the alert is about (see ENDPOINT_LABELS; HighLatency is per endpoint);
        "" when no label names one."""
        return next((self.labels[name] for name in ENDPOINT_LABELS if self.labels.get(name)), "")


@dataclass(frozen=True, slots=True)
class Alert(Labelled):
    """One alert as Alertmanager knows it: its state, who it routes to, what mutes it."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    state: str = "active"  # active | suppressed | unprocessed
    starts_at: float = 0.0
    ends_at: float = 0.0
    updated_at: float = 0.0
    fingerprint: str = ""
    receivers: tuple[str, ...] = ()
    silenced_by: tuple[str, ...] = ()  # silence ids
    inhibited_by: tuple[str, ...] = ()  # fingerprints of the inhibiting alerts
    muted_by: tuple[str, ...] = ()  # time intervals (Alertmanager 0.27+; empty before)
    generator_url: str = ""

    @property
    def is_silenced(self) -> bool:
        return bool(self.silenced_by)

    @property
    def is_inhibited(self) -> bool:
        return bool(self.inhibited_by)

    @property
    def is_muted(self) -> bool:
        return bool(self.muted_by)


@dataclass(frozen=True, slots=True)
class LabelSet(Labelled):
    """The labels and annotations several alerts have alike, and the label that names their
    service: what a silence of them all matches (``matchers_for``)."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    #: the label naming the service, as the context's conventions say (the alerts were told
    #: apart by it); it goes into the matchers even where SERVICE_LABELS would pick another
    service_key: str = ""
    #: labels matched besides the identifying ones: what tells one alert from the others of its
    #: fold (a tenant_id), so that a silence of one tenant's failure leaves the others' alone
    match_also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """Alerts Alertmanager groups together for one receiver (route's group_by labels)."""

    labels: Mapping[str, str]
    receiver: str
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True, slots=True)
class Silence:
    """A silence: which alerts it matches, when, who made it and why."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str = ""
    comment: str = ""
    state: str = "active"  # active | pending | expired
    updated_at: float = 0.0

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    @property
    def duration_seconds(self) -> float:
        return self.ends_at - self.starts_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every matcher holds for the label set (an alert's labels)."""
        return all(m.matches(labels) for m in self.matchers)


#: Labels that name an alert's service, first found wins: its own service label, the
#: Prometheus job, else the container of a Kubernetes (cAdvisor) series such as HighMemoryUsage's.
SERVICE_LABELS = ("service", "job", "container")

#: Labels that name an alert's endpoint, first found wins: the spellings discovery knows
#: (models/conventions.py), a route label before kube-prometheus's port-named ``endpoint``.

#: labels that identify an alert for a silence, in order; "service" stands for SERVICE_LABELS,
#: "endpoint" for ENDPOINT_LABELS (a silence made from one slow endpoint's page must not mute
#: the next endpoint's). A pod is not one: its name changes on restart, so a silence on it would
#: not outlive the pod.
_IDENTIFYING = ("alertname", "service", "endpoint", "severity", "instance")


def service_label(labels: Mapping[str, str]) -> str:
    """The name of the label that names the service (SERVICE_LABELS), "" when there is none."""
    return next((name for name in SERVICE_LABELS if labels.get(name)), "")


def matchers_for(alert: Labelled) -> tuple[Matcher, ...]:
    """Equality matchers from the alert's identifying labels: alertname, its service label (its
    ``service_key``: SERVICE_LABELS, or the one a LabelSet names), its endpoint label
    (ENDPOINT_LABELS), severity, and instance when present (labels the alert lacks, or has
    empty, are left out); then its ``match_also`` labels, empty or not."""
    out: list[Matcher] = []
    for name in _IDENTIFYING:
        if name == "service":
            name = alert.service_key or service_label(alert.labels) or name
        elif name == "endpoint":
            name = next((n for n in ENDPOINT_LABELS if alert.labels.get(n)), name)
        value = alert.labels.get(name, "")
        if value:
            out.append(Matcher(name=name, value=value))
    for name in alert.match_also:  # empty too: name="" matches the alerts that lack it
        if all(m.name != name for m in out):
            out.append(Matcher(name=name, value=alert.labels.get(name, "")))
    return tuple(out)


def split_unquoted(text: str, is_separator: Callable[[str], bool]) -> list[str]:
    """``text`` cut at each character ``is_separator`` accepts outside double quotes (a backslash
    keeps the next character as it is), each piece stripped, empty pieces dropped: matchers
    separated by commas (``a="b", c=~"d,e"``) or by spaces (``a="b c" d="e"``)."""
    pieces: list[str] = []
    current, quoted, escaped = "", False, False
    for ch in text:
        if escaped:
            current, escaped = current + ch, False
        elif ch == "\\":
            current, escaped = current + ch, True
        elif ch == '"':
            current, quoted = current + ch, not quoted
        elif not quoted and is_separator(ch):
            pieces.append(current)
            current = ""
        else:
            current += ch
    pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]
