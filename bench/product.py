"""Product analytics on 10,000,000 events in chdb: each product query through zeta and on the bare session.

    python bench/product.py [--events 10000000] [--runs 5]
    python bench/product.py --events 100000000 --runs 3      # the 100 M figures

1. Builds a chdb store in a temp dir with `zeta clickhouse init`'s schema and fills ``events``
   inside ClickHouse (bench/product_store.py): insert time, rows and size on disk.
2. Times each product query (funnel, retention, ctr, ab_test, top_items, plus the funnel and
   retention over a longer window) through zeta's ``AnalyticsSource.named`` and, as the
   baseline, the same SQL with the same parameters on the bare chdb session: median of
   ``--runs`` after one warm-up, the two interleaved; rows returned and rows the engine read.
   The tenant is the biggest one (about 15 % of the events), the worst case.
3. Times what the Product screen fetches on opening: backends/product.py's fetch_product for the
   default (most served) tenant over 14 days: the tenant list (product_tenants), then the
   tenant's ctr, funnel and retention, and the A/B test of its two newest versions as soon as
   its ctr is in (as the screen asks).
4. Launches `zeta --screen product` on the store in a 120x40 pty (``--launches``, after a warm-up
   launch) and times launch -> the funnel drawn: the screen's data from opening it, start-up
   (first frame, opening the embedded store) included.

Budgets: each query within 1 s through zeta; the screen's data within 1.5 s (its fetch, and
from launch). Prints a table,
writes bench/results/product.json (or --out), exits 1 when a budget is missed or a query
returns more than 1,000 rows. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (str(REPO), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from analytics import bare_params, write_config  # noqa: E402
from analytics_store import DATABASE, contents, dir_bytes  # noqa: E402
from product_store import StoreSpec, build  # noqa: E402
from ptyrun import PtyProcess  # noqa: E402
from startup import child_env, machine  # noqa: E402

BUDGETS = {"query_s": 1.0, "screen_s": 1.5, "max_rows": 1000}
TENANT = "tenant_001"  # the biggest tenant
#: the funnel's conversions on the Product screen: its data are drawn
PRODUCT_DATA = "% of served"
#: (label, query, parameters beyond the defaults)
CASES = [
    ("funnel", "funnel", {"tenant": TENANT}),
    ("funnel 30 days", "funnel", {"tenant": TENANT, "days": 30}),
    ("retention", "retention", {"tenant": TENANT}),
    ("retention 5 weeks", "retention", {"tenant": TENANT, "weeks": 5}),
    ("ctr (every tenant)", "ctr", {}),
    ("product_tenants", "product_tenants", {}),
    ("ctr 30 days", "ctr", {"tenant": TENANT, "days": 30}),
    ("ab_test v6 / v7", "ab_test", {"tenant": TENANT, "version_a": "v6", "version_b": "v7", "days": 14}),
    ("top_items (every tenant)", "top_items", {}),
    ("top_items 30 days", "top_items", {"tenant": TENANT, "days": 30}),
]


async def time_queries(store: Path, until: date, runs: int, log=print) -> list[dict[str, object]]:
    """Each case through AnalyticsSource and on the bare session, and the screen's four together."""
    import orjson

    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.chdb_store import embedded_session
    from zeta_tui.backends.product import fetch_product
    from zeta_tui.config.models import ClickHouseConfig
    from zeta_tui.errors import ZetaError
    from zeta_tui.querying.sql_catalog import bind, find_query

    sess = embedded_session(store)
    source = AnalyticsSource(ClickHouseConfig(path=str(store), database=DATABASE))
    results: list[dict[str, object]] = []
    try:
        for label, name, raw in CASES:
            query = find_query(name)
            bound = bare_params(bind(query, raw, today=until))

            async def zeta(name: str = name, raw: dict = raw) -> tuple[float, object]:
                t = time.perf_counter()
                rs = await source.named(name, raw, today=until)
                return time.perf_counter() - t, rs

            def bare(sql: str = query.sql, bound: dict = bound) -> tuple[float, bytes]:
                t = time.perf_counter()
                out = sess.query(sql, "JSONCompact", params=bound).bytes()
                return time.perf_counter() - t, out

            try:
                await zeta()
            except ZetaError as exc:  # a timeout at 100 M events is a figure too
                results.append({"query": label, "name": name, "error": exc.message})
                log(f"  {label:<26} failed: {exc.message[:100]}", flush=True)
                continue
            bare()
            zeta_s, bare_s = [], []
            for i in range(runs):  # interleaved, each first in turn
                if i % 2:
                    bare_s.append(bare()[0])
                t, rs = await zeta()
                zeta_s.append(t)
                if not i % 2:
                    t, out = bare()
                    bare_s.append(t)
            stats = orjson.loads(out)["statistics"]
            row = {
                "query": label,
                "name": name,
                "params": {k: str(v) for k, v in bind(query, raw, today=until).items()},
                "zeta_s": zeta_s,
                "bare_s": bare_s,
                "zeta_median_s": statistics.median(zeta_s),
                "bare_median_s": statistics.median(bare_s),
                "rows": len(rs.rows),  # type: ignore[attr-defined]
                "rows_read": stats["rows_read"],
                "bytes_read": stats["bytes_read"],
                "note": rs.note,  # type: ignore[attr-defined]
            }
            results.append(row)
            log(
                f"  {label:<26} zeta {1000 * row['zeta_median_s']:8.1f} ms  bare {1000 * row['bare_median_s']:8.1f} ms"
                f"  {row['rows']:>5} rows  {row['rows_read']:>11,} read",
                flush=True,
            )

        async def screen_fetch() -> float:
            # the screen's own fetch, on opening: the most served tenant (two round trips)
            t = time.perf_counter()
            await fetch_product(source, None, until=until)
            return time.perf_counter() - t

        try:
            await screen_fetch()
        except ZetaError as exc:
            results.append({"query": "Product screen's data", "screen_fetch": True, "error": exc.message})
            return results
        fetches = [await screen_fetch() for _ in range(runs)]
        results.append(
            {
                "query": "Product screen's data (fetch_product: ctr, then funnel + retention + ab_test)",
                "zeta_s": fetches,
                "zeta_median_s": statistics.median(fetches),
                "screen_fetch": True,
            }
        )
        log(f"  {'screen data (fetch)':<26} zeta {1000 * statistics.median(fetches):8.1f} ms", flush=True)
    finally:
        await source.close()
    return results


