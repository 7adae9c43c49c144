"""What the API Performance screen shows."""

from __future__ import annotations

from dataclasses import dataclass

from zeta_tui.models.series import Series


@dataclass(frozen=True, slots=True)
class EndpointStats:
    """One endpoint over the whole time range."""

    service: str
    endpoint: str
    request_rate: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    error_ratio: float | None


@dataclass(frozen=True, slots=True)
class ApiPerformance:
    """Charts (series over the range) and the per-endpoint table."""

    request_rate: tuple[Series, ...]
    latency: dict[str, Series | None]  # "p50" / "p95" / "p99"
    errors_by_status: tuple[Series, ...]
    endpoints: tuple[EndpointStats, ...]

    def slowest(self, n: int = 10) -> list[EndpointStats]:
        ranked = [e for e in self.endpoints if e.p95 is not None and e.p95 == e.p95]
        return sorted(ranked, key=lambda e: (-(e.p95 or 0.0), e.endpoint))[:n]
