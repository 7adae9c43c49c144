"""A chdb store of product events for bench/product.py: zeta's schema, then events made inside ClickHouse.

    python bench/product_store.py DIR [--events 1000000]     # build one and print what it holds

``events`` gets about ``events`` rows (the exact count is printed: sessions are drawn, and each
has a random number of events) over ``days`` whole UTC days ending ``until``, for ``tenants``
tenants, by one ``INSERT ... SELECT ... FROM numbers(sessions)``: every random draw is a
``cityHash64`` of the session number with its own salt, so a store is the same for the same
arguments and no row passes through Python. The materialized view of events.sql fills
``zeta_events_daily`` as the rows go in, as it would on a real server.

What a session looks like, so that the queries work on a realistic shape:

- Tenants: bench/analytics_store.py's sizes (the biggest about 15 % of the traffic); each
  tenant's users are a pool of about one user per 8 sessions, drawn skewed (u^2), so some users
  come back often and many once: cohorts and retention have something to show.
- Time: bench/analytics_store.py's day curve (peak at 14:00 UTC).
- A session is a session_started, then 1 to 4 recommendations served 20 s apart; each is clicked
  with the tenant's CTR (3 % to 15 %, a hash of the tenant), a click goes to the cart with
  probability 0.3 and a cart is bought with 0.4 (purchases within hours, sometimes the next day).
  Items are drawn skewed (u^3) from 5,000, so top_items has a head and a tail.
- Model versions: ``v6`` until two thirds of the window, then half the sessions on ``v7``: v7
  lifts CTR by 10 %, except for every fifth tenant, where it drops it by 15 % (the ML rollout
  whose NDCG drops).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (str(REPO), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from analytics_store import _SIZES, DATABASE, contents  # noqa: E402

#: Events per session on average: 1 session_started + 2.5 served x (1 + CTR (about 0.09) x (1 + 0.3 x 1.4)).
EVENTS_PER_SESSION = 1 + 2.5 * (1 + 0.09 * (1 + 0.3 * 1.4))

EVENTS_SQL = f"""
INSERT INTO events (event_time, tenant_id, user_id, session_id, event, item_id, model_version)
WITH {_SIZES} AS sizes, arrayCumSum(arrayMap(s -> s / arraySum(sizes), sizes)) AS cumulative
SELECT
    fromUnixTimestamp64Milli(toInt64(session_ms + ev.1)) AS event_time,
    tenant_id,
    user_id,
    session_id,
    ev.2 AS event,
    ev.3 AS item_id,
    version AS model_version