def screen_launches(store: Path, workdir: Path, launches: int, timeout: float = 30.0) -> list[float]:
    """Seconds from launching `zeta --screen product` on the store (a 120x40 pty) to its funnel
    drawn, ``launches`` times after one warm-up launch: the screen's data from opening it."""
    config = write_config(workdir / "config.toml", store)
    env = child_env(workdir / "home")
    argv = [sys.executable, "-m", "zeta_tui.cli", "--config", str(config), "--screen", "product"]
    times = []
    for i in range(launches + 1):
        p = PtyProcess(argv, env=env, cwd=str(REPO), columns=120, lines=40)
        try:
            drawn = p.wait_for(PRODUCT_DATA, timeout=timeout) - p.started
            p.send("q")
            p.wait_exit(timeout)
        finally:
            p.close()
        if i:
            times.append(drawn)
    return times


def verdicts(results: list[dict[str, object]]) -> list[str]:
    """What misses a budget, in words."""
    out = []
    for r in results:
        if "error" in r:
            out.append(f"{r['query']} failed: {r['error']}")
            continue
        if r.get("screen_fetch"):
            if float(r["zeta_median_s"]) > BUDGETS["screen_s"]:  # type: ignore[arg-type]
                out.append(f"the screen's data took {r['zeta_median_s']:.2f} s (> {BUDGETS['screen_s']} s)")
            continue
        if float(r["zeta_median_s"]) > BUDGETS["query_s"]:  # type: ignore[arg-type]
            out.append(f"{r['query']} took {r['zeta_median_s']:.2f} s (> {BUDGETS['query_s']} s)")
        if int(r["rows"]) > BUDGETS["max_rows"]:  # type: ignore[call-overload]
            out.append(f"{r['query']} returned {r['rows']} rows (> {BUDGETS['max_rows']})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="about this many events (default 10,000,000)")
    parser.add_argument("--days", type=int, default=35, help="days the events span, ending today (UTC)")
    parser.add_argument("--tenants", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each query after one warm-up (default 5)")
    parser.add_argument(
        "--launches", type=int, default=3, help="launches of `zeta --screen product` on the store, after a warm-up"
    )
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/product[-N].json")
    args = parser.parse_args(argv)

    from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session

    started = time.perf_counter()
    load = {"start": os.getloadavg()[0]}
    spec = StoreSpec(args.events, args.days, args.tenants)
    workdir = Path(tempfile.mkdtemp(prefix="zeta-bench-product-"))
    store = workdir / "store"
    try:
        print(
            f"building the store: about {args.events:,} events ({spec.sessions:,} sessions), {args.days} days to "
            f"{spec.last_day}, {args.tenants} tenants ...",
            flush=True,
        )
        sess = embedded_session(store, create=True)
        build_s = build(sess, spec)
        tables = contents(sess)
        close_embedded_session(store)
        size = dir_bytes(store)
        print(f"product queries, {args.runs} runs each after a warm-up ...", flush=True)
        load["queries"] = os.getloadavg()[0]
        results = asyncio.run(time_queries(store, spec.last_day, args.runs))
        close_embedded_session(store)
        print(f"zeta --screen product, {args.launches} launches after a warm-up ...", flush=True)
        launches = screen_launches(store, workdir, args.launches) if args.launches else []
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load["end"] = os.getloadavg()[0]
    info = machine()
    info.pop("prometheus", None)
    import chdb

    info["chdb"] = chdb.__version__
    events = next((int(t["rows"]) for t in tables if t["table"] == "events"), 0)
    print()
    print(
        f"zeta bench/product — {events:,} events, {info['cpus']} CPUs ({info['cpu']}), chdb {info['chdb']}, "
        f"load average {' / '.join(f'{v:.1f}' for v in load.values())} ({' / '.join(load)})"
    )
    for name, s in build_s.items():
        print(f"  {name}: {s:.1f} s")
    for t in tables:
        print(f"  {t['table']}: {int(t['rows']):,} rows, {int(t['bytes']) / 1e6:.1f} MB, {t['parts']} parts")
    print(f"  store directory: {size / 1e6:.1f} MB")
    print(f"{'query':<28} {'zeta ms':>9} {'bare ms':>9} {'rows':>6} {'rows read':>12}  budget")
    for r in results:
        if "error" in r:
            print(f"{r['query']:<28} failed: {str(r['error'])[:90]}")
            continue
        if r.get("screen_fetch"):
            ok = float(r["zeta_median_s"]) <= BUDGETS["screen_s"]  # type: ignore[arg-type]
            print(
                f"{'screen data (fetch)':<28} {1000 * r['zeta_median_s']:>9.1f} {'':>9} {'':>6} {'':>12}  "  # type: ignore[operator]
                f"<= {BUDGETS['screen_s']} s {'yes' if ok else 'NO'}"
            )
            continue
        ok = float(r["zeta_median_s"]) <= BUDGETS["query_s"]  # type: ignore[arg-type]
        print(
            f"{r['query']:<28} {1000 * r['zeta_median_s']:>9.1f} {1000 * r['bare_median_s']:>9.1f} "  # type: ignore[operator]
            f"{r['rows']:>6} {r['rows_read']:>12,}  <= {BUDGETS['query_s']} s {'yes' if ok else 'NO'}"
        )
    missed = verdicts(results)
    if launches:
        median = statistics.median(launches)
        ok = median <= BUDGETS["screen_s"]
        print(
            f"{'screen data, from launch':<28} {1000 * median:>9.1f} {'':>9} {'':>6} {'':>12}  "
            f"<= {BUDGETS['screen_s']} s {'yes' if ok else 'NO'}  ({', '.join(f'{t:.2f}' for t in launches)} s)"
        )
        if not ok:
            missed.append(f"the Product screen's data {median:.2f} s from launch (budget {BUDGETS['screen_s']} s)")
    for line in missed:
        print(f"missed: {line}")
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")
    out = args.out or BENCH / "results" / (
        "product.json" if args.events == 10_000_000 else f"product-{args.events}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "load_average_1m": load,
        "screen_from_launch_s": launches,
        "store": {
            "events": events,
            "days": args.days,
            "tenants": args.tenants,
            "until": str(spec.last_day),
            "build_s": build_s,
            "tables": tables,
            "dir_bytes": size,
        },
        "budgets": BUDGETS,
        "queries": results,
        "missed": missed,
    }
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written: {out}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
