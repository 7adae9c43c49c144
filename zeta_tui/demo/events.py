"""The world's product events (pure, no I/O): what the ``events`` table holds for the demo.

``WorldEvents(world, sample_every=N).generate(start, end)`` gives every recorded event stamped in
the 15 s steps scraped in (start, end] (on the grid: stamped in [start, end)), sorted, the same
for any window, in any order, in any process. events_store.py writes them to the demo's store.

**Served events are the counter's increments.** Recommendation number ``seq`` of a tenant is the
one that moved its ``recommendations_served_total`` (series_catalog.py: REC_ITEMS per successful
POST /api/v1/recommendations, times the tenant's share) to ``seq``; it is stamped inside the 15 s
step whose scrape first counts it, spread evenly with jitter, as requests.py stamps requests.
One in N is recorded, those whose ``seq`` is a multiple of N, so for a tenant and any window
[a, b) on the 15 s grid, exactly::

    recorded recommendation_served events = c(b) // N - c(a) // N

with c the tenant's recommendations_served_total; served events x N is the counter's increase
within N. N = ``DEMO_EVENTS_SAMPLE_EVERY`` = 1000: the world serves 47 million recommendations a
day on average (seed 42; 52 million on a weekday), so about 47,000 are recorded a day, 98,000
events with the sessions and the rest of each funnel, 3.5 million for the demo's 35 days and
today (measured: docs/performance.md).
(The api_usage rows draw their tenants at random by share, so served events and the tenant's
recorded recommendation requests agree on average, not one by one: the counter is the contract.)

**Each recorded impression carries its session and its funnel.** Sampling is by impression, so a
recorded impression stands for the session it came in: its ``session_started`` is 1-60 s before
it, in a session of its own. Then, each with its own probability, drawn from the impression:

- ``recommendation_clicked`` 2 s + Exp(20 s) later (at most 5 min), with probability
  CTR(tenant) x position weight x version factor: the tenant's base CTR is 3-9 %, the position
  weight falls from 2.0 (first of REC_ITEMS) to 0.6 (last) and averages 1;
- ``item_added_to_cart`` 15 s + Exp(2 min) after the click (at most 20 min), with the
  tenant's cart rate, 12-32 % of clicks;
- ``purchase_completed`` 30 s + Exp(5 min) after the cart (at most 40 min), with the tenant's
  purchase rate, 35-65 % of carts, with a quantity and the revenue (the item's price).

**Model versions and the rollout.** ``model_version`` is the version serving the tenant when the
impression was served (its session and funnel carry it too): CANDIDATE_MODEL while a
MODEL_ROLLOUT is active, STABLE_MODEL otherwise, as ml_recommendation_quality's model_version
label says. During rollout n the tenants ``rollout_hits(n, tenant)`` (whose NDCG it multiplies by
ROLLOUT_QUALITY_FACTOR) get their CTR multiplied by the same factor, 0.75; the other tenants
get CANDIDATE_CTR_LIFT, 1.04 (the candidate is a little better online where it does not hurt:
why it keeps being rolled out). So the A/B test between the two versions shows a loss for a
hit tenant and a small gain for the others, and purchases follow the clicks.

**Users return over weeks.** A user_id is pseudonymous (``u_`` and 12 hex digits, per tenant,
never an e-mail). An impression on UTC day d is a new user's with probability NEW_USER_SHARE
(0.3): one of the K(d) users who arrived that day, K(d) = 0.3 x the tenant's recorded impressions
of day d (from the counter at the day's bounds). Otherwise it is a returning user's: an age a
of 1..MAX_RETURN_DAYS days is drawn with weight a^-1.2, and one of the K(d - a) users of day
d - a, so a user is never seen before the day they arrived. Measured on the events (seed 42,
35 days at 1 in 1000), weekly cohorts by first session came back in the next week at 28-36 %,
in the second at 14-15 %, the third 9 %, the fourth 6.5 % (tests/test_world_events.py checks
the first week's on two weeks of events).
"""

from __future__ import annotations

