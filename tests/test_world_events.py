"""The world's product events (demo/events.py) against the rest of the world, and the demo's event store.

Expected figures come from the world's raw samples (the backfill's OpenMetrics text, via
tests/support/world.backfilled_at), from ml_recommendation_quality's values, or from counting the
events here; never from the generator's own rates.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest

from tests.support.world import SEED, T0, backfilled_at
from zeta_tui.demo.events import (
    ADDED_TO_CART,
    CLICKED,
    EVENT_NAMES,
    MAX_LAG_S,
    PURCHASED,
    SERVED,
    SESSION_STARTED,
    WorldEvents,
)
from zeta_tui.demo.incidents import MODEL_ROLLOUT
from zeta_tui.demo.requests import STEP_SECONDS
from zeta_tui.demo.world import TeamZetaWorld

WORLD = TeamZetaWorld(SEED)
END = int(T0) // STEP_SECONDS * STEP_SECONDS  # 17:20 on 2026-03-11, inside model rollout 108 (16:00-22:00)
ROLLOUT = WORLD.schedule.kind(MODEL_ROLLOUT)
ROLLOUT_START = ROLLOUT.start_of(ROLLOUT.active_index(T0))  # type: ignore[arg-type]
_SERVED = re.compile(r'^recommendations_served_total\{.*tenant_id="([^"]+)"')


def _ns(t: float) -> int:
    return int(t) * 10**9


def served_samples(at: int) -> dict[str, float]:
    """recommendations_served_total per tenant as the backfill writes it at ``at``."""
    return {m.group(1): v for sel, v in backfilled_at(WORLD, at).items() if (m := _SERVED.match(sel))}


def test_served_events_are_the_counters_increments_one_in_n():
    a, b = END - 3600, END + 900  # across 17:00 and the rollout's version
    events = list(WorldEvents(WORLD, 1000).generate(a, b))
    assert all(_ns(a) <= e.timestamp_ns < _ns(b) for e in events)
    assert [e.timestamp_ns for e in events] == sorted(e.timestamp_ns for e in events)
    served = Counter(e.tenant_id for e in events if e.event == SERVED)
    before, after = served_samples(a), served_samples(b)
    assert len(after) == 40 and set(served) <= set(after)
    for tenant, c1 in after.items():
        c0 = before[tenant]
        assert served[tenant] == int(c1) // 1000 - int(c0) // 1000, tenant
        assert abs(served[tenant] * 1000 - (c1 - c0)) < 1000
    assert sum(served.values()) > 1000


def test_each_served_event_has_its_session_and_a_funnel_in_order():
    events = list(WorldEvents(WORLD, 1000).generate(END - 7200, END))
    sessions = defaultdict(list)
    for e in events:
        sessions[e.session_id].append(e)
    # Sessions whose start and every later step fall inside the window.
    complete = [
        s for s in sessions.values() if s[0].event == SESSION_STARTED and s[0].timestamp_ns < _ns(END - MAX_LAG_S - 60)
    ]
    assert len(complete) > 1000
    funnel = [SESSION_STARTED, SERVED, CLICKED, ADDED_TO_CART, PURCHASED]
    for s in complete:
        names = [e.event for e in s]
        assert names == funnel[: len(names)], names  # in time order, each step once
        assert len({(e.tenant_id, e.user_id, e.model_version) for e in s}) == 1
        assert len({e.item_id for e in s[1:]}) == 1
    assert {e.event for e in events} == set(EVENT_NAMES)
    assert all(re.fullmatch(r"u_[0-9a-f]{12}", e.user_id) for e in events)  # pseudonymous, never an e-mail
    purchases = [e for e in events if e.event == PURCHASED]
    assert purchases and all(float(dict(e.properties)["revenue_usd"]) > 0 for e in purchases)


def _ndcg(tenant: str, version: str, t: float) -> float:
    return WORLD.value(
        WORLD.one("ml_recommendation_quality", metric="ndcg_10", tenant_id=tenant, model_version=version), t
    )


def test_the_rollout_lowers_ctr_for_exactly_the_tenants_whose_ndcg_it_drops():
    """CTR of each group in the rollout's second hour against the same hour a day before (the stable model)."""
    during_t, before_t = ROLLOUT_START + 3600, ROLLOUT_START + 3600 - 86400
    tenants = [t.tenant_id for t in WORLD.topology.tenants]
    # The tenants whose NDCG@10 drops, from the quality gauge alone: ten minutes before the rollout's end and after.
    end = ROLLOUT_START + ROLLOUT.duration_s
    assert not WORLD.active_incidents(end - 600) and not WORLD.active_incidents(end + 600)
    hit = {t for t in tenants if _ndcg(t, "ranker-v42", end - 600) < 0.9 * _ndcg(t, "ranker-v41", end + 600)}
    assert 0 < len(hit) < len(tenants)
    during = list(WorldEvents(WORLD, 100).generate(during_t, during_t + 3600))
    before = list(WorldEvents(WORLD, 100).generate(before_t, before_t + 3600))
    assert {e.model_version for e in during if e.event == SERVED} == {"ranker-v42"}
    assert {e.model_version for e in before if e.event == SERVED} == {"ranker-v41"}

    def ctr(events, group) -> float:
        n = Counter(e.event for e in events if e.tenant_id in group)
        return n[CLICKED] / n[SERVED]

    others = set(tenants) - hit
    assert ctr(during, hit) < 0.88 * ctr(before, hit)  # the documented factor is 0.75
    assert ctr(during, others) > 0.97 * ctr(before, others)  # not lowered (the candidate's lift is 1.04)


