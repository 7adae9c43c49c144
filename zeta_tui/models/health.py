"""One row of the Service Health screen, and how a status follows from `up`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class ServiceStatus(Enum):
    """Worst first; the value is the text shown (status is never colour alone)."""

    DOWN = "DOWN"
    DEGRADED = "DEGRADED"
    UNKNOWN = "UNKNOWN"
    UP = "UP"

    @property
    def rank(self) -> int:
        return list(ServiceStatus).index(self)

    @classmethod
    def from_up_ratio(cls, ratio: float | None) -> ServiceStatus:
        """avg(up) over a service's targets: 1 -> UP, 0 -> DOWN, between -> DEGRADED."""
        if ratio is None or ratio != ratio:  # no series, or NaN
            return cls.UNKNOWN
        if ratio >= 1.0:
            return cls.UP
        if ratio <= 0.0:
            return cls.DOWN
        return cls.DEGRADED


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """Current figures for one service plus their history over the time range."""

    name: str
    status: ServiceStatus
    up_ratio: float | None = None
    cpu_cores: float | None = None
    memory_bytes: float | None = None
    memory_limit_bytes: float | None = None
    disk_bytes_per_s: float | None = None
    network_bytes_per_s: float | None = None
    restarts: float | None = None
    request_rate: float | None = None
    error_ratio: float | None = None
    #: the signals Prometheus lacks for this service, in words ("" when it has them all)
    missing: str = ""
    history: dict[str, tuple[float, ...]] = field(default_factory=dict)
    history_start: float = 0.0
    history_step: float = 0.0

    def history_times(self) -> tuple[float, ...]:
        """Timestamps of the history points (they sit on a regular grid)."""
        n = max((len(v) for v in self.history.values()), default=0)
        return tuple(self.history_start + i * self.history_step for i in range(n))

    @property
    def memory_ratio(self) -> float | None:
        if self.memory_bytes is None or not self.memory_limit_bytes:
            return None
        return self.memory_bytes / self.memory_limit_bytes

    def sort_key(self) -> tuple[int, float, str]:
        """Worst first: status, then most restarts, then name."""
        return (self.status.rank, -(self.restarts or 0.0), self.name)
