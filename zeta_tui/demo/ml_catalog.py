"""The world's model and data families: training runs, model quality by version, data ingest
and ANN search latency (docs/demo.md "Model and data" says what each one shows).

The scripted events behind them are incidents.py's DATA_KINDS. A quality series is *absent*
(ABSENT, NaN) while its model version is not the one serving: the exposition leaves it out, as
an exporter drops a series it no longer has (the live scrape then writes a staleness marker;
the backfill has none, so a backfilled series lingers the 5 minutes of an instant lookback).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zeta_tui.demo.incidents import (
    CANDIDATE_MODEL,
    FEED_STALE,
    ML_ERROR_SPIKE,
    MODEL_ROLLOUT,
    STABLE_MODEL,
    STALE_FEED_TENANT,
    TRAINING_FAILURE,
    TRAINING_FAILURE_TENANT,
    rollout_hits,
)
from zeta_tui.demo.series import (
    BUCKET_MARGIN,
    Family,
    Labels,
    TermsBuilder,
    WorldSeries,
    lognormal_cdf,
    lognormal_mean,
    noise,
    stable_key,
)
from zeta_tui.demo.topology import LATENCY_BUCKETS
from zeta_tui.demo.traffic import WORLD_EPOCH

if TYPE_CHECKING:
    from zeta_tui.demo.world import TeamZetaWorld

ABSENT = math.nan  # one object: lists of values holding it still compare equal
TRAINING_PERIOD_S = 6 * 3600  # each tenant's model is retrained every 6 h
VALIDATION_FAILURE = "data_validation"  # the scripted failure: rejected before training starts
PREEMPTED = "preempted"  # about one run in ten: its node was reclaimed half-way
FAILURE_REASONS = (VALIDATION_FAILURE, PREEMPTED)
VALIDATION_RUN_S = 240  # a run rejected by data validation fails after 4 minutes
ROLLOUT_QUALITY_FACTOR = 0.75  # the candidate model's quality for the tenants a rollout hurts
INGEST_INTERVAL_S = 300  # each tenant's feed delivers a batch every 5 minutes
ANN_SHARE = 0.7  # the ANN search's share of an /internal/ann_search call's latency (median)
ANN_PATH = "/internal/ann_search"

Regimes = Callable[..., dict[str, tuple[float, float]]]


# --- training runs ---------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRun:
    """One training run of a tenant's model: when it started and ended, and how."""

    start: float
    end: float
    status: str  # "succeeded" or "failed"
    reason: str  # why it failed ("" when it succeeded)