import hashlib
import math
import struct
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from zeta_tui.demo.incidents import CANDIDATE_MODEL, MODEL_ROLLOUT, STABLE_MODEL, rollout_hits
from zeta_tui.demo.ml_catalog import ROLLOUT_QUALITY_FACTOR
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.series_catalog import REC_ITEMS
from zeta_tui.demo.world import TeamZetaWorld

#: The demo records one recommendation in this many (see the module docstring).
DEMO_EVENTS_SAMPLE_EVERY = 1000

SESSION_STARTED = "session_started"
SERVED = "recommendation_served"
CLICKED = "recommendation_clicked"
ADDED_TO_CART = "item_added_to_cart"
PURCHASED = "purchase_completed"
#: The event names, in funnel order after the session.
EVENT_NAMES = (SESSION_STARTED, SERVED, CLICKED, ADDED_TO_CART, PURCHASED)

#: CTR multiplier of the candidate model for the tenants a rollout does not hurt.
CANDIDATE_CTR_LIFT = 1.04
#: Share of a day's impressions that are new users'.
NEW_USER_SHARE = 0.3
#: Returning users come back after 1..MAX_RETURN_DAYS days, with weight age ** -RETURN_EXPONENT.
MAX_RETURN_DAYS = 56
RETURN_EXPONENT = 1.2
#: (least, mean extra, most) seconds of each funnel step after the one before.
CLICK_DELAY_S = (2.0, 20.0, 300.0)
CART_DELAY_S = (15.0, 120.0, 1200.0)
PURCHASE_DELAY_S = (30.0, 300.0, 2400.0)
#: The session starts up to this long before its impression.
MAX_LEAD_S = 60
#: The last event of a funnel comes at most this long after its impression.
MAX_LAG_S = int(CLICK_DELAY_S[2] + CART_DELAY_S[2] + PURCHASE_DELAY_S[2])
PLATFORMS = ("web", "web", "ios", "android")

_DAY = 86400
_STEP_MS = STEP_SECONDS * 1000
_U32 = 2.0**-32
# Position weights 1/sqrt(p), scaled to average 1 over the REC_ITEMS positions.
_RAW_WEIGHTS = [p**-0.5 for p in range(1, REC_ITEMS + 1)]
POSITION_WEIGHTS = tuple(w * REC_ITEMS / sum(_RAW_WEIGHTS) for w in _RAW_WEIGHTS)
_AGE_CUM: list[float] = []
for _a in range(1, MAX_RETURN_DAYS + 1):
    _AGE_CUM.append((_AGE_CUM[-1] if _AGE_CUM else 0.0) + _a**-RETURN_EXPONENT)
_AGE_CUM = [c / _AGE_CUM[-1] for c in _AGE_CUM]


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class TenantTraits(NamedTuple):
    """How a tenant's users respond to recommendations (fixed by the tenant id, whatever the seed)."""

    base_ctr: float  # clicks per impression with the stable model, averaged over positions
    cart_rate: float  # carts per click
    purchase_rate: float  # purchases per cart
    catalog_items: int  # how many items the tenant recommends


def tenant_traits(tenant_id: str) -> TenantTraits:
    """The tenant's rates: CTR 3-9 %, cart 12-32 % of clicks, purchase 35-65 % of carts."""
    return TenantTraits(
        0.03 + 0.06 * _unit("ctr", tenant_id),
        0.12 + 0.20 * _unit("cart", tenant_id),
        0.35 + 0.30 * _unit("purchase", tenant_id),
        500 + int(4500 * _unit("catalog", tenant_id)),
    )


def ctr_factor(version: str, hit: bool) -> float:
    """The CTR multiplier of ``version`` for a tenant the rollout hurts (``hit``) or not."""
    if version != CANDIDATE_MODEL:
        return 1.0
    return ROLLOUT_QUALITY_FACTOR if hit else CANDIDATE_CTR_LIFT


def click_probability(traits: TenantTraits, version: str, hit: bool, position: int) -> float:
    """The chance an impression at ``position`` (1-based) is clicked."""
    return min(0.9, traits.base_ctr * ctr_factor(version, hit) * POSITION_WEIGHTS[position - 1])


