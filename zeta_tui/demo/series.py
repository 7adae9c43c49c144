"""How each metric series of the world is computed, as data.

A series is either *linear* (a counter: ``floor`` or not of coefficients . Basis.at(t)), a
*sum of floors* (a histogram's _count and +Inf bucket: exactly the sum of its status
counters) or *computed* (a gauge or step counter: a function of t). Rates never go negative:
each traffic component (the load-shaped part of a regime, the always-positive wiggle, an
incident's constant burst) is non-negative on its own, so every counter is monotonic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Labels = tuple[tuple[str, str], ...]
Terms = tuple[tuple[int, float], ...]

# A bucket counter stays this far below its histogram's +Inf count, so rounding each status
# counter down can never leave a bucket above _count (buckets stay cumulative).
BUCKET_MARGIN = 8.0


@dataclass(frozen=True, slots=True)
class WorldSeries:
    """One time series: sample name, labels, and how its value follows from the time."""

    name: str
    labels: Labels
    mode: Literal["linear", "floor", "sum_of_floors", "computed"]
    terms: Terms = ()
    parts: tuple[Terms, ...] = ()
    offset: float = 0.0
    compute: Callable[[float], float] | None = None

    def label(self, name: str) -> str:
        return dict(self.labels).get(name, "")

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)

    def value(self, basis: list[float], t: float) -> float:
        """The value at ``t`` given ``basis`` = Basis.at(t)."""
        mode = self.mode
        if mode == "floor":
            v = math.floor(sum(c * basis[i] for i, c in self.terms) - self.offset)
            return float(v if v > 0 else 0)
        if mode == "linear":
            return sum(c * basis[i] for i, c in self.terms)
        if mode == "sum_of_floors":
            return float(sum(math.floor(sum(c * basis[i] for i, c in part)) for part in self.parts))
        assert self.compute is not None
        return self.compute(t)

    def selector(self) -> str:
        """``name{a="b",...}`` as written in the exposition formats."""
        if not self.labels:
            return self.name
        inner = ",".join(f'{k}="{_escape(v)}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Family:
    """A metric family: its TYPE, HELP and series (a histogram's _bucket, _sum, _count together)."""

    name: str
    kind: Literal["counter", "gauge", "histogram"]
    help: str
    series: tuple[WorldSeries, ...]


class TermsBuilder:
    """Accumulates coefficients by basis name; turns them into sparse Terms."""

    def __init__(self, index: dict[str, int]) -> None:
        self.index = index
        self.coefficients: dict[int, float] = {}

    def add(self, basis_name: str, coefficient: float) -> TermsBuilder:
        if coefficient:
            i = self.index[basis_name]
            self.coefficients[i] = self.coefficients.get(i, 0.0) + coefficient
        return self

    def extend(self, other: TermsBuilder, scale: float = 1.0) -> TermsBuilder:
        for i, c in other.coefficients.items():
            self.coefficients[i] = self.coefficients.get(i, 0.0) + c * scale
        return self

    def terms(self) -> Terms:
        return tuple(sorted((i, c) for i, c in self.coefficients.items() if c))


def lognormal_cdf(x: float, median: float, sigma: float) -> float:
    """P(latency <= x) for a log-normal latency with this median and log-sigma."""
    if math.isinf(x):
        return 1.0
    return 0.5 * (1.0 + math.erf((math.log(x) - math.log(median)) / (sigma * math.sqrt(2.0))))


def lognormal_mean(median: float, sigma: float) -> float:
    return median * math.exp(sigma * sigma / 2.0)


def noise(key: int, t: float, period: float = 15.0) -> float:
    """Deterministic noise in [-1, 1), constant over each ``period`` (splitmix64 of key and slot)."""
    z = (key * 0x9E3779B97F4A7C15 + int(t // period) * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return z / 2.0**63 - 1.0


def stable_key(*parts: object) -> int:
    """A process-independent integer for noise keys (``hash()`` of str is salted per process)."""
    h = 1469598103934665603
    for ch in "|".join(map(str, parts)).encode():
        h = ((h ^ ch) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h