class TrainingSchedule:
    """A tenant's training runs: run j starts ``offset`` + j x 6 h after the epoch and runs ``run_s``
    +-5 minutes; a run started inside a TRAINING_FAILURE window of the scripted tenant fails data
    validation after 4 minutes; otherwise about one run in ten is preempted half-way."""

    def __init__(self, world: TeamZetaWorld, tenant_id: str, offset: int, run_s: int) -> None:
        self.offset, self.run_s = offset, run_s
        self.key = stable_key(world.seed, "training", tenant_id)
        self.length_key = stable_key(world.seed, "training-length", tenant_id)
        self.failures = world.schedule.kind(TRAINING_FAILURE) if tenant_id == TRAINING_FAILURE_TENANT else None
        self._runs: dict[int, TrainingRun] = {}

    def run(self, j: int) -> TrainingRun:
        """Run number ``j`` (0 is the first after the epoch)."""
        found = self._runs.get(j)
        if found is None:
            start = WORLD_EPOCH + self.offset + j * TRAINING_PERIOD_S
            length = self.run_s + 60 * round(5 * noise(self.length_key, j, 1))
            if self.failures is not None and self.failures.active_index(start) is not None:
                found = TrainingRun(start, start + VALIDATION_RUN_S, "failed", VALIDATION_FAILURE)
            elif noise(self.key, j, 1) < -0.8:
                found = TrainingRun(start, start + length // 2, "failed", PREEMPTED)
            else:
                found = TrainingRun(start, start + length, "succeeded", "")
            self._runs[j] = found
        return found

    def latest(self, t: float) -> int:
        """The number of the latest run started at or before ``t``."""
        return math.floor((t - WORLD_EPOCH - self.offset) / TRAINING_PERIOD_S)

    def status(self, t: float) -> tuple[str, str]:
        """(status, reason) of the latest run at ``t``: running, succeeded or failed."""
        run = self.run(self.latest(t))
        return ("running", "") if t < run.end else (run.status, run.reason)

    def last_finished(self, t: float) -> TrainingRun:
        j = self.latest(t)
        return self.run(j) if t >= self.run(j).end else self.run(j - 1)

    def last_success(self, t: float) -> TrainingRun | None:
        """The latest run that succeeded and ended at or before ``t`` (None after 200 failures)."""
        j = self.latest(t)
        for k in range(j, j - 200, -1):
            run = self.run(k)
            if run.status == "succeeded" and run.end <= t:
                return run
        return None


def _status(schedule: TrainingSchedule, status: str, reason: str) -> Callable[[float], float]:
    return lambda t: 1.0 if schedule.status(t) == (status, reason) else 0.0


def _last_start(schedule: TrainingSchedule) -> Callable[[float], float]:
    return lambda t: float(schedule.run(schedule.latest(t)).start)


def _last_duration(schedule: TrainingSchedule) -> Callable[[float], float]:
    def duration(t: float) -> float:
        run = schedule.last_finished(t)
        return float(run.end - run.start)

    return duration


def _last_success(schedule: TrainingSchedule) -> Callable[[float], float]:
    def success(t: float) -> float:
        run = schedule.last_success(t)
        return float(run.end) if run is not None else 0.0

    return success


# --- model quality ---------------------------------------------------------------------


def _quality(
    world: TeamZetaWorld, tenant_id: str, version: str, base: float, phase: float, key: int
) -> Callable[[float], float]:
    ml, rollout = world.schedule.kind(ML_ERROR_SPIKE), world.schedule.kind(MODEL_ROLLOUT)

    def quality(t: float) -> float:
        n = rollout.active_index(t)
        if (CANDIDATE_MODEL if n is not None else STABLE_MODEL) != version:
            return ABSENT
        drift = 0.012 * math.sin(2 * math.pi * (t - WORLD_EPOCH) / (3 * 86400) + phase)
        dip = 0.06 if ml.active_index(t) is not None else 0.0
        value = base + drift + 0.004 * noise(key, t, 900) - dip
        if n is not None and rollout_hits(n, tenant_id):
            value *= ROLLOUT_QUALITY_FACTOR
        return round(value, 6)

    return quality


def model_families(world: TeamZetaWorld, biz: Labels) -> Iterator[Family]:
    """ml_recommendation_quality by model version and the training-run families, per tenant."""
    rng = random.Random(f"business-{world.seed}")  # drawn in the order of the first world's
    quality: list[WorldSeries] = []
    status: list[WorldSeries] = []
    starts, durations, successes = [], [], []
    for t in world.topology.tenants:
        tenant = (*biz, ("tenant_id", t.tenant_id))
        # The noise keys keep the metric's first name (ndcg_at_10), so the values did not move.
        for metric, key_name, low, high in (
            ("ndcg_10", "ndcg_at_10", 0.32, 0.48),
            ("precision_at_10", "precision_at_10", 0.16, 0.3),
        ):
            base, phase = rng.uniform(low, high), rng.uniform(0, 6.283)
            key = stable_key(world.seed, key_name, t.tenant_id)
            for version in (STABLE_MODEL, CANDIDATE_MODEL):
                labels = (*biz, ("metric", metric), ("model_version", version), ("tenant_id", t.tenant_id))
                quality.append(
                    WorldSeries(
                        "ml_recommendation_quality",
                        labels,
                        "computed",
                        compute=_quality(world, t.tenant_id, version, base, phase, key),
                    )
                )
        offset, run_s = rng.randrange(0, 6 * 3600, 60), rng.randrange(30 * 60, 50 * 60, 60)
        schedule = TrainingSchedule(world, t.tenant_id, offset, run_s)
        for state, reason in (("running", ""), ("succeeded", ""), *(("failed", r) for r in FAILURE_REASONS)):
            labels = (*biz, *((("reason", reason),) if reason else ()), ("status", state), ("tenant_id", t.tenant_id))
            status.append(
                WorldSeries("training_job_status", labels, "computed", compute=_status(schedule, state, reason))
            )
        starts.append(
            WorldSeries("training_job_last_start_timestamp_seconds", tenant, "computed", compute=_last_start(schedule))
        )
        durations.append(
            WorldSeries("training_job_last_duration_seconds", tenant, "computed", compute=_last_duration(schedule))
        )
        successes.append(
            WorldSeries(
                "training_job_last_success_timestamp_seconds", tenant, "computed", compute=_last_success(schedule)
            )
        )
    yield Family(
        "ml_recommendation_quality",
        "gauge",
        "Offline quality of the model serving each tenant, by metric and model version.",
        tuple(quality),
    )
    yield Family(
        "training_job_status",
        "gauge",
        "1 for the status (and a failure's reason) of the tenant's latest training job.",
        tuple(status),
    )
    yield Family(
        "training_job_last_start_timestamp_seconds",
        "gauge",
        "Unix time the tenant's latest training job started.",
        tuple(starts),
    )
    yield Family(
        "training_job_last_duration_seconds",
        "gauge",
        "How long the tenant's latest finished training job ran, seconds.",
        tuple(durations),
    )
    yield Family(
        "training_job_last_success_timestamp_seconds",
        "gauge",
        "Unix time the tenant's latest successful training job finished.",
        tuple(successes),
    )


# --- data ingest -----------------------------------------------------------------------


def _last_ingest(world: TeamZetaWorld, tenant_id: str) -> Callable[[float], float]:
    phase = int(tenant_id.rsplit("_", 1)[1]) * 37 % INGEST_INTERVAL_S
    stale = world.schedule.kind(FEED_STALE) if tenant_id == STALE_FEED_TENANT else None

    def last(t: float) -> float:
        batch = math.floor((t - phase) / INGEST_INTERVAL_S) * INGEST_INTERVAL_S + phase
        if stale is not None and (n := stale.active_index(batch)) is not None:
            # Nothing arrived since the window began: the newest batch is the last one before it.
            batch = math.floor((stale.start_of(n) - 1 - phase) / INGEST_INTERVAL_S) * INGEST_INTERVAL_S + phase
        return float(batch)

    return last


def ingest_family(world: TeamZetaWorld, biz: Labels) -> Family:
    """tenant_data_last_ingest_timestamp_seconds: when each tenant's newest data batch arrived."""
    series = tuple(
        WorldSeries(
            "tenant_data_last_ingest_timestamp_seconds",
            (*biz, ("tenant_id", t.tenant_id)),
            "computed",
            compute=_last_ingest(world, t.tenant_id),
        )
        for t in world.topology.tenants
    )
    return Family(
        "tenant_data_last_ingest_timestamp_seconds",
        "gauge",
        "Unix time the tenant's newest data batch was ingested.",
        series,
    )


# --- ANN search ------------------------------------------------------------------------


def ann_family(
    world: TeamZetaWorld, status_terms: dict[tuple[str, str, str], TermsBuilder], regimes: Regimes
) -> Family:
    """ann_search_duration_seconds: one ANN search per successful /internal/ann_search call.

    Its _count is that endpoint's 200s on the instance; its latency is the call's log-normal with
    ANN_SHARE of its median and the same sigma, in quiet times and in each incident's regime, so
    every ANN bucket holds at least the call's share below that bound (the search is part of the call).
    """
    topo, index = world.topology, world.basis.index
    e = next(e for e in topo.endpoints if e.path == ANN_PATH)
    wiggle = f"wiggle:{e.key}"
    out: list[WorldSeries] = []
    for inst in topo.service(e.service).instances:
        ok = status_terms[(inst.instance, e.key, "200")]
        # The 200s' own quiet rate and wiggle: the searches are exactly those calls.
        base, wig = ok.coefficients[index["load"]], ok.coefficients.get(index[wiggle], 0.0)
        # Each incident's regime: the 200s' rate while it is on (a share of base) and the ANN latency.
        kinds = {
            kind: (1 + ok.coefficients.get(index[kind], 0.0) / base, median * ANN_SHARE, sigma)
            for kind, (median, sigma) in regimes(e).items()
        }
        labels = (("job", e.service), ("instance", inst.instance))
        quiet = (e.median_s * ANN_SHARE, e.sigma)
        for le in LATENCY_BUCKETS:
            if le == "+Inf":
                out.append(
                    WorldSeries(
                        "ann_search_duration_seconds_bucket",
                        (*labels, ("le", le)),
                        "sum_of_floors",
                        parts=(ok.terms(),),
                    )
                )
                continue
            cdf = lognormal_cdf(float(le), *quiet)
            tb = TermsBuilder(index).add("load", base * cdf).add(wiggle, wig * cdf)
            for kind, (rate, median, sigma) in kinds.items():
                tb.add(kind, base * (rate * lognormal_cdf(float(le), median, sigma) - cdf))
            out.append(
                WorldSeries(
                    "ann_search_duration_seconds_bucket",
                    (*labels, ("le", le)),
                    "floor",
                    tb.terms(),
                    offset=BUCKET_MARGIN,
                )
            )
        mean = lognormal_mean(*quiet)
        tb = TermsBuilder(index).add("load", base * mean).add(wiggle, wig * mean)
        for kind, (rate, median, sigma) in kinds.items():
            tb.add(kind, base * (rate * lognormal_mean(median, sigma) - mean))
        out.append(WorldSeries("ann_search_duration_seconds_sum", labels, "linear", tb.terms()))
        out.append(WorldSeries("ann_search_duration_seconds_count", labels, "sum_of_floors", parts=(ok.terms(),)))
    return Family("ann_search_duration_seconds", "histogram", "Time the ANN index took to answer a search.", tuple(out))
