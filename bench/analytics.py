"""Tenant analytics on 10,000,000 api_usage rows in chdb: every catalog query, the Tenants screen, peak RSS.

    python bench/analytics.py [--rows 10000000] [--runs 5] [--launches 5]
    python bench/analytics.py --rows 1000000 --launches 3          # a quick run

1. Builds a chdb store in a temp dir with queries/clickhouse/schema.sql and fills it inside
   ClickHouse (bench/analytics_store.py): insert time, rows and size on disk of each table.
2. Times every catalog query (zeta_tui.querying.sql_catalog) through zeta's
   ``AnalyticsSource.named`` and, as the baseline, the same SQL with the same parameters on the
   bare chdb session: median of ``--runs`` after one warm-up, the two interleaved. Rows
   returned and rows read; a query is flagged when it returns more than 1,000 rows or reads
   the raw ``api_usage`` table.
3. Launches ``zeta --screen tenants`` on that store in a 120x40 pty (bench/ptyrun.py) and times
   launch -> the first frame showing the table's rows, with a bare Textual app's first frame in
   the same run; also key ``7`` -> rows from the Health screen, and the app's peak RSS.

Prints a table, writes bench/results/analytics.json, exits 1 when a budget is missed or a query
is flagged. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (str(REPO), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from analytics_store import DATABASE, StoreSpec, build, contents, dir_bytes  # noqa: E402
from ptyrun import PtyProcess, proc_status  # noqa: E402
from startup import child_env, machine  # noqa: E402

#: Seconds on Health before key 7 in the second key-7 figure: past the console's background opening of the store.
WARM_WAIT = 3.0
BUDGETS = {
    "tenants_drawn_s": 1.0,  # launch on Tenants -> its table rows drawn
    "max_rows": 1000,  # a catalog query returning more is flagged
}
#: Parameters the catalog queries need beyond their defaults.
REQUIRED = {"tenant_usage": {"tenant": "tenant_001"}}
RAW_TABLE = re.compile(r"\bapi_usage\b(?!_daily)")

BARE_FIRST_FRAME = re.compile(r"hello")
TENANTS_FIRST_FRAME = re.compile(r"zeta · Tenants")
FRESH = re.compile(r"● fresh")
HEALTH_FIRST_FRAME = re.compile(r"zeta · Service health")
# A row of the tenants table: the tenant id, then on the same line a plan and a p95 in ms.
TENANT_ROW = re.compile(r"tenant_\d{3}\b[^\n]*?\b(?:starter|pro|enterprise)\b[^\n]*?\b\d+ ms\b")


# --- catalog queries ----------------------------------------------------------------------


def bare_params(bound: dict[str, object]) -> dict[str, object]:
    """Bound values as chdb takes them (strings in ClickHouse's escaped text form)."""
    from zeta_tui.querying.logquery.clickhouse import escape_parameters

    return escape_parameters(dict(bound))


async def time_queries(store: Path, until: date, runs: int, log=print) -> list[dict[str, object]]:
    """Each catalog query through AnalyticsSource and on the bare session: timings and sizes."""
    import orjson

    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.chdb_store import embedded_session
    from zeta_tui.config.models import ClickHouseConfig
    from zeta_tui.querying.sql_catalog import bind, load_catalog

    sess = embedded_session(store)
    source = AnalyticsSource(ClickHouseConfig(path=str(store), database=DATABASE))
    results = []
    try:
        for name, query in sorted(load_catalog().items()):
            raw = REQUIRED.get(name, {})
            bound = bare_params(bind(query, raw, today=until))

            # Defaults bind this iteration's query: the closures are called before the loop moves on.
            async def zeta(name: str = name, raw: dict = raw) -> tuple[float, object]:
                t = time.perf_counter()
                rs = await source.named(name, raw, today=until)
                return time.perf_counter() - t, rs

            def bare(query: Any = query, bound: dict = bound) -> tuple[float, bytes]:
                t = time.perf_counter()
                out = sess.query(query.sql, "JSONCompact", params=bound).bytes()
                return time.perf_counter() - t, out

            await zeta()  # warm-up: the thread pool's first thread, the engine's caches
            bare()
            zeta_s, bare_s = [], []
            for i in range(runs):  # interleaved, each first in turn, so drift in the machine's load hits both alike
                if i % 2:
                    t, out = bare()
                    bare_s.append(t)
                t, rs = await zeta()
                zeta_s.append(t)
                if not i % 2:
                    t, out = bare()
                    bare_s.append(t)
            engine = orjson.loads(out)["statistics"]
            row = {
                "query": name,
                "params": {k: str(v) for k, v in bind(query, raw, today=until).items()},
                "zeta_s": zeta_s,
                "bare_s": bare_s,
                "zeta_median_s": statistics.median(zeta_s),
                "bare_median_s": statistics.median(bare_s),
                "rows": len(rs.rows),
                "truncated": rs.truncated,
                # What the engine read, from the statistics of its JSON answer (chdb 4.4's
                # result.rows_read() counts the rows of the *result*, not the rows read).
                "rows_read": engine["rows_read"],
                "bytes_read": engine["bytes_read"],
                "result_set_rows_read": rs.rows_read,
                "engine_elapsed_s": rs.elapsed_s,
                "reads_raw_table": bool(RAW_TABLE.search(query.sql)),
            }
            row["overhead_s"] = row["zeta_median_s"] - row["bare_median_s"]
            results.append(row)
            log(
                f"  {name:<24} zeta {1000 * row['zeta_median_s']:7.1f} ms  bare {1000 * row['bare_median_s']:7.1f} ms  "
                f"{row['rows']:>5} rows  {row['rows_read']:>9,} read"
            )
        # The Tenants screen's own fetch: its two queries at once, as TenantsScreen.fetch asks them.
        from zeta_tui.screens.tenants import TABLE_LIMIT

        async def screen_fetch() -> float:
            t = time.perf_counter()
            await asyncio.gather(
                source.named("top_tenants", {"days": 7, "until": until, "limit": TABLE_LIMIT}, today=until),
                source.named("requests_over_time", {"days": 7, "until": until}, today=until),
            )
            return time.perf_counter() - t

        await screen_fetch()
        fetches = [await screen_fetch() for _ in range(runs)]
        results.append(
            {
                "query": "Tenants screen fetch (top_tenants + requests_over_time, together)",
                "zeta_s": fetches,
                "zeta_median_s": statistics.median(fetches),
                "screen_fetch": True,
            }
        )
    finally:
        await source.close()
    return results


def flags(row: dict[str, object], derived_rows: int) -> list[str]:
    """Why a catalog query breaks "no query pulls raw rows to the client when an aggregate will do".

    ``derived_rows``: the rows of every table but api_usage. A query reads each of them at most
    twice (top_tenants reads the rollup for the window and for the month); one that reads more
    has read raw rows, whatever its SQL looks like (a view, a subquery on a renamed table).
    """
    out = []
    if row["rows"] > BUDGETS["max_rows"]:
        out.append(f"returns {row['rows']:,} rows (> {BUDGETS['max_rows']:,})")
    if row["reads_raw_table"]:
        out.append("reads raw api_usage (the zeta_api_usage_daily rollup would do)")
    elif row["rows_read"] > 2 * derived_rows:
        out.append(f"reads {row['rows_read']:,} rows, more than twice every table but api_usage holds")
    return out


# --- the Tenants screen -------------------------------------------------------------------


def cold_stages(store: Path, until: date) -> dict[str, float]:
    """What the Tenants screen's first fetch costs in a fresh process, stage by stage (no Textual).

    Run in a child (``--stages-child``): this process has chdb loaded already.
    """
    from zeta_tui.screens.tenants import TABLE_LIMIT

    out: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out[name] = now - t
        t = now

    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.chdb_store import embedded_session
    from zeta_tui.config.models import ClickHouseConfig

    lap("import zeta's analytics modules")
    import chdb  # noqa: F401

    lap("import chdb")
    embedded_session(store)
    lap("open the store (chdb session)")
    source = AnalyticsSource(ClickHouseConfig(path=str(store), database=DATABASE))

    async def fetch() -> None:
        await asyncio.gather(
            source.named("top_tenants", {"days": 7, "until": until, "limit": TABLE_LIMIT}, today=until),
            source.named("requests_over_time", {"days": 7, "until": until}, today=until),
        )

    asyncio.run(fetch())
    lap("the screen's two queries, first time")
    asyncio.run(fetch())
    lap("the same, second time")
    return out


def cold_stage_runs(store: Path, until: date, runs: int, env: dict[str, str]) -> list[dict[str, float]]:
    import subprocess

    argv = [sys.executable, str(Path(__file__).resolve()), "--stages-child", str(store), "--until", until.isoformat()]
    return [
        json.loads(subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]


def write_config(path: Path, store: Path) -> Path:
    path.write_text(
        'default_context = "bench"\n\n'
        "[contexts.bench]\n\n"
        "[contexts.bench.clickhouse]\n"
        f'path = "{store}"\n'
        f'database = "{DATABASE}"\n',
        encoding="utf-8",
    )
    return path


class ScreenBench:
    def __init__(self, args: argparse.Namespace, config: Path, env: dict[str, str]) -> None:
        self.args = args
        self.env = env
        self.zeta_argv = [sys.executable, "-m", "zeta_tui.cli", "--config", str(config)]

    def spawn(self, argv: list[str]) -> PtyProcess:
        return PtyProcess(argv, env=self.env, cwd=str(REPO), columns=self.args.columns, lines=self.args.lines)

    def quit(self, p: PtyProcess, key: str) -> None:
        p.send(key)
        try:
            p.wait_exit(self.args.timeout)
        except TimeoutError:
            p.close()

    def peak_rss(self, p: PtyProcess) -> dict[str, float]:
        time.sleep(self.args.settle)  # the chart and the rest of the screen are drawn too
        return proc_status(p.pid)

    def bare(self) -> dict[str, object]:
        with self.spawn([sys.executable, str(BENCH / "bare_app.py")]) as p:
            first = p.wait_for(BARE_FIRST_FRAME, timeout=self.args.timeout)
            out = {"first_frame_s": first - p.started, "rss_mb": self.peak_rss(p)}
            self.quit(p, "\x11")  # Ctrl+Q
        return out

    def tenants(self, *, cold: bool) -> dict[str, object]:
        """Launched on Tenants: first frame, its rows, and its fresh answer, from launch.

        ``cold``: the answer cache is emptied first, so the rows are the fresh answer; else the
        rows drawn first are the previous launch's answer (stale, said on screen) until the new one.
        """
        if cold:
            shutil.rmtree(Path(self.env["XDG_CACHE_HOME"]) / "zeta" / "answers", ignore_errors=True)
        with self.spawn([*self.zeta_argv, "--screen", "tenants"]) as p:
            first = p.wait_for(TENANTS_FIRST_FRAME, timeout=self.args.timeout)
            rows = p.wait_for(TENANT_ROW, timeout=self.args.timeout)
            fresh = p.wait_for(FRESH, timeout=self.args.timeout)
            out = {
                "first_frame_s": first - p.started,
                "rows_drawn_s": rows - p.started,
                "fresh_s": fresh - p.started,
                "rss_mb": self.peak_rss(p),
                "screen": p.tail_text(6000),
            }
            self.quit(p, "q")
        return out

    def key_7(self, wait: float) -> dict[str, object]:
        """Launched on Health (no Prometheus in the context), then key 7 ``wait`` seconds after it is drawn.

        The console opens the embedded store in the background 1.5 s after start-up
        (app.WARM_ANALYTICS_AFTER): a key pressed after that finds chdb loaded.
        """
        with self.spawn(self.zeta_argv) as p:
            p.wait_for(HEALTH_FIRST_FRAME, timeout=self.args.timeout)
            time.sleep(wait)
            mark = p.offset
            pressed = p.send("7")
            rows = p.wait_for(TENANT_ROW, since=mark, timeout=self.args.timeout)
            out = {"after_key_s": rows - pressed, "rss_mb": self.peak_rss(p)}
            self.quit(p, "q")
        return out


def screen_runs(args: argparse.Namespace, store: Path, workdir: Path, log=print) -> dict[str, list[dict]]:
    bench = ScreenBench(args, write_config(workdir / "config.toml", store), child_env(workdir / "home"))
    log("  warm-up launches (discarded) ...")
    bench.bare()
    bench.tenants(cold=True)
    runs: dict[str, list[dict]] = {"bare": [], "tenants": [], "tenants_cached": [], "key_7": [], "key_7_later": []}
    for i in range(args.launches):  # interleaved, so drift in the machine's load hits all alike
        runs["bare"].append(bench.bare())
        runs["tenants"].append(bench.tenants(cold=True))
        runs["tenants_cached"].append(bench.tenants(cold=False))
        runs["key_7"].append(bench.key_7(args.settle))
        runs["key_7_later"].append(bench.key_7(WARM_WAIT))
        log(
            f"  launch {i + 1}/{args.launches}: bare first frame {runs['bare'][-1]['first_frame_s']:.3f} s, "
            f"Tenants rows {runs['tenants'][-1]['rows_drawn_s']:.3f} s from launch, "
            f"{runs['key_7'][-1]['after_key_s']:.3f} s after key 7"
        )
    return runs


# --- the report ---------------------------------------------------------------------------


def med(rows: list[dict], key: str, sub: str | None = None) -> float:
    return statistics.median(r[key][sub] if sub else r[key] for r in rows)


def spread(rows: list[dict], key: str, sub: str | None = None) -> str:
    values = [r[key][sub] if sub else r[key] for r in rows]
    return f"{min(values):.3f}–{max(values):.3f}"


def store_rows(build_s: dict[str, float], tables: list[dict], size: int) -> list[tuple]:
    rows = [(name, s, "", "", None) for name, s in build_s.items()]
    for t in tables:
        rows.append(
            (
                f"{t['table']}: rows / MB on disk",
                float(t["rows"]),
                f"{t['bytes'] / 1e6:.1f} MB, {t['parts']} parts",
                "",
                None,
            )
        )
    rows.append(("store directory (MB)", size / 1e6, "", "", None))
    return rows


def screen_rows(runs: dict[str, list[dict]]) -> list[tuple]:
    bare, tenants, key7, later, cached = (
        runs["bare"],
        runs["tenants"],
        runs["key_7"],
        runs["key_7_later"],
        runs["tenants_cached"],
    )
    drawn = med(tenants, "rows_drawn_s")
    budget = BUDGETS["tenants_drawn_s"]
    return [
        ("first frame, bare Textual app (s)", med(bare, "first_frame_s"), spread(bare, "first_frame_s"), "", None),
        (
            "first frame, zeta --screen tenants (s)",
            med(tenants, "first_frame_s"),
            spread(tenants, "first_frame_s"),
            "",
            None,
        ),
        (
            "Tenants rows drawn, from launch (s)",
            drawn,
            spread(tenants, "rows_drawn_s"),
            f"<= {budget:g} s",
            drawn <= budget,
        ),
        ("  minus the bare app's first frame (s)", drawn - med(bare, "first_frame_s"), "", "", None),
        (
            "launched again: last answer drawn (stale, from the cache) (s)",
            med(cached, "rows_drawn_s"),
            spread(cached, "rows_drawn_s"),
            f"<= {budget:g} s",
            med(cached, "rows_drawn_s") <= budget,
        ),
        ("launched again: fresh answer drawn (s)", med(cached, "fresh_s"), spread(cached, "fresh_s"), "", None),
        (
            "Tenants rows drawn, key 7 1 s after Health is drawn (s)",
            med(key7, "after_key_s"),
            spread(key7, "after_key_s"),
            "",
            None,
        ),
        (
            f"Tenants rows drawn, key 7 {WARM_WAIT:g} s after Health is drawn (s)",
            med(later, "after_key_s"),
            spread(later, "after_key_s"),
            f"<= {budget:g} s",
            med(later, "after_key_s") <= budget,
        ),
        (
            "peak RSS, zeta on Tenants (MB)",
            med(tenants, "rss_mb", "VmHWM"),
            spread(tenants, "rss_mb", "VmHWM"),
            "",
            None,
        ),
        ("peak RSS, zeta after key 7 (MB)", med(key7, "rss_mb", "VmHWM"), spread(key7, "rss_mb", "VmHWM"), "", None),
        ("peak RSS, bare Textual app (MB)", med(bare, "rss_mb", "VmHWM"), spread(bare, "rss_mb", "VmHWM"), "", None),
    ]


def stage_rows(stages: list[dict[str, float]]) -> list[tuple]:
    if not stages:
        return []
    first = [sum(r.values()) - r["the same, second time"] for r in stages]
    rows = [
        (
            "Tenants' first fetch, fresh process, no Textual (s)",
            statistics.median(first),
            f"{min(first):.3f}–{max(first):.3f}",
            "",
            None,
        )
    ]
    for name in stages[0]:
        values = [r[name] for r in stages]
        rows.append((f"  {name} (s)", statistics.median(values), f"{min(values):.3f}–{max(values):.3f}", "", None))
    return rows


def print_figures(rows: list[tuple], title: str) -> None:
    print(title)
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>12}  {'min–max / detail':<26} {'budget':<10} ok")
    for name, value, detail, budget, ok in rows:
        verdict = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {value:>12,.3f}  {detail:<26} {budget:<10} {verdict}")


def print_queries(results: list[dict], derived_rows: int) -> bool:
    """The per-query table; True when no query is flagged."""
    print(f"{'catalog query':<24} {'zeta ms':>8} {'bare ms':>8} {'overhead':>9} {'rows':>6} {'rows read':>10}  flags")
    clean = True
    for r in results:
        if r.get("screen_fetch"):
            continue
        why = flags(r, derived_rows)
        r["flags"] = why
        clean = clean and not why
        print(
            f"{r['query']:<24} {1000 * r['zeta_median_s']:>8.1f} {1000 * r['bare_median_s']:>8.1f} "
            f"{1000 * r['overhead_s']:>+8.1f} {r['rows']:>6,} {r['rows_read']:>10,}  {'; '.join(why) or '-'}"
        )
    differ = [r["query"] for r in results if not r.get("screen_fetch") and r["result_set_rows_read"] != r["rows_read"]]
    if differ:
        print(f"note: ResultSet.rows_read differs from the engine's statistics for {', '.join(differ)}")
    fetch = next((r for r in results if r.get("screen_fetch")), None)
    if fetch:
        print(
            f"{'Tenants screen fetch':<24} {1000 * fetch['zeta_median_s']:>8.1f}  "
            "(top_tenants limit 5000 + requests_over_time, 7 days, together)"
        )
    return clean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="api_usage rows (default 10,000,000)")
    parser.add_argument("--days", type=int, default=35, help="days the rows span, ending today (UTC)")
    parser.add_argument("--tenants", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each query after one warm-up (default 5)")
    parser.add_argument(
        "--launches", type=int, default=5, help="launches of each app for the screen figures (default 5; 0 skips them)"
    )
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds on a drawn screen before RSS is read / a key is typed"
    )
    parser.add_argument("--no-optimize", action="store_true", help="leave the rollup's parts unmerged after the insert")
    parser.add_argument("--columns", type=int, default=120)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "analytics.json")
    parser.add_argument(
        "--stages-child", type=Path, help=argparse.SUPPRESS
    )  # internal: cold_stages on this store, JSON out
    parser.add_argument("--until", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stages_child:
        print(json.dumps(cold_stages(args.stages_child, args.until)))
        return 0

    from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session

    started = time.perf_counter()
    load = {"start": os.getloadavg()[0]}  # other work on the machine moves every figure; say how much there was
    spec = StoreSpec(args.rows, args.days, args.tenants)
    workdir = Path(tempfile.mkdtemp(prefix="zeta-bench-analytics-"))
    store = workdir / "store"
    runs: dict[str, list[dict]] = {}
    stages: list[dict[str, float]] = []
    try:
        print(
            f"building the store: {args.rows:,} api_usage rows, {args.days} days to {spec.last_day}, "
            f"{args.tenants} tenants ...",
            flush=True,
        )
        sess = embedded_session(store, create=True)
        build_s = build(sess, spec, optimize=not args.no_optimize)
        tables = contents(sess)
        # Queries start on a freshly opened store, as in the app's process (and the merges the
        # insert started are not left running under the first timings).
        close_embedded_session(store)
        derived_rows = sum(int(t["rows"]) for t in tables if t["table"] != "api_usage")
        print(f"catalog queries, {args.runs} runs each after a warm-up ...", flush=True)
        results = asyncio.run(time_queries(store, spec.last_day, args.runs))
        close_embedded_session(store)  # the app's process opens the store next: one process at a time
        size = dir_bytes(store)
        load["before launches"] = os.getloadavg()[0]
        if args.launches > 0:
            print(
                f"Tenants screen's first fetch in a fresh process, stage by stage, {args.launches} times ...",
                flush=True,
            )
            stages = cold_stage_runs(store, spec.last_day, args.launches, child_env(workdir / "home"))
            print(f"Tenants screen, {args.launches} launches of each app ...", flush=True)
            runs = screen_runs(args, store, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    load["end"] = os.getloadavg()[0]
    info = machine()
    info.pop("prometheus", None)
    import chdb

    info["chdb"] = chdb.__version__
    print()
    title = (
        f"zeta bench/analytics — {args.rows:,} rows, {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"Textual {info['textual']}, chdb {info['chdb']}, load average {' / '.join(f'{v:.1f}' for v in load.values())} "
        f"({' / '.join(load)})"
    )
    figures = store_rows(build_s, tables, size)
    screen = screen_rows(runs) if runs else []
    screen += stage_rows(stages)
    print_figures(figures + screen, title)
    print()
    clean = print_queries(results, derived_rows)
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    for launch in runs.get("tenants", [])[1:]:
        launch.pop("screen", None)  # keep one picture of the screen
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "load_average_1m": load,
        "store": {
            "rows": args.rows,
            "days": args.days,
            "tenants": args.tenants,
            "until": str(spec.last_day),
            "build_s": build_s,
            "tables": tables,
            "dir_bytes": size,
            "optimized": not args.no_optimize,
        },
        "terminal": {"columns": args.columns, "lines": args.lines, "TERM": "xterm-256color"},
        "budgets": BUDGETS,
        "figures": [
            {"figure": n, "value": v, "detail": d, "budget": b, "ok": ok} for n, v, d, b, ok in figures + screen
        ],
        "queries": results,
        "screen_runs": runs,
        "cold_stages": stages,
    }
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    ok = clean and all(ok is not False for *_, ok in screen)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
