"""Error budget and burn-rate maths with expectations worked by hand (no Prometheus)."""

from __future__ import annotations

import math

import pytest

from zeta_tui.models.slo import (
    SEED_OBJECTIVES,
    Objective,
    ObjectiveKind,
    SloStatus,
    burn_rate,
    format_percent,
    format_span,
    plain_words,
    time_to_exhaustion,
)

AVAILABILITY, LATENCY, ERROR_RATE = SEED_OBJECTIVES
HOUR, DAY = 3600.0, 86400.0


def status(objective: Objective = AVAILABILITY, sli: float | None = 0.9995, **ratios: float | None) -> SloStatus:
    return SloStatus("backend-api", objective, sli, error_ratios=dict(ratios))


def test_seed_objectives_and_budgets() -> None:
    assert [(o.name, o.kind) for o in SEED_OBJECTIVES] == [
        ("availability", ObjectiveKind.AVAILABILITY),
        ("latency", ObjectiveKind.LATENCY),
        ("error rate", ObjectiveKind.ERROR_RATE),
    ]
    # 1 - 0.999 = 0.001 of requests may fail; 1 - 0.99 = 0.01 may be slow.
    assert AVAILABILITY.error_budget == pytest.approx(0.001, rel=1e-12)
    assert LATENCY.error_budget == pytest.approx(0.01, rel=1e-12)
    assert ERROR_RATE.error_budget == pytest.approx(0.001, rel=1e-12)
    assert [o.describe_target() for o in SEED_OBJECTIVES] == ["≥ 99.9 %", "≥ 99 % < 100 ms", "≤ 0.1 %"]
    with pytest.raises(ValueError):
        Objective("nonsense", 1.0, ObjectiveKind.AVAILABILITY)


def test_budget_consumed_and_remaining() -> None:
    # 99.95 % good against 99.9 %: 0.05 % bad of a 0.1 % budget = half spent.
    s = status(sli=0.9995)
    assert s.error_ratio == pytest.approx(0.0005)
    assert s.budget_consumed == pytest.approx(0.5)
    assert s.budget_remaining == pytest.approx(0.5)
    assert not s.exhausted
    # 99.888 % good: 0.112 % bad = 112 % of the budget, 12 % over.
    over = status(sli=0.99888)
    assert over.budget_consumed == pytest.approx(1.12)
    assert over.budget_remaining == pytest.approx(-0.12)
    assert over.exhausted
    # Latency 98.5 % under 100 ms against 99 %: 1.5 % slow of a 1 % budget.
    assert status(LATENCY, 0.985).budget_remaining == pytest.approx(-0.5)


def test_burn_rates_per_window() -> None:
    # 1.44 % errors over 1h against a 0.1 % budget: 14.4x, the page threshold of the alert rules.
    s = status(**{"5m": 0.02, "30m": 0.006, "1h": 0.0144, "6h": 0.0005})
    assert s.burn_rates == pytest.approx({"5m": 20.0, "30m": 6.0, "1h": 14.4, "6h": 0.5})
    assert burn_rate(None, 0.001) is None
    assert burn_rate(math.nan, 0.001) is None
    # A window with no traffic has no burn rate; missing windows too.
    assert status(**{"5m": None, "1h": 0.002}).burn_rates == {
        "5m": None,
        "30m": None,
        "1h": pytest.approx(2.0),
        "6h": None,
    }
    # Latency: 5 % slow against a 1 % budget = 5x.
    assert status(LATENCY, 0.99, **{"1h": 0.05}).burn_rates["1h"] == pytest.approx(5.0)


def test_time_to_exhaustion() -> None:
    # Net shrink = (burn - 1)/period per second. 95 % left at 10x: 0.95 * 720 h / 9 = 76 h = 3 d 4 h.
    assert time_to_exhaustion(0.95, 10.0) == pytest.approx(76 * HOUR)
    # Half left at 2x: 0.5 * 30 d / 1 = 15 d.
    assert time_to_exhaustion(0.5, 2.0) == pytest.approx(15 * DAY)
    # A 7-day period: 0.2 * 7 d / 13.4 (burn 14.4) = 0.10448 d = 2 h 30 m 26 s.
    assert time_to_exhaustion(0.2, 14.4, period_days=7) == pytest.approx(0.2 * 7 * DAY / 13.4)
    assert time_to_exhaustion(0.5, 1.0) is None  # spent as fast as it accrues
    assert time_to_exhaustion(0.5, 0.3) is None
    assert time_to_exhaustion(0.0, 5.0) == 0.0
    assert time_to_exhaustion(-0.2, 0.5) == 0.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (76 * HOUR, "3 d 4 h"),
        (76 * HOUR + 59 * 60, "3 d 4 h"),  # rounded down: never promise more time than there is
        (15 * DAY, "15 d"),
        (5 * HOUR + 12 * 60 + 30, "5 h 12 m"),
        (2 * HOUR, "2 h"),
        (40 * 60 + 59, "40 m"),
        (59.9, "under a minute"),
        (0.0, "under a minute"),
    ],
)
def test_format_span(seconds: float, text: str) -> None:
    assert format_span(seconds) == text


def test_format_percent() -> None:
    assert [format_percent(x) for x in (0.999, 0.99, 0.001, 0.99953, 1.0)] == [
        "99.9 %",
        "99 %",
        "0.1 %",
        "99.953 %",
        "100 %",
    ]
    assert format_percent(0.12, 1) == "12 %"


def test_plain_words() -> None:
    # 95 % left (0.005 % bad of 0.1 %), 1h burn 10x (1 % errors over the hour): 3 d 4 h.
    s = status(sli=0.99995, **{"5m": 0.03, "1h": 0.01})
    assert plain_words(s) == "at the current burn rate the budget is gone in 3 d 4 h (10.0x over 1h)"
    # Without a 1h figure the 30m one is the current burn rate, then 5m, then 6h.
    assert "over 30m" in plain_words(status(sli=0.99995, **{"5m": 0.03, "30m": 0.01, "6h": 0.01}))
    assert "over 6h" in plain_words(status(sli=0.99995, **{"6h": 0.01}))
    assert plain_words(status(sli=0.9995, **{"1h": 0.0008})) == "burning slower than it refills: the budget lasts"
    assert plain_words(status(sli=0.99888, **{"1h": 0.0})) == "the budget is spent: 12 % over"
    assert plain_words(status(sli=0.9988, **{"1h": 0.0})) == "the budget is spent: 20 % over"
    assert plain_words(status(sli=None)) == "no data: the service served no requests in the period"
    assert plain_words(status(sli=math.nan)) == "no data: the service served no requests in the period"
    assert plain_words(status(sli=0.9995)) == "no recent requests: the burn rate is unknown"


def test_no_data_status_has_no_figures() -> None:
    s = status(sli=None)
    assert (s.has_data, s.error_ratio, s.budget_consumed, s.budget_remaining, s.exhausted) == (
        False,
        None,
        None,
        None,
        False,
    )
    assert s.time_to_exhaustion() is None
    assert status(sli=0.99995, **{"1h": 0.01}).time_to_exhaustion() == pytest.approx(76 * HOUR)
