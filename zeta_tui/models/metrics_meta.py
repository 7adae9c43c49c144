"""What Prometheus says about itself: targets, rules, alerts, build info."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BuildInfo:
    version: str
    revision: str = ""
    flavour: str = "prometheus"


@dataclass(frozen=True, slots=True)
class Target:
    job: str
    instance: str
    health: str
    scrape_url: str = ""
    last_error: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleAlert:
    """An alert as the Prometheus rules/alerts API reports it."""

    name: str
    state: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    active_at: str = ""
    value: str = ""
    #: the rule's ``for`` (seconds) when the alert came from the rules API; None when unknown
    for_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    kind: str  # "alerting" | "recording"
    query: str
    health: str = ""
    state: str = ""
    last_error: str = ""
    duration: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    alerts: tuple[RuleAlert, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str
    file: str
    interval: float
    rules: tuple[Rule, ...]
