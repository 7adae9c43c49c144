"""Episodes and incidents from raw alert samples (models/incidents.py), on hand-made histories
whose answers are worked out in the comments: a restart of Prometheus in the middle of an
alert, history without ALERTS_FOR_STATE, an alert still open, criticals merged by service and
the summary's means and verdicts."""

from __future__ import annotations

import pytest

from zeta_tui.models.alerts import Silence
from zeta_tui.models.incidents import (
    AROUND,
    AlertEpisode,
    AlertSamples,
    Incident,
    alert_samples,
    alert_service,
    episodes,
    incidents_from,
    summarise,
)
from zeta_tui.models.timerange import format_age

LABELS = {"alertname": "ServiceDown", "severity": "critical", "job": "checkout"}


def grid(start: float, end: float, step: float = 15) -> tuple[float, ...]:
    return tuple(start + i * step for i in range(int((end - start) // step) + 1))


def test_a_restart_of_prometheus_does_not_split_an_alert() -> None:
    # Pending 100..130, firing 145..160, Prometheus down, firing again 400..460 with the same
    # activeAt (restored from ALERTS_FOR_STATE): one alert, began at 95, fired at 145.
    pending, firing = grid(100, 130), grid(145, 160) + grid(400, 460)
    alert = AlertSamples(LABELS, pending, firing, tuple((t, 95.0) for t in pending + firing))
    [ep] = episodes(alert, end=10_000, default_interval=60)
    assert (ep.began, ep.fired, ep.last_seen, ep.resolved) == (95.0, 145.0, 460.0, 475.0)


def test_without_alerts_for_state_a_pause_of_more_than_three_evaluations_splits() -> None:
    alert = AlertSamples(LABELS, grid(100, 130), grid(145, 200) + grid(500, 515))
    first, second = episodes(alert, end=10_000, default_interval=60)
    assert (first.began, first.fired, first.resolved) == (100.0, 145.0, 205.0)  # last sample 190
    assert (second.began, second.fired, second.resolved) == (500.0, 500.0, 530.0)


def test_a_new_activeat_is_a_new_alert_and_the_first_sample_gives_the_milliseconds() -> None:
    first = grid(1000.753, 1030.753)
    second = grid(2000.5, 2015.5)
    alert = AlertSamples(
        LABELS,
        (),
        first + second,
        tuple((t, 1000.0) for t in first) + tuple((t, 2000.0) for t in second),
    )
    a, b = episodes(alert, end=10_000, default_interval=60)
    # activeAt 1000 is the evaluation at 1000.753; 2000 is the one at 2000.5.
    assert a.began == 1000.753 and b.began == 2000.5


def test_an_alert_whose_first_sample_is_not_its_activeat_keeps_activeat() -> None:
    # The window began while it was already firing: its first sample here is later than activeAt.
    firing = grid(5000, 5060)
    [ep] = episodes(AlertSamples(LABELS, (), firing, tuple((t, 4200.0) for t in firing)), 10_000, 60)
    assert ep.began == 4200.0


def test_pending_only_never_fired_and_a_recent_last_sample_is_open() -> None:
    [pending] = episodes(AlertSamples(LABELS, grid(100, 130)), end=10_000, default_interval=60)
    assert pending.fired is None
    [open_] = episodes(AlertSamples(LABELS, (), grid(100, 970)), end=1000, default_interval=60)
    assert open_.is_open and open_.resolved is None  # 30 s = two evaluations before the end
    [closed] = episodes(AlertSamples(LABELS, (), grid(100, 955)), end=1000, default_interval=60)
    assert closed.resolved == 970.0
    # One sample only: the interval is the default.
    [single] = episodes(AlertSamples(LABELS, (), (100.0,)), end=10_000, default_interval=60)
    assert single.resolved == 160.0


def test_series_are_gathered_by_alert_and_other_series_ignored() -> None:
    series = [
        ({"__name__": "ALERTS", "alertstate": "pending", **LABELS}, [(100.0, 1.0)]),
        ({"__name__": "ALERTS", "alertstate": "firing", **LABELS}, [(115.0, 1.0)]),
        ({"__name__": "ALERTS_FOR_STATE", **LABELS}, [(100.0, 100.0), (115.0, 100.0)]),
        ({"__name__": "ALERTS", "alertstate": "inactive", **LABELS}, [(130.0, 1.0)]),
        ({"__name__": "up", "job": "checkout"}, [(100.0, 0.0)]),
    ]
    [alert] = alert_samples(series)
    assert alert.labels == LABELS
    assert (alert.pending, alert.firing, alert.active_at) == ((100.0,), (115.0,), ((100.0, 100.0), (115.0, 100.0)))


def test_the_service_is_the_configured_label_else_service_job_container() -> None:
    labels = {"app": "cart", "job": "kubernetes-pods", "container": "cart-server"}
    assert alert_service(labels, "app") == "cart"
    assert alert_service(labels) == "kubernetes-pods"
    assert alert_service({"container": "cart-server"}, "app") == "cart-server"
    assert alert_service({"instance": "10.0.0.1:9100"}) == ""


def ep(name: str, began: float, fired: float | None, resolved: float | None, **labels: str) -> AlertEpisode:
    return AlertEpisode(
        {"alertname": name, "severity": "critical", **labels}, began, fired, (resolved or 0) - 15, resolved, 15
    )


def test_criticals_of_a_service_that_overlap_are_one_incident() -> None:
    a = ep("ServiceDown", 0, 60, 100, job="checkout")
    b = ep("HighErrorRate", 90, 210, 400, job="checkout")  # overlaps a
    c = ep("HighLatency", 390, 990, 1200, job="checkout")  # overlaps b: chained
    d = ep("ServiceDown", 1300, 1360, 1400, job="checkout")  # after: its own
    e = ep("ServiceDown", 50, 110, 300, job="search")  # another service
    lonely = [ep("DiskFull", 10, 20, 500, instance="n1"), ep("DiskFull", 30, 40, 500, instance="n2")]
    found = incidents_from(
        [a, b, c, d, e, *lonely], [], since=0, now=5000, service_of=lambda labels: alert_service(labels)
    )
    by = {(i.service, i.began): i for i in found}
    merged = by[("checkout", 0)]
    assert [x.episode.name for x in merged.criticals] == ["ServiceDown", "HighErrorRate", "HighLatency"]
    assert (merged.detected, merged.resolved, merged.mttd, merged.mttr) == (60, 1200, 60, 1140)
    assert by[("checkout", 1300)].mttr == 40 and by[("search", 50)].mttd == 60
    # Criticals that name no service stay apart: nothing says they are one incident.
    assert by[("", 10)].criticals[0].episode.labels["instance"] == "n1" and ("", 30) in by
    assert len(found) == 5 and [i.began for i in found] == sorted((i.began for i in found), reverse=True)


def test_an_incident_counts_where_it_was_detected() -> None:
    before = ep("ServiceDown", 50, 90, 200, job="checkout")
    inside = ep("ServiceDown", 900, 960, 1000, job="checkout")
    found = incidents_from([before, inside], [], since=100, now=2000, service_of=alert_service)
    assert [i.began for i in found] == [900]


def test_related_alerts_are_the_service_s_other_alerts_around_it() -> None:
    critical = ep("HighErrorRate", 1000, 1120, 2000, job="checkout")
    warning = AlertEpisode(
        {"alertname": "HighLatency", "severity": "warning", "job": "checkout"}, 900, 960, 0, 1500, 15
    )
    long_before = AlertEpisode(
        {"alertname": "Old", "severity": "warning", "job": "checkout"}, 0, 10, 0, 1000 - AROUND - 1, 15
    )
    just_after = AlertEpisode(
        {"alertname": "After", "severity": "info", "job": "checkout"},
        2000 + AROUND,
        2000 + AROUND,
        0,
        3000 + AROUND,
        15,
    )
    other = AlertEpisode({"alertname": "X", "severity": "warning", "job": "search"}, 1000, 1000, 0, 1100, 15)
    never = AlertEpisode({"alertname": "Pend", "severity": "warning", "job": "checkout"}, 1000, None, 0, 1100, 15)
    [incident] = incidents_from(
        [critical], [warning, long_before, just_after, other, never], since=0, now=10_000, service_of=alert_service
    )
    assert [r.name for r in incident.related] == ["HighLatency", "After"]


def test_missed_criticals_no_pager_route_or_silenced_when_fired() -> None:
    paged = ep("ServiceDown", 0, 60, 100, job="checkout")
    chat = ep("PaymentsErrors", 0, 60, 100, job="payments")
    hushed = ep("SearchDown", 0, 60, 100, job="search")
    silence = Silence("s1", (), starts_at=30, ends_at=90)  # no matcher: matches everything

    def route(labels):
        return (("chat",), ()) if labels["job"] == "payments" else (("phone",), ("phone",))

    found = incidents_from(
        [paged, chat, hushed], [], since=0, now=1000, service_of=alert_service, route=route, silences=[silence]
    )
    why = {i.service: i.criticals[0].missed_because for i in found}
    # The silence was in force at 60 for all three: every one was silenced when it fired.
    assert why == {"checkout": "silenced", "payments": "no pager route, silenced", "search": "silenced"}
    later = Silence("s2", (), starts_at=61, ends_at=90)  # made after they paged: not a miss
    found = incidents_from([paged], [], since=0, now=1000, service_of=alert_service, route=route, silences=[later])
    assert found[0].criticals[0].missed is False and found[0].criticals[0].silenced_by == ()


def _incident(mttd: float, mttr: float | None, missed: bool | None = False) -> Incident:
    from zeta_tui.models.incidents import CriticalAlert

    began = 1000.0
    episode = ep("A", began, began + mttd, None if mttr is None else began + mttd + mttr, job="x")
    if missed is None:
        critical = CriticalAlert(episode)
    else:
        critical = CriticalAlert(episode, ("r",), () if missed else ("r",), ())
    return Incident("x", (critical,))


def test_the_summary_means_and_verdicts() -> None:
    incidents = [_incident(60, 600), _incident(240, 1800), _incident(600, None)]
    summary = summarise(incidents, 0, 10_000, format_age)
    # MTTD over all three: (60 + 240 + 600) / 3 = 300, not under 5 minutes; MTTR over the two
    # resolved: (600 + 1800) / 2 = 1200.
    assert summary.mttd == 300 and summary.mttr == 1200 and summary.open == 1 and summary.missed == 0
    verdicts = {c.name: (c.met, c.measured, c.note) for c in summary.criteria}
    assert verdicts["MTTD"] == (False, "5m", "mean of 3")
    assert verdicts["MTTR"] == (True, "20m", "mean of 2 resolved, 1 still open")
    assert verdicts["missed criticals"] == (True, "0", "")
    assert summary.broken and not summary.unknown


def test_nothing_fired_meets_every_criterion_and_unknown_misses_are_never_met() -> None:
    empty = summarise([], 0, 10, format_age)
    assert not empty.broken and not empty.unknown and empty.mttd is None
    unknown = summarise([_incident(60, 60, missed=None)], 0, 10_000, format_age)
    assert unknown.unknown and not unknown.broken and unknown.missed is None
    partly = summarise([_incident(60, 60, missed=None), _incident(60, 60, missed=True)], 0, 10_000, format_age)
    missed = next(c for c in partly.criteria if c.name == "missed criticals")
    assert (missed.met, missed.measured) == (False, "at least 1") and partly.broken


@pytest.mark.parametrize(("resolved", "expected"), [(2000.0, (400.0, 2600.0)), (None, (400.0, 3000.0))])
def test_an_incident_s_window_for_its_logs_and_traces(resolved, expected) -> None:
    incident = Incident("x", (_incident(60, None if resolved is None else resolved - 1060).criticals[0],))
    assert incident.window(now=3000.0) == expected