def test_model_version_is_the_one_whose_quality_series_is_present():
    """The version an event names is the one ml_recommendation_quality reports for the tenant then."""
    events = list(WorldEvents(WORLD, 1000).generate(ROLLOUT_START - 900, ROLLOUT_START + 900))
    served = [e for e in events if e.event == SERVED]
    assert {e.model_version for e in served} == {"ranker-v41", "ranker-v42"}
    for e in served[::10]:
        t = e.timestamp_ns / 1e9
        other = "ranker-v41" if e.model_version == "ranker-v42" else "ranker-v42"
        assert _ndcg(e.tenant_id, e.model_version, t) == _ndcg(e.tenant_id, e.model_version, t)  # present
        assert _ndcg(e.tenant_id, other, t) != _ndcg(e.tenant_id, other, t)  # absent (NaN)


def test_windows_in_any_order_and_any_process_give_the_same_events():
    a, m, b = END - 1800, END - 600, END + 300
    whole = list(WorldEvents(WORLD, 1000).generate(a, b))
    other = WorldEvents(TeamZetaWorld(SEED), 1000)  # another world object, as a child process builds it
    later, earlier = list(other.generate(m, b)), list(other.generate(a, m))  # newest first, as history goes
    assert earlier + later == whole and len(whole) > 500
    assert list(WorldEvents(TeamZetaWorld(SEED + 1), 1000).generate(a, b)) != whole
    # A tenant's events do not depend on the others being generated.
    some = {"tenant_003", "tenant_040"}
    assert list(WorldEvents(WORLD, 1000, tenants=some).generate(a, b)) == [e for e in whole if e.tenant_id in some]


@pytest.fixture(scope="module")
def fortnight():
    """Two weeks of the ten biggest tenants' events at 1 in 20,000 (cohorts do not depend on the
    sampling: a day's new users are a share of its recorded impressions)."""
    start = int(datetime(2026, 2, 23, tzinfo=UTC).timestamp())  # a Monday
    biggest = sorted(WORLD.topology.tenants, key=lambda t: -t.share)[:10]
    events = WorldEvents(WORLD, 20_000, tenants=[t.tenant_id for t in biggest])
    return start, list(events.generate(start, start + 14 * 86400))


