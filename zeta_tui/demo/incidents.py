"""The scripted incidents of the Team Zeta world, on a fixed schedule in absolute time.

Each kind of incident repeats with its own period, so any 24 h window holds several and
"now" is inside one about a fifth of the time. The schedule does not depend on the seed:
a time picked inside an incident (as the tests do) stays inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

# The world's clock starts here (2025-01-01T00:00:00Z): counters count from this instant and
# incident number 0 of each kind is the first one after it.
WORLD_EPOCH = 1_735_689_600

ML_ERROR_SPIKE = "ml_error_spike"
LATENCY_REGRESSION = "latency_regression"
AUTH_LOGIN_BURST = "auth_login_burst"
POD_RESTART = "pod_restart"


@dataclass(frozen=True)
class IncidentKind:
    """A kind of incident: what it is, what it hits and how often it recurs."""

    name: str
    service: str
    summary: str
    period_s: int
    duration_s: int
    offset_s: int  # start of occurrence 0, seconds after WORLD_EPOCH

    def start_of(self, n: int) -> int:
        return WORLD_EPOCH + self.offset_s + n * self.period_s

    def started_count(self, t: float) -> int:
        """How many occurrences have started at or before ``t``."""
        if t < WORLD_EPOCH + self.offset_s:
            return 0
        return int(math.floor((t - WORLD_EPOCH - self.offset_s) / self.period_s)) + 1

    def active_index(self, t: float) -> int | None:
        """The occurrence in progress at ``t`` (start inclusive, end exclusive), if any."""
        n = self.started_count(t) - 1
        if n >= 0 and t < self.start_of(n) + self.duration_s:
            return n
        return None


@dataclass(frozen=True)
class Incident:
    """One occurrence of an incident, as the UI and the tests see it."""

    name: str
    start: float
    end: float
    service: str
    instance: str
    summary: str

    def contains(self, t: float) -> bool:
        return self.start <= t < self.end


KINDS: tuple[IncidentKind, ...] = (
    IncidentKind(ML_ERROR_SPIKE, "ml-engine", "ml-engine 5xx spike; ml-engine-1 down (OOM)", 7 * 3600, 25 * 60, 3 * 3600 + 10 * 60),
    IncidentKind(LATENCY_REGRESSION, "backend-api", "latency regression on POST /api/v1/recommendations", 11 * 3600, 40 * 60, 5 * 3600),
    IncidentKind(AUTH_LOGIN_BURST, "auth", "burst of failed logins (401) on /api/v1/auth/login", 5 * 3600, 15 * 60, 3600 + 20 * 60),
    IncidentKind(POD_RESTART, "", "pod restart (container restarted, target briefly down)", 3 * 3600, 120, 40 * 60),
)

KIND_BY_NAME = {k.name: k for k in KINDS}

# The instance the ml-engine spike takes down.
ML_SPIKE_DOWN_INDEX = 1


class IncidentSchedule:
    """Where every incident falls: ``pods`` is the rotation order of the pod-restart incident."""

    def __init__(self, pods: tuple[tuple[str, str, str], ...], ml_down_instance: str) -> None:
        # (service, instance, pod) in rotation order; occurrence n restarts pods[n % len(pods)].
        self.pods = pods
        self.ml_down_instance = ml_down_instance

    def restart_target(self, n: int) -> tuple[str, str, str]:
        return self.pods[n % len(self.pods)]

    def restarts_of(self, pod_index: int, t: float) -> int:
        """Restarts of the pod at ``pod_index`` (in rotation order) that began at or before ``t``."""
        started = KIND_BY_NAME[POD_RESTART].started_count(t)
        return max(0, (started - pod_index + len(self.pods) - 1) // len(self.pods))

    def last_restart_end(self, pod_index: int, t: float) -> float | None:
        """When the latest restart of that pod (begun at or before ``t``) ended, or None."""
        kind = KIND_BY_NAME[POD_RESTART]
        count = self.restarts_of(pod_index, t)
        if count == 0:
            return None
        n = pod_index + (count - 1) * len(self.pods)
        return kind.start_of(n) + kind.duration_s

    def occurrence(self, kind: IncidentKind, n: int) -> Incident:
        start = kind.start_of(n)
        service, instance = kind.service, ""
        if kind.name == POD_RESTART:
            service, instance, _ = self.restart_target(n)
        elif kind.name == ML_ERROR_SPIKE:
            instance = self.ml_down_instance
        return Incident(kind.name, float(start), float(start + kind.duration_s), service, instance, kind.summary)

    def between(self, start: float, end: float) -> list[Incident]:
        """Every incident overlapping [start, end), ordered by start."""
        found = []
        for kind in KINDS:
            first = max(0, kind.started_count(start - kind.duration_s))
            n = first
            while kind.start_of(n) < end:
                if kind.start_of(n) + kind.duration_s > start:
                    found.append(self.occurrence(kind, n))
                n += 1
        return sorted(found, key=lambda i: (i.start, i.name))

    def active(self, t: float) -> list[Incident]:
        """The incidents in progress at ``t``."""
        return [i for i in self.between(t, t + 1e-9) if i.contains(t)]

    def iter_kind(self, name: str, start: float, end: float) -> Iterator[Incident]:
        return (i for i in self.between(start, end) if i.name == name)
