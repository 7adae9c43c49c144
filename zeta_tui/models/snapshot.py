"""What a pane holds: the last good value, when it came, and the last error."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Generic, TypeVar

from zeta_tui.errors import NotConfigured, ZetaError

T = TypeVar("T")


class PaneState(Enum):
    LOADING = "loading"
    FRESH = "fresh"
    STALE = "stale"
    ERROR = "error"
    #: the context lacks the backend's section: nothing failed, nothing is retried
    NOT_CONFIGURED = "not-configured"


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    """A value with its provenance. A failed refresh keeps the old value and marks it stale."""

    value: T | None = None
    fetched_at: float | None = None
    error: ZetaError | None = None
    warnings: tuple[str, ...] = ()
    failures: int = 0
    next_retry_at: float | None = None
    #: the value is a previous run's answer (the answer cache), shown until this run's lands
    from_cache: bool = False

    def succeeded(self, value: T, at: float, warnings: tuple[str, ...] = ()) -> Snapshot[T]:
        return Snapshot(value=value, fetched_at=at, warnings=warnings)

    def failed(self, error: ZetaError, retry_at: float | None) -> Snapshot[T]:
        return replace(self, error=error, failures=self.failures + 1, next_retry_at=retry_at)

    def state(self, now: float, fresh_for: float) -> PaneState:
        if isinstance(self.error, NotConfigured):
            return PaneState.NOT_CONFIGURED
        if self.error is not None and self.value is None:
            return PaneState.ERROR
        if self.value is None:
            return PaneState.LOADING
        if (
            self.error is not None
            or self.from_cache
            or (self.fetched_at is not None and now - self.fetched_at > fresh_for)
        ):
            return PaneState.STALE
        return PaneState.FRESH

    def age(self, now: float) -> float | None:
        return None if self.fetched_at is None else max(0.0, now - self.fetched_at)


def retry_delay(error: ZetaError, failures: int, base: float) -> float | None:
    """When to ask again after ``error`` (the ``failures``-th in a row): the backoff, or longer
    when the backend said how long to wait (HTTP 429); None for a backend that is not
    configured (asking again would not change the config)."""
    if isinstance(error, NotConfigured):
        return None
    return max(backoff_seconds(failures, base), error.retry_after or 0.0)


def backoff_seconds(failures: int, base: float, cap: float = 300.0) -> float:
    """Retry delay after ``failures`` consecutive failures: base, 2x, 4x ... capped."""
    if failures <= 0:
        return base
    return min(cap, base * 2.0 ** (failures - 1))