def test_users_come_back_in_plausible_weekly_cohorts(fortnight):
    start, events = fortnight
    weeks = defaultdict(set)
    for e in events:
        if e.event == SESSION_STARTED and e.timestamp_ns >= _ns(start):
            weeks[(e.tenant_id, e.user_id)].add((e.timestamp_ns // 10**9 - start) // (7 * 86400))
    first_week = [w for w in weeks.values() if min(w) == 0]
    returned = sum(1 for w in first_week if 1 in w) / len(first_week)
    assert len(first_week) > 1000
    assert 0.15 < returned < 0.6  # a plausible first-week retention, not everyone and not no one
    # Users keep arriving: in the second week most users are new, many come back from the first.
    second = [w for w in weeks.values() if 1 in w]
    new = sum(1 for w in second if min(w) == 1) / len(second)
    assert 0.3 < new < 0.9
    per_user = Counter(len(w) for w in weeks.values())
    assert per_user[1] > per_user[2] > 0


def test_rates_depend_on_the_tenant(fortnight):
    _, events = fortnight
    n = defaultdict(Counter)
    for e in events:
        n[e.tenant_id][e.event] += 1
    big = [t for t, c in n.items() if c[SERVED] > 2000]
    ctrs = sorted(n[t][CLICKED] / n[t][SERVED] for t in big)
    assert len(big) >= 5 and ctrs[-1] > 1.5 * ctrs[0]  # tenants differ well beyond the noise
    assert all(0.01 < c < 0.15 for c in ctrs)
    total = Counter(e.event for e in events)
    assert total[SERVED] == total[SESSION_STARTED] or abs(total[SERVED] - total[SESSION_STARTED]) < 5
    assert total[SERVED] > total[CLICKED] > total[ADDED_TO_CART] > total[PURCHASED] > 0


# --- the demo's store -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    """The store this process has open (another module's), else a new one closed at the end."""
    pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")
    from tests.support.world_store import store_in_use
    from zeta_tui.backends.chdb_store import close_embedded_session

    open_path = store_in_use()
    here = open_path or str(tmp_path_factory.mktemp("events") / "store")
    yield here
    if open_path is None:
        close_embedded_session(here)


def _rows(store, sql: str, **params) -> list[list]:
    import orjson

    out = store._query(sql, "JSONCompactEachRow", **params)
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def _keys(events) -> list[list]:
    return sorted([e.session_id, e.event, e.timestamp_ns // 10**6] for e in events)


STORED_KEYS = (
    "SELECT session_id, event, toUnixTimestamp64Milli(event_time) FROM {database:Identifier}.events "
    "ORDER BY session_id, event, event_time"
)


def test_the_store_holds_each_event_once_and_prunes_whole_months(path):
    from zeta_tui.demo.events_store import WorldEventStore

    month = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())  # the window spans February's last hour
    events = list(WorldEvents(WORLD, 1000).generate(month - 3600, month + 3600))
    store = WorldEventStore(path, WORLD, database="events_store")
    try:
        store.truncate()
        store.insert(events)
        store.mark_covered(month - 3600, month + 3600)
        assert sorted(_rows(store, STORED_KEYS)) == _keys(events)
        assert store.newest_ns() == max(e.timestamp_ns for e in events)
        # The columns are the contract, in its types.
        columns = _rows(
            store, "SELECT name, type FROM system.columns WHERE database = 'events_store' AND table = 'events'"
        )
        assert [tuple(c) for c in columns] == [  # issue 17's text
            ("event_time", "DateTime64(3)"),
            ("tenant_id", "String"),
            ("user_id", "String"),
            ("session_id", "String"),
            ("event", "LowCardinality(String)"),
            ("item_id", "String"),
            ("model_version", "LowCardinality(String)"),
            ("properties", "Map(String, String)"),
        ]
        served = dict(
            _rows(
                store,
                "SELECT tenant_id, toUInt32(count()) FROM {database:Identifier}.events "
                "WHERE event = 'recommendation_served' GROUP BY tenant_id",
            )
        )
        assert served == dict(Counter(e.tenant_id for e in events if e.event == SERVED))
        assert store.prune(month + 3600, keep_days=0) == 1  # February's partition, whole
        assert sorted(_rows(store, STORED_KEYS)) == _keys(e for e in events if e.timestamp_ns >= _ns(month))
        assert store.covered() == [(month - 3600, month + 3600)]
    finally:
        store.close()


@pytest.mark.slow  # the demo's history child process
def test_a_resumed_history_writes_nothing_twice(path):
    """A demo stopped with its history half-filled (one window in, half of the next without its marker)
    and its live thread a minute on: the next start fills the rest, each event once."""
    import orjson

    from zeta_tui.demo.events_store import LiveEventWriter

    midnight = int(datetime(2026, 3, 11, tzinfo=UTC).timestamp())
    clock = [midnight + 3600 + 4.2]
    first = LiveEventWriter(WORLD, path, history_days=0, database="events_resume", clock=lambda: clock[0])
    first.open()
    first.events.truncate()
    plan = first.begin(clock[0])
    first.tick()
    gen, a = WorldEvents(WORLD, 1000), plan.live_from

    def lines(lo: int, hi: int) -> bytes:
        return b"".join(orjson.dumps(e.row()) + b"\n" for e in gen.generate(lo, hi))

    older = lines(a - 3600, a - 1800)
    first._consume(lines(a - 1800, a) + f"#covered {float(a - 1800)!r} {float(a)!r}\n".encode() + older[:9000])
    clock[0] += 50.7
    first.tick()
    first.halt()
    clock[0] += 250.0
    again = LiveEventWriter(WORLD, path, history_days=0, database="events_resume", clock=lambda: clock[0])
    again.store, again.history = first.store, first.history
    try:
        live_from = again.begin(clock[0]).live_from
        again.tick()
        again.fill()
        assert again.error is None
        expected = [
            e
            for e in WorldEvents(WORLD, 1000).generate(midnight, live_from + STEP_SECONDS)
            if e.timestamp_ns < int(clock[0]) * 10**9
        ]
        assert len(expected) > 1000
        assert sorted(_rows(again.events, STORED_KEYS)) == _keys(expected)
    finally:
        again.stop()
