"""The Team Zeta world as the tests load it, and an independent reference for PromQL maths.

``T0`` is the fixed evaluation time of every query against the test Prometheus. It is inside
both the ml-engine error spike (17:10-17:35 UTC) and the latency regression on
/api/v1/recommendations (17:00-17:40 UTC) of 2026-03-11, and 7 s off the 15 s sample grid
so rate() has to extrapolate at both ends of its range.

The reference functions below re-implement Prometheus 2.42's ``extrapolatedRate`` and
``bucketQuantile`` from their documented behaviour, working on the generator's raw samples;
they share no code with zeta_tui.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

SEED = 42
T0 = datetime(2026, 3, 11, 17, 20, 7, tzinfo=UTC).timestamp()
WINDOW_SECONDS = 3 * 3600
STEP_SECONDS = 15
NAMESPACE = "production"


def grid(start: float, end: float, step: int = STEP_SECONDS) -> list[int]:
    """The backfill's sample times: multiples of ``step`` in [start, end]."""
    first = -(-int(start) // step) * step
    return list(range(first, int(end) + 1, step))


def in_range(samples: list[tuple[float, float]], at: float, range_s: float) -> list[tuple[float, float]]:
    """A range selector in Prometheus 2.x: samples with at - range <= t <= at (both ends inclusive)."""
    return [(t, v) for t, v in samples if at - range_s <= t <= at]


def extrapolated_rate(
    samples: list[tuple[float, float]], at: float, range_s: float, *, as_rate: bool = True
) -> float | None:
    """rate() (or increase() with as_rate=False) of a counter over [at - range_s, at], or None if < 2 samples."""
    window = in_range(samples, at, range_s)
    if len(window) < 2:
        return None
    times = [t for t, _ in window]
    values = [v for _, v in window]
    delta = values[-1] - values[0]
    for earlier, later in itertools.pairwise(values):
        if later < earlier:  # a counter reset: the counter restarted from zero
            delta += earlier
    covered = times[-1] - times[0]
    mean_gap = covered / (len(window) - 1)
    to_start = times[0] - (at - range_s)
    to_end = at - times[-1]
    if delta > 0 and values[0] >= 0:
        # Do not extrapolate back past the moment the counter would have been zero.
        to_start = min(to_start, covered * values[0] / delta)
    threshold = mean_gap * 1.1
    span = (
        covered
        + (to_start if to_start < threshold else mean_gap / 2)
        + (to_end if to_end < threshold else mean_gap / 2)
    )
    result = delta * span / covered
    return result / range_s if as_rate else result


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """histogram_quantile over (upper bound, cumulative count) pairs, interpolating linearly in a bucket."""
    merged: dict[float, float] = defaultdict(float)
    for le, count in buckets:
        merged[le] += count
    ordered = sorted(merged.items())
    if not ordered or not math.isinf(ordered[-1][0]) or len(ordered) < 2:
        return math.nan
    counts, running = [], 0.0
    for _, c in ordered:  # rates of separately extrapolated buckets can dip: force monotonic
        running = max(running, c)
        counts.append(running)
    total = counts[-1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next(i for i, c in enumerate([*counts[:-1], math.inf]) if c >= rank)
    if b == len(ordered) - 1:
        return ordered[-2][0]  # in the +Inf bucket: the highest finite bound
    if b == 0 and ordered[0][0] <= 0:
        return ordered[0][0]
    lower = ordered[b - 1][0] if b > 0 else 0.0
    below = counts[b - 1] if b > 0 else 0.0
    return lower + (ordered[b][0] - lower) * (rank - below) / (counts[b] - below)


def close(actual: float, expected: float, rel: float = 1e-9) -> bool:
    if math.isnan(expected):
        return math.isnan(actual)
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-12)


def backfilled_at(world, end: int) -> dict[str, float]:
    """What the backfill writes for ``world`` at ``end`` (a point of the 15 s grid): each series'
    selector and value, read back from the OpenMetrics text of [end - 15, end]."""
    import io

    from zeta_tui.demo.openmetrics import write_openmetrics

    out = io.StringIO()
    write_openmetrics(world, out, [end - 15, end])
    values = {}
    for line in out.getvalue().splitlines():
        if line and not line.startswith("#"):
            selector, value, stamp = line.rsplit(" ", 2)
            if int(stamp) == end:
                values[selector] = float(value)
    return values
