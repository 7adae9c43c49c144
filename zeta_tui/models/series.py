"""Time series as Prometheus returns them: instant vectors and range matrices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Sample:
    """One point: unix seconds and a float value (NaN and ±Inf allowed)."""

    t: float
    v: float


@dataclass(frozen=True, slots=True)
class InstantSample:
    """One element of an instant vector."""

    labels: Labels
    t: float
    v: float

    def label(self, name: str, default: str = "") -> str:
        return self.labels.get(name, default)


@dataclass(frozen=True, slots=True)
class Series:
    """One element of a range matrix: a label set and its samples in time order."""

    labels: Labels
    samples: tuple[Sample, ...]

    def label(self, name: str, default: str = "") -> str:
        return self.labels.get(name, default)

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(s.v for s in self.samples)

    @property
    def last(self) -> float | None:
        return self.samples[-1].v if self.samples else None


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[T]):
    """A backend's answer plus the warnings it sent with it (shown, never dropped)."""

    data: T
    warnings: tuple[str, ...] = field(default=())