FROM
(
    SELECT
        number,
        intDiv(number * {{days:UInt16}}, {{sessions:UInt64}}) AS day,
        cityHash64(number, 'tenant') / 18446744073709551616. AS u_tenant,
        toUInt32(least(arrayFirstIndex(c -> c > u_tenant, cumulative), {{tenants:UInt16}}) - 1) AS tenant,
        concat('tenant_', leftPad(toString(tenant + 1), 3, '0')) AS tenant_id,
        -- a pool of users per tenant (about one per 8 of its sessions), drawn skewed: some come back often
        greatest(1, toUInt64(sizes[tenant + 1] / arraySum(sizes) * {{sessions:UInt64}} / 8)) AS pool,
        concat('u', toString(tenant + 1), '-',
               toString(toUInt64(pool * pow(cityHash64(number, 'user') / 18446744073709551616., 2)))) AS user_id,
        concat('s', toString(number)) AS session_id,
        toUInt32(if(cityHash64(number, 'night') / 18446744073709551616. < 0.25,
                    cityHash64(number, 'hour1') % 86400,
                    (50400 + toInt64(43200 * (cityHash64(number, 'hour1') / 18446744073709551616.
                                              + cityHash64(number, 'hour2') / 18446744073709551616. - 1))
                     + 86400) % 86400)) AS second,
        toInt64(toUnixTimestamp(toDateTime({{start:Date}}, 'UTC')) + day * 86400 + second) * 1000 AS session_ms,
        if(day >= {{days:UInt16}} * 2 / 3 AND cityHash64(number, 'version') % 2 = 0, 'v7', 'v6') AS version,
        (0.03 + 0.12 * cityHash64(tenant, 'ctr') / 18446744073709551616.)
            * if(version = 'v7', if(tenant % 5 = 4, 0.85, 1.1), 1) AS ctr,
        1 + cityHash64(number, 'served') % 4 AS served,
        -- per served i: (i, its item, clicked, carted, bought)
        arrayMap(i -> (
            i,
            concat('item_', toString(toUInt32(5000 * pow(cityHash64(number, i, 'item') / 18446744073709551616., 3)))),
            cityHash64(number, i, 'click') / 18446744073709551616. < ctr,
            cityHash64(number, i, 'click') / 18446744073709551616. < ctr
                AND cityHash64(number, i, 'cart') / 18446744073709551616. < 0.3,
            cityHash64(number, i, 'click') / 18446744073709551616. < ctr
                AND cityHash64(number, i, 'cart') / 18446744073709551616. < 0.3
                AND cityHash64(number, i, 'buy') / 18446744073709551616. < 0.4
        ), range(served)) AS recs,
        arrayConcat(
            [(toInt64(0), 'session_started', '')],
            arrayFlatten(arrayMap(r -> arrayMap(t -> (t.1, t.2, t.3), arrayFilter(t -> t.4, [
                (toInt64(r.1 * 20000 + 500), 'recommendation_served', r.2, true),
                (toInt64(r.1 * 20000 + 3000 + cityHash64(number, r.1, 'dt1') % 120000), 'recommendation_clicked',
                    r.2, r.3),
                (toInt64(r.1 * 20000 + 200000 + cityHash64(number, r.1, 'dt2') % 1800000), 'item_added_to_cart',
                    r.2, r.4),
                (toInt64(r.1 * 20000 + 2000000 + cityHash64(number, r.1, 'dt3') % 100000000), 'purchase_completed',
                    r.2, r.5)
            ])), recs))
        ) AS evs
    FROM numbers({{sessions:UInt64}})
)
ARRAY JOIN evs AS ev
"""


@dataclass(frozen=True)
class StoreSpec:
    """About ``events`` events over ``days`` days ending ``until`` (UTC), ``tenants`` tenants."""

    events: int
    days: int = 35
    tenants: int = 40
    until: date | None = None

    @property
    def sessions(self) -> int:
        return max(1, round(self.events / EVENTS_PER_SESSION))

    @property
    def last_day(self) -> date:
        return self.until or datetime.now(UTC).date()

    @property
    def first_day(self) -> date:
        return self.last_day - timedelta(days=self.days - 1)

    def params(self) -> dict[str, object]:
        return {
            "sessions": self.sessions,
            "days": self.days,
            "tenants": self.tenants,
            "start": self.first_day.isoformat(),
        }


def build(sess, spec: StoreSpec, *, optimize: bool = True, log=print) -> dict[str, float]:
    """Create zeta's schema in ``sess`` (a chdb session on an empty store) and fill events; seconds per step."""
    took: dict[str, float] = {}

    def step(name: str, sql: str, params: dict | None = None) -> None:
        t = time.perf_counter()
        sess.query(sql, params=params or {})
        took[name] = time.perf_counter() - t
        log(f"  {name}: {took[name]:.1f} s", flush=True)

    from zeta_tui.backends.clickhouse_engine import ClickHouseEngine, SqlWriter
    from zeta_tui.backends.usage_rollup import RollupInit
    from zeta_tui.config.models import ClickHouseConfig

    engine = ClickHouseEngine(ClickHouseConfig(path="unused", database=DATABASE), "clickhouse")
    RollupInit(SqlWriter(engine, sess, None), DATABASE).run()  # `zeta clickhouse init` on a fresh database
    step("events insert (+ zeta_events_daily_mv)", EVENTS_SQL, spec.params())
    if optimize:
        # A store that has run a while has merged its older parts (see bench/analytics_store.py).
        step("OPTIMIZE zeta_events_daily FINAL", "OPTIMIZE TABLE zeta_events_daily FINAL")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--tenants", type=int, default=40)
    args = parser.parse_args()
    from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session

    sess = embedded_session(args.dir, create=True)
    build(sess, StoreSpec(args.events, args.days, args.tenants))
    for row in contents(sess):
        print(row)
    close_embedded_session(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
