"""Service level objectives, error budgets and burn rates: pure maths, no I/O.

Every objective is a share of good events that must reach ``target`` (0.999 = 99.9 %). Its
error budget is ``1 - target``: the share of events allowed to be bad. Over a budget period
(30 days), the budget *consumed* is the bad share divided by the budget (1.0 = all of it),
and the *burn rate* over a short window is that window's bad share divided by the budget:
burn rate 1 spends exactly the whole budget in exactly one period.

The seed's objectives:

- availability 99.9 %: requests not answered with a 5xx;
- latency 99 %: requests served in under 100 ms (the ``le="0.1"`` histogram bucket);
- error rate 0.1 %: at most 0.1 % of requests fail (5xx). With 5xx as the only failure signal
  this is the availability budget seen from the other side; it is shown as an error rate
  (lower is better) because that is how the seed states it. Its ``target`` is stored as the
  good share (0.999) like the others, so the budget maths is the same for all three.

When the metrics backend holds less than the period's history, the SLI is over the data
available (``history_seconds`` says how much), as if the whole period looked like it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

#: Burn-rate windows, shortest first (those of the multiwindow alerts in alerts.yaml).
BURN_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "6h")
#: The budget period.
PERIOD_DAYS = 30
#: Which window's burn rate is "the current burn rate", then the fallbacks in order: 1h
#: smooths a single bad minute away yet still reacts within the hour.
CURRENT_WINDOW_ORDER: tuple[str, ...] = ("1h", "30m", "5m", "6h")

DAY = 86400.0


class ObjectiveKind(StrEnum):
    AVAILABILITY = "availability"
    LATENCY = "latency"
    ERROR_RATE = "error_rate"


@dataclass(frozen=True, slots=True)
class Objective:
    """What must hold: ``target`` share of good events (0.999), of the given kind."""

    name: str
    target: float
    kind: ObjectiveKind

    def __post_init__(self) -> None:
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"objective {self.name!r}: target must be between 0 and 1 exclusive, not {self.target}")

    @property
    def error_budget(self) -> float:
        """The share of events allowed to be bad: 1 - target."""
        return 1.0 - self.target

    def describe_target(self) -> str:
        """'≥ 99.9 %', '≥ 99 % < 100 ms', '≤ 0.1 %'."""
        if self.kind is ObjectiveKind.ERROR_RATE:
            return f"≤ {format_percent(self.error_budget)}"
        if self.kind is ObjectiveKind.LATENCY:
            return f"≥ {format_percent(self.target)} < 100 ms"
        return f"≥ {format_percent(self.target)}"


SEED_OBJECTIVES: tuple[Objective, ...] = (
    Objective("availability", 0.999, ObjectiveKind.AVAILABILITY),
    Objective("latency", 0.99, ObjectiveKind.LATENCY),
    Objective("error rate", 0.999, ObjectiveKind.ERROR_RATE),
)


@dataclass(frozen=True, slots=True)
class SloStatus:
    """One service against one objective.

    ``sli`` is the good share over the budget period (None: no traffic, no data), ``good`` and
    ``total`` the event counts behind it when known, ``error_ratios`` the bad share over each
    burn window (None where the window saw no traffic), ``history_seconds`` how much of the
    period the backend had data for, ``p95_seconds`` the latency p95 over the period
    (latency objectives only).
    """

    service: str
    objective: Objective
    sli: float | None
    good: float | None = None
    total: float | None = None
    error_ratios: Mapping[str, float | None] = field(default_factory=dict)
    history_seconds: float | None = None
    p95_seconds: float | None = None
    period_days: int = PERIOD_DAYS

    @property
    def has_data(self) -> bool:
        return self.sli is not None and not math.isnan(self.sli)

    @property
    def target(self) -> float:
        return self.objective.target

    @property
    def error_budget(self) -> float:
        return self.objective.error_budget

    @property
    def error_ratio(self) -> float | None:
        """The bad share over the period: 1 - SLI."""
        return 1.0 - self.sli if self.has_data else None  # type: ignore[operator]

    @property
    def budget_consumed(self) -> float | None:
        """Share of the period's budget spent (above 1 when overspent)."""
        ratio = self.error_ratio
        return None if ratio is None else ratio / self.error_budget

    @property
    def budget_remaining(self) -> float | None:
        """1 - consumed; negative when overspent."""
        consumed = self.budget_consumed
        return None if consumed is None else 1.0 - consumed

    @property
    def exhausted(self) -> bool:
        remaining = self.budget_remaining
        return remaining is not None and remaining <= 0.0

    @property
    def burn_rates(self) -> dict[str, float | None]:
        """Per window: bad share over the window / budget (1 = spends the period's budget in the period)."""
        return {w: burn_rate(self.error_ratios.get(w), self.error_budget) for w in BURN_WINDOWS}

    def current_burn(self) -> tuple[str, float] | None:
        """(window, burn rate) of the first window in CURRENT_WINDOW_ORDER that has data."""
        rates = self.burn_rates
        for w in CURRENT_WINDOW_ORDER:
            rate = rates.get(w)
            if rate is not None:
                return w, rate
        return None

    def time_to_exhaustion(self) -> float | None:
        """Seconds until the budget is gone at the current burn rate (None: it lasts, or no data)."""
        remaining, current = self.budget_remaining, self.current_burn()
        if remaining is None or current is None:
            return None
        return time_to_exhaustion(remaining, current[1], self.period_days)


