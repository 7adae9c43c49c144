"""The scripted incidents of the Team Zeta world, on a fixed schedule in absolute time.

Each kind of incident repeats with its own period, so any 24 h window holds several and
"now" is inside one about a fifth of the time. The schedule does not depend on the seed:
a time picked inside an incident (as the tests do) stays inside it.

A world may move its whole schedule by an *incident shift* (``shifted_kinds``): every kind's
first occurrence moves by the shift, modulo the kind's period. Shift 0 is the schedule below,
which the tests use. `zeta demo` picks a shift when it creates its store
(``shift_for_spike_at``), so that an ml-engine error spike begins a few minutes after the
first start, keeps it in its state and builds every later world (and every child process's)
with it, so the history it wrote stays the world's history.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

# The world's clock starts here (2025-01-01T00:00:00Z): counters count from this instant and
# incident number 0 of each kind is the first one after it.
WORLD_EPOCH = 1_735_689_600

ML_ERROR_SPIKE = "ml_error_spike"
LATENCY_REGRESSION = "latency_regression"
AUTH_LOGIN_BURST = "auth_login_burst"
POD_RESTART = "pod_restart"
# The model and data events (DATA_KINDS): they change no request rate, only the ML and data
# gauges (ml_catalog.py), and are not among the incidents the console lists.
MODEL_ROLLOUT = "model_rollout"
TRAINING_FAILURE = "training_failure"
FEED_STALE = "feed_stale"

# The one tenant whose training runs fail during TRAINING_FAILURE, and the one whose data feed
# stops during FEED_STALE (tenant ids do not depend on the seed).
TRAINING_FAILURE_TENANT = "tenant_007"
STALE_FEED_TENANT = "tenant_013"
# Rollout n hurts the tenants whose number is n modulo this (8 of 40 tenants each time).
ROLLOUT_TENANT_MODULUS = 5
STABLE_MODEL = "ranker-v41"
CANDIDATE_MODEL = "ranker-v42"


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
        return math.floor((t - WORLD_EPOCH - self.offset_s) / self.period_s) + 1

    def active_index(self, t: float) -> int | None:
        """The occurrence in progress at ``t`` (start inclusive, end exclusive), if any."""
        n = self.started_count(t) - 1
        if n >= 0 and t < self.start_of(n) + self.duration_s:
            return n
        return None

    def shifted(self, shift_s: int) -> IncidentKind:
        """This kind with every occurrence ``shift_s`` seconds later, modulo its period (occurrence 0
        stays the first one after the epoch)."""
        return replace(self, offset_s=(self.offset_s + shift_s) % self.period_s)


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
    IncidentKind(
        ML_ERROR_SPIKE,
        "ml-engine",
        "ml-engine 5xx spike; ml-engine-1 down (OOM)",
        7 * 3600,
        25 * 60,
        3 * 3600 + 10 * 60,
    ),
    IncidentKind(
        LATENCY_REGRESSION,
        "backend-api",
        "latency regression on POST /api/v1/recommendations",
        11 * 3600,
        40 * 60,
        5 * 3600,
    ),
    IncidentKind(
        AUTH_LOGIN_BURST,
        "auth",
        "burst of failed logins (401) on /api/v1/auth/login",
        5 * 3600,
        15 * 60,
        3600 + 20 * 60,
    ),
    IncidentKind(POD_RESTART, "", "pod restart (container restarted, target briefly down)", 3 * 3600, 120, 40 * 60),
)

# Every 4 days the candidate model (CANDIDATE_MODEL) is rolled out to every tenant at 16:00 UTC
# (at shift 0); for a fifth of the tenants it ranks worse (NDCG@10 and precision@10 25 % lower)
# and 6 h later it is rolled back to STABLE_MODEL. At shift 0 one starts at 2026-03-11T16:00Z,
# 80 min before the tests' T0.
# Every 3 days for 20 h, TRAINING_FAILURE_TENANT's runs that start fail data validation (one
# window covers 2026-03-11T08:00Z-04:00Z+1d). Every 2 days for 3 h, STALE_FEED_TENANT's data feed
# delivers nothing (one window starts 2026-03-11T15:30Z: at T0 its data is 110 min old).
DATA_KINDS: tuple[IncidentKind, ...] = (
    IncidentKind(
        MODEL_ROLLOUT, "ml-engine", "model rollout lowers NDCG@10 for some tenants", 4 * 86400, 6 * 3600, 64 * 3600
    ),
    IncidentKind(
        TRAINING_FAILURE,
        "ml-engine",
        f"training runs of {TRAINING_FAILURE_TENANT} fail data validation",
        3 * 86400,
        20 * 3600,
        56 * 3600,
    ),
    IncidentKind(
        FEED_STALE, "", f"data feed of {STALE_FEED_TENANT} delivers nothing", 2 * 86400, 3 * 3600, 15 * 3600 + 1800
    ),
)

KIND_BY_NAME = {k.name: k for k in (*KINDS, *DATA_KINDS)}


def rollout_hits(n: int, tenant_id: str) -> bool:
    """Whether model rollout ``n`` lowers the quality of ``tenant_id`` (``tenant_NNN``)."""
    return int(tenant_id.rsplit("_", 1)[1]) % ROLLOUT_TENANT_MODULUS == n % ROLLOUT_TENANT_MODULUS


# The instance the ml-engine spike takes down.
ML_SPIKE_DOWN_INDEX = 1


def shifted_kinds(shift_s: int, kinds: tuple[IncidentKind, ...] = KINDS) -> tuple[IncidentKind, ...]:
    """``kinds`` with the whole schedule moved by ``shift_s`` seconds (each kind modulo its period)."""
    return tuple(k.shifted(shift_s) for k in kinds)


def shift_for_spike_at(t: float, regression_after_s: int = 75 * 60) -> int:
    """An incident shift whose schedule starts an ml-engine error spike at ``t`` (whole seconds).

    Any shift congruent modulo the spike's period does that; of the ones below the product of
    the spike's and the latency regression's periods (7 h and 11 h are coprime, so 11 choices
    put the regression at 11 different hours), the one whose regression starts nearest
    ``regression_after_s`` after the spike is chosen: the same demo session then shows the
    latency regression too, after the spike's alerts have resolved.
    """
    spike, regression = KIND_BY_NAME[ML_ERROR_SPIKE], KIND_BY_NAME[LATENCY_REGRESSION]
    base = (int(t) - WORLD_EPOCH - spike.offset_s) % spike.period_s
    best, best_gap = base, None
    for k in range(regression.period_s // math.gcd(spike.period_s, regression.period_s)):
        shift = base + k * spike.period_s
        # Seconds from the spike at t to the next regression start at or after it.
        since_epoch = int(t) - WORLD_EPOCH - regression.shifted(shift).offset_s
        wait = -since_epoch % regression.period_s
        gap = abs(wait - regression_after_s)
        if best_gap is None or gap < best_gap:
            best, best_gap = shift, gap
    return best


class IncidentSchedule:
    """Where every incident falls: ``pods`` is the rotation order of the pod-restart incident,
    ``kinds`` the world's incident kinds (KINDS, or KINDS shifted), ``data_kinds`` its model and
    data events (DATA_KINDS, shifted alike: ``kind`` finds them, ``between`` and ``active`` do not)."""

    def __init__(
        self,
        pods: tuple[tuple[str, str, str], ...],
        ml_down_instance: str,
        kinds: tuple[IncidentKind, ...] = KINDS,
        data_kinds: tuple[IncidentKind, ...] = DATA_KINDS,
    ) -> None:
        # (service, instance, pod) in rotation order; occurrence n restarts pods[n % len(pods)].
        self.pods = pods
        self.ml_down_instance = ml_down_instance
        self.kinds = kinds
        self.data_kinds = data_kinds
        self._by_name = {k.name: k for k in (*kinds, *data_kinds)}

    def kind(self, name: str) -> IncidentKind:
        """The world's incident kind called ``name`` (with the world's shift)."""
        return self._by_name[name]

    def restart_target(self, n: int) -> tuple[str, str, str]:
        return self.pods[n % len(self.pods)]

    def restarts_of(self, pod_index: int, t: float) -> int:
        """Restarts of the pod at ``pod_index`` (in rotation order) that began at or before ``t``."""
        started = self.kind(POD_RESTART).started_count(t)
        return max(0, (started - pod_index + len(self.pods) - 1) // len(self.pods))

    def last_restart_end(self, pod_index: int, t: float) -> float | None:
        """When the latest restart of that pod (begun at or before ``t``) ended, or None."""
        kind = self.kind(POD_RESTART)
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
        for kind in self.kinds:
            first = max(0, kind.started_count(start - kind.duration_s))
            n = first
            while kind.start_of(n) < end:
                if kind.start_of(n) + kind.duration_s > start:
                    found.append(self.occurrence(kind, n))
                n += 1
        return sorted(found, key=lambda i: (i.start, i.name))

    def active(self, t: float) -> list[Incident]:
        """The incidents in progress at ``t`` (one starting exactly at ``t`` included: t + 1e-9 is t
        at today's unix times, so this asks each kind rather than ``between``)."""
        found = [self.occurrence(kind, n) for kind in self.kinds if (n := kind.active_index(t)) is not None]
        return sorted(found, key=lambda i: (i.start, i.name))

    def iter_kind(self, name: str, start: float, end: float) -> Iterator[Incident]:
        return (i for i in self.between(start, end) if i.name == name)