def item_price_usd(item: int) -> float:
    """An item's price, fixed by its number: $5 to $155."""
    return round(5 + (item * 7919 % 1000) * 0.15, 2)


class WorldEvent(NamedTuple):
    """One product event, in the ``events`` table's columns (time in ns, whole milliseconds)."""

    timestamp_ns: int
    tenant_id: str
    user_id: str
    session_id: str
    event: str
    item_id: str
    model_version: str
    properties: tuple[tuple[str, str], ...]

    def row(self) -> dict[str, object]:
        """The row for INSERT ... FORMAT JSONEachRow (``event_time`` as unix seconds with milliseconds)."""
        ms = self.timestamp_ns // 1_000_000
        return {
            "event_time": f"{ms // 1000}.{ms % 1000:03d}",
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "event": self.event,
            "item_id": self.item_id,
            "model_version": self.model_version,
            "properties": dict(self.properties),
        }


def _delay_ms(bounds: tuple[float, float, float], u: int) -> int:
    least, mean, most = bounds
    return int(1000 * min(most, least - mean * math.log(1.0 - u * _U32)))


class WorldEvents:
    """Generates the world's recorded product events for any window of whole 15 s steps."""

    def __init__(
        self, world: TeamZetaWorld, sample_every: int = DEMO_EVENTS_SAMPLE_EVERY, *, tenants: Iterable[str] = ()
    ) -> None:
        """``tenants``: generate only theirs (the same events as for all tenants; default all)."""
        if sample_every < 1:
            raise ValueError("sample_every must be >= 1")
        self.world, self.sample_every = world, sample_every
        every = tuple(t.tenant_id for t in world.topology.tenants)
        wanted = set(tenants)
        if wanted - set(every):
            raise ValueError(f"no such tenants in the world: {sorted(wanted - set(every))}")
        self.tenants = tuple(t for t in every if t in wanted) if wanted else every
        self.series = tuple(world.one("recommendations_served_total", tenant_id=t) for t in self.tenants)
        self.traits = tuple(tenant_traits(t) for t in self.tenants)
        self.rollout = world.schedule.kind(MODEL_ROLLOUT)
        self._counters: dict[int, list[int]] = {}
        self._steps: dict[int, list[WorldEvent]] = {}  # events of the impressions served in a step
        self._cohorts: dict[int, list[int]] = {}

    def counters(self, t: int) -> list[int]:
        """Each tenant's recommendations_served_total at ``t`` (cached: steps share their bounds)."""
        found = self._counters.get(t)
        if found is None:
            basis = self.world.basis.at(t)
            found = self._counters[t] = [int(s.value(basis, t)) for s in self.series]
        return found

    def cohort_sizes(self, day: int) -> list[int]:
        """K(day) per tenant: how many users arrive on UTC day number ``day`` (unix day)."""
        found = self._cohorts.get(day)
        if found is None:
            n = self.sample_every
            a, b = self.counters(day * _DAY), self.counters((day + 1) * _DAY)
            found = self._cohorts[day] = [max(1, round(NEW_USER_SHARE * (y // n - x // n))) for x, y in zip(a, b)]
        return found

    def model_at(self, tenant_id: str, t: float) -> tuple[str, bool]:
        """(the version serving ``tenant_id`` at ``t``, whether the rollout in progress hurts it)."""
        n = self.rollout.active_index(t)
        if n is None:
            return STABLE_MODEL, False
        return CANDIDATE_MODEL, rollout_hits(n, tenant_id)

    def generate(self, start: float, end: float) -> Iterator[WorldEvent]:
        """Every recorded event stamped in the steps scraped in (start, end], in time order.

        An event belongs to the step it is stamped in, whichever impression it follows, so
        consecutive windows give every event once (a live writer calls this step by step)."""
        steps = WorldRequests.steps(start, end)
        if not steps:
            return
        lo_ns, hi_ns = steps[0] * 10**9, (steps[-1] + STEP_SECONDS) * 10**9
        first = (steps[0] - MAX_LAG_S) // STEP_SECONDS * STEP_SECONDS
        last = steps[-1] + MAX_LEAD_S
        found = [
            e
            for t0 in range(first, last + 1, STEP_SECONDS)
            for e in self._impressions(t0)
            if lo_ns <= e.timestamp_ns < hi_ns
        ]
        # Keep what the next window on either side needs (the live writer goes forward, the
        # history child backward); drop the rest.
        keep = (first - MAX_LEAD_S - STEP_SECONDS, last + MAX_LAG_S + STEP_SECONDS)
        for cache in (self._steps, self._counters):
            for t in [t for t in cache if not keep[0] <= t <= keep[1]]:
                del cache[t]
        yield from sorted(found)

    def _impressions(self, t0: int) -> list[WorldEvent]:
        """The events of the impressions served in the step [t0, t0 + 15): each with its session and funnel."""
        found = self._steps.get(t0)
        if found is not None:
            return found
        found = []
        n_keep, seed = self.sample_every, self.world.seed
        before, after = self.counters(t0), self.counters(t0 + STEP_SECONDS)
        for k, (tenant, lo, hi) in enumerate(zip(self.tenants, before, after)):
            n = hi - lo
            seq = lo + 1 + (-(lo + 1) % n_keep)  # the first recorded seq in (lo, hi]
            while seq <= hi:
                found.extend(self._funnel(k, tenant, seq, t0 * 1000 + ((seq - lo - 1) * _STEP_MS) // n, n, seed))
                seq += n_keep
        self._steps[t0] = found
        return found

    def _funnel(self, k: int, tenant: str, seq: int, at_ms: int, n: int, seed: int) -> list[WorldEvent]:
        """Impression ``seq`` of tenant number ``k`` (served around ``at_ms``, ``n`` served in its step)
        and what follows it."""
        d = hashlib.blake2b(f"{seed}|event|{tenant}|{seq}".encode(), digest_size=64).digest()
        u = struct.unpack(">16I", d)
        ts = at_ms + (u[0] % 1_000_000 * _STEP_MS) // (1_000_000 * n)  # jitter inside its slot
        traits = self.traits[k]
        day = ts // 1000 // _DAY
        if u[1] * _U32 < NEW_USER_SHARE:
            cohort = day
        else:
            cohort = day - 1 - bisect_right(_AGE_CUM, u[2] * _U32)
        user_n = int(u[3] * _U32 * self.cohort_sizes(cohort)[k])
        user = "u_" + hashlib.blake2b(f"{seed}|user|{tenant}|{cohort}|{user_n}".encode(), digest_size=6).hexdigest()
        session = d[48:56].hex()
        version, hit = self.model_at(tenant, ts / 1000)
        position = 1 + u[4] % REC_ITEMS
        item_n = int(traits.catalog_items * (u[5] * _U32) ** 3)  # a few items get most impressions
        item = f"item_{item_n:05d}"

        def event(at: int, name: str, item_id: str, props: tuple[tuple[str, str], ...]) -> WorldEvent:
            return WorldEvent(at * 1_000_000, tenant, user, session, name, item_id, version, props)

        lead = 1000 + u[6] % 59_000
        out = [
            event(ts - lead, SESSION_STARTED, "", (("platform", PLATFORMS[u[7] % len(PLATFORMS)]),)),
            event(ts, SERVED, item, (("position", str(position)),)),
        ]
        if u[8] * _U32 >= click_probability(traits, version, hit, position):
            return out
        ts += _delay_ms(CLICK_DELAY_S, u[9])
        out.append(event(ts, CLICKED, item, (("position", str(position)),)))
        if u[10] * _U32 >= traits.cart_rate:
            return out
        quantity = str(1 + u[11] % 3 // 2)  # one item, sometimes two
        ts += _delay_ms(CART_DELAY_S, u[12])
        out.append(event(ts, ADDED_TO_CART, item, (("quantity", quantity),)))
        if u[13] * _U32 >= traits.purchase_rate:
            return out
        ts += _delay_ms(PURCHASE_DELAY_S, u[14])
        revenue = f"{item_price_usd(item_n) * int(quantity):.2f}"
        out.append(event(ts, PURCHASED, item, (("quantity", quantity), ("revenue_usd", revenue))))
        return out