def burn_rate(error_ratio: float | None, error_budget: float) -> float | None:
    """Bad share over a window divided by the budget; None for no data (None or NaN)."""
    if error_ratio is None or math.isnan(error_ratio):
        return None
    return error_ratio / error_budget


def time_to_exhaustion(remaining_fraction: float, burn_rate: float, period_days: float = PERIOD_DAYS) -> float | None:
    """Seconds until ``remaining_fraction`` of the budget is gone at ``burn_rate``.

    The budget accrues evenly over the period (1/period of it per second, burn rate 1) and is
    spent at ``burn_rate``/period per second, so it shrinks at (burn_rate - 1)/period per
    second. At a burn rate of 1 or less it is refilled as fast as it is spent and lasts: None.
    An already spent budget (remaining <= 0) is gone now: 0.
    """
    if remaining_fraction <= 0.0:
        return 0.0
    if burn_rate <= 1.0:
        return None
    return remaining_fraction * period_days * DAY / (burn_rate - 1.0)


def format_span(seconds: float) -> str:
    """'3 d 4 h', '3 d', '5 h 12 m', '40 m', 'under a minute': two units at most, rounded down."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} m" if mins else f"{hours} h"
    return f"{mins} m"


def format_percent(share: float, digits: int = 3) -> str:
    """0.999 -> '99.9 %', 0.99 -> '99 %', 0.001 -> '0.1 %', 0.99953 -> '99.953 %' (``digits`` decimals at most)."""
    text = f"{share * 100:.{digits}f}".rstrip("0").rstrip(".")
    return f"{text} %"


def plain_words(status: SloStatus) -> str:
    """What the budget is doing, in one sentence an engineer woken at 3 am can read."""
    if not status.has_data:
        return "no data: the service served no requests in the period"
    remaining = status.budget_remaining
    assert remaining is not None
    if remaining <= 0.0:
        return f"the budget is spent: {format_percent(-remaining, 1)} over"
    current = status.current_burn()
    if current is None:
        return "no recent requests: the burn rate is unknown"
    window, rate = current
    seconds = time_to_exhaustion(remaining, rate, status.period_days)
    if seconds is None:
        return "burning slower than it refills: the budget lasts"
    return f"at the current burn rate the budget is gone in {format_span(seconds)} ({rate:.1f}x over {window})"


def sli_text(s: SloStatus) -> str:
    """The indicator as a percentage (an error rate for the error-rate objective); "no data"."""
    if not s.has_data:
        return "no data"
    if s.objective.kind is ObjectiveKind.ERROR_RATE:
        return format_percent(s.error_ratio or 0.0)  # shown as an error rate: lower is better
    return format_percent(s.sli or 0.0)


def burn_text(rate: float | None) -> str:
    """A burn rate as 2.50x; "-" when unknown."""
    return "-" if rate is None else f"{rate:.2f}x"


def remaining_text(s: SloStatus) -> str:
    """The budget left over the period, as a percentage (negative when overspent); "-"."""
    remaining = s.budget_remaining
    return "-" if remaining is None else format_percent(remaining, 1)
