"""Log tail: ingest throughput, peak memory, and the cost of following 5,000 records/s.

    python bench/tail.py [--records 1000000] [--follow-seconds 20] [--follow-rate 5000]

zeta runs as `bench/tail_app.py` (the real ZetaApp on the Logs screen, its log source the
local BenchSource of bench/tail_source.py) in a 120x40 pty, and the bench types `f` to follow.
Every record's message starts with `#<seq> `; the source logs when it handed each page over,
and the bench finds in the pty output when a record at least that new was first visible.
Prints a table and writes bench/results/tail.json; exits 1 when a figure is over its budget.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (str(REPO), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from ptyrun import _ESCAPES, _OVERLAP, PtyProcess, proc_status, visible_text  # noqa: E402
from startup import child_env, machine  # noqa: E402

BUDGETS = {
    "ingest_records_per_s": 50_000.0,  # with the display no more than 1 s behind
    "ingest_display_lag_s": 1.0,
    "peak_rss_mb": 300.0,  # after 1,000,000 records, default buffer
    "follow_newest_s": 0.5,  # newest record on screen after it was produced
    "follow_cpu_percent": 50.0,
    "follow_bytes_per_s": 100_000.0,
}
SEQ = re.compile(r"#(\d+) ")


def raw_between(p: PtyProcess, t0: float, t1: float) -> bytes:
    """The output of the chunks read at t0 <= t < t1, joined."""
    with p._cond:
        out, previous_end = bytearray(), 0
        for chunk in p._chunks:
            if t0 <= chunk.t < t1:
                out += p._raw[previous_end : chunk.end]
            previous_end = chunk.end
        return bytes(out)


def output_shape(raw: bytes, seconds: float) -> dict[str, float]:
    """Frames, bytes per frame, share of escape sequences in the bytes, SGR sequences per frame."""
    # Textual moves the cursor to the start of each line it redraws: the line redrawn most
    # often (one of the log view's) is redrawn once a frame.
    rows = collections.Counter(re.findall(rb"\x1b\[(\d+);1H", raw))
    frames = max(rows.values(), default=0) or 1
    text = _ESCAPES.sub(b"", raw)
    return {
        "frames": frames,
        "frames_per_s": frames / seconds,
        "bytes_per_frame": len(raw) / frames,
        "escape_share": 1 - len(text) / len(raw) if raw else 0.0,
        "sgr_sequences_per_frame": len(re.findall(rb"\x1b\[[0-9;]*m", raw)) / frames,
        "cursor_moves_per_frame": len(re.findall(rb"\x1b\[[0-9;]*[Hf]", raw)) / frames,
    }


def read_pages(stats: Path) -> list[tuple[float, int]]:
    pages = []
    if stats.exists():
        for line in stats.read_text().splitlines():
            t, seq = line.split()
            pages.append((float(t), int(seq)))
    return pages


def seen_times(p: PtyProcess, since: int = 0) -> list[tuple[float, int]]:
    """(arrival time, newest seq visible so far) for each chunk after ``since``."""
    with p._cond:
        chunks, raw = list(p._chunks), bytes(p._raw)
    out, newest, start = [], -1, 0
    for chunk in chunks:
        if chunk.end > since:
            window = raw[max(since, start - _OVERLAP) : chunk.end]
            for m in SEQ.finditer(visible_text(window)):
                newest = max(newest, int(m.group(1)))
            out.append((chunk.t, newest))
        start = chunk.end
    return out


def lags(pages: list[tuple[float, int]], seen: list[tuple[float, int]]) -> list[float | None]:
    """Per page: seconds from handing it over until a record at least as new was visible (None: never)."""
    out, i = [], 0
    for t, seq in pages:
        while i < len(seen) and (seen[i][1] < seq or seen[i][0] < t):
            i += 1
        out.append(seen[i][0] - t if i < len(seen) else None)
    return out


def lag_summary(values: list[float | None]) -> dict[str, float]:
    shown = sorted(v for v in values if v is not None)
    if not shown:
        return {
            "pages": len(values),
            "never_shown": len(values),
            "median_s": float("inf"),
            "p95_s": float("inf"),
            "max_s": float("inf"),
        }
    worst = float("inf") if None in values else shown[-1]
    return {
        "pages": len(values),
        "never_shown": values.count(None),
        "median_s": statistics.median(shown),
        "p95_s": shown[min(len(shown) - 1, int(0.95 * len(shown)))],
        "max_s": worst,
    }


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.env = child_env(workdir / "home")

    def spawn(self, argv: list[str]) -> PtyProcess:
        return PtyProcess(argv, env=self.env, cwd=str(REPO), columns=self.args.columns, lines=self.args.lines)

    def zeta(self, stats: Path, *extra: str) -> PtyProcess:
        argv = [
            sys.executable,
            str(BENCH / "tail_app.py"),
            "--stats",
            str(stats),
            "--buffer",
            str(self.args.buffer),
            *extra,
        ]
        return self.spawn(argv)

    def quit(self, p: PtyProcess) -> None:
        p.send("q")
        try:
            p.wait_exit(self.args.timeout)
        except TimeoutError:
            p.close()

    def bare_rss(self) -> dict[str, float]:
        with self.spawn([sys.executable, str(BENCH / "bare_app.py")]) as p:
            p.wait_for("hello", timeout=self.args.timeout)
            time.sleep(1.0)
            rss = proc_status(p.pid)
            p.send("\x11")
            p.wait_exit(self.args.timeout)
            return rss

    def ingest(self, rate: float = 0.0, records: int | None = None) -> dict[str, object]:
        """Records as fast as the screen takes them (or at ``rate``), up to ``records``."""
        records = records or self.args.records
        stats = self.workdir / f"ingest-{rate:g}.txt"
        extra = ["--limit", str(records), "--page", str(self.args.page)]
        if rate:
            extra += ["--rate", str(rate), "--interval", str(self.args.interval)]
        with self.zeta(stats, *extra) as p:
            p.wait_for("SEARCH", timeout=self.args.timeout)
            time.sleep(0.5)
            before = proc_status(p.pid)
            mark = p.offset
            p.send("f")
            last = f"#{records - 1} "
            p.wait_for(re.escape(last), since=mark, timeout=self.args.timeout + (records / rate if rate else 0))
            time.sleep(0.5)
            after = proc_status(p.pid)
            cpu = p.cpu_seconds()
            seen = seen_times(p, mark)
            self.quit(p)
        pages = read_pages(stats)
        (first_t, _), (last_t, last_seq) = pages[0], pages[-1]
        # The first page's records were made before it was logged: count from the second one.
        span = last_t - first_t
        rate_done = (last_seq - pages[0][1]) / span if span > 0 else float("inf")
        return {
            "asked_rate": rate or "as fast as taken",
            "records": last_seq + 1,
            "pages": len(pages),
            "seconds": span,
            "records_per_s": rate_done,
            "lag": lag_summary(lags(pages, seen)),
            "rss_before_follow_mb": before,
            "rss_after_mb": after,
            "cpu_s_total": cpu,
        }

    def follow(self) -> dict[str, object]:
        """A source growing by ``--follow-rate`` records/s: newest on screen, CPU, bytes."""
        a = self.args
        stats = self.workdir / "follow.txt"
        with self.zeta(stats, "--rate", str(a.follow_rate), "--interval", str(a.interval)) as p:
            p.wait_for("SEARCH", timeout=a.timeout)
            mark = p.offset
            p.send("f")
            p.wait_for("FOLLOW", since=mark, timeout=a.timeout)
            time.sleep(a.settle)
            cpu0, t0 = p.cpu_seconds(), time.perf_counter()
            time.sleep(a.follow_seconds)
            cpu1, t1 = p.cpu_seconds(), time.perf_counter()
            time.sleep(1.0)  # the window's last pages get drawn
            written = p.bytes_between(t0, t1)
            shape = output_shape(raw_between(p, t0, t1), t1 - t0)
            seen = seen_times(p, mark)
            rss = proc_status(p.pid)
            self.quit(p)
        pages = [pg for pg in read_pages(stats) if t0 <= pg[0] < t1]
        produced = (pages[-1][1] - pages[0][1]) / (pages[-1][0] - pages[0][0]) if len(pages) > 1 else 0.0
        wall = t1 - t0
        return {
            "rate": a.follow_rate,
            "produced_records_per_s": produced,
            "window_s": wall,
            "bytes": written,
            "bytes_per_s": written / wall,
            "cpu_s": cpu1 - cpu0,
            "cpu_percent": 100 * (cpu1 - cpu0) / wall,
            "newest": lag_summary(lags(pages, seen)),
            "output": shape,
            "rss_mb": rss,
        }


def deque_baseline(records: int, page: int, buffer: int) -> dict[str, float]:
    """The ceiling: the same source's pages appended to a bare deque (no screen)."""
    from tail_source import BenchSource

    async def run() -> float:
        source = BenchSource(page=page, limit=records)
        buf: collections.deque = collections.deque(maxlen=buffer)
        t0 = time.perf_counter()
        async for p in source.tail(None, 0):
            buf.extend(p.records)
            if source.seq >= records:
                break
        return time.perf_counter() - t0

    seconds = asyncio.run(run())
    return {"records": records, "seconds": seconds, "records_per_s": records / seconds}


def summarise(r: dict) -> list[tuple[str, float, str, str, bool | None]]:
    ing, fol, base, bare = r["ingest"], r["follow"], r["deque_baseline"], r["bare_rss"]
    lag = ing["lag"]
    ok_lag = lag["max_s"] <= BUDGETS["ingest_display_lag_s"]
    rate_ok = ing["records_per_s"] >= BUDGETS["ingest_records_per_s"] and ok_lag
    newest = fol["newest"]
    rows = [
        (
            "ingest, source -> LogView, as fast as taken (rec/s)",
            ing["records_per_s"],
            f"{ing['records']:,} in {ing['seconds']:.2f} s",
            f">= {BUDGETS['ingest_records_per_s']:,.0f}",
            rate_ok,
        ),
        (
            "  display behind the source, max (s)",
            lag["max_s"],
            f"p50 {lag['median_s']:.3f} p95 {lag['p95_s']:.3f}",
            f"<= {BUDGETS['ingest_display_lag_s']:g} s",
            ok_lag,
        ),
        (
            "  baseline: same pages into a bare deque (rec/s)",
            base["records_per_s"],
            f"{base['records']:,} in {base['seconds']:.2f} s",
            "",
            None,
        ),
    ]
    if r.get("ingest_at_rate"):
        for x in r["ingest_at_rate"]:
            rows.append(
                (
                    f"  at {x['asked_rate']:,.0f} rec/s: display behind, max (s)",
                    x["lag"]["max_s"],
                    f"got {x['records_per_s']:,.0f} rec/s",
                    "",
                    None,
                )
            )
    hwm = ing["rss_after_mb"]["VmHWM"]
    rows += [
        (
            f"peak RSS after {ing['records']:,} records (MB)",
            hwm,
            f"buffer {r['buffer']:,}",
            f"<= {BUDGETS['peak_rss_mb']:g} MB",
            hwm <= BUDGETS["peak_rss_mb"],
        ),
        ("  zeta on Logs, before following (MB)", ing["rss_before_follow_mb"]["VmHWM"], "VmHWM", "", None),
        ("  bare Textual app (MB)", bare["VmHWM"], "VmHWM", "", None),
        (
            f"follow {fol['rate']:,.0f} rec/s: newest on screen, max (s)",
            newest["max_s"],
            f"p50 {newest['median_s']:.3f} p95 {newest['p95_s']:.3f}",
            f"<= {BUDGETS['follow_newest_s']:g} s",
            newest["max_s"] <= BUDGETS["follow_newest_s"],
        ),
        (
            "  CPU (% of a core)",
            fol["cpu_percent"],
            f"{fol['cpu_s']:.2f} s in {fol['window_s']:.0f} s",
            f"<= {BUDGETS['follow_cpu_percent']:g} %",
            fol["cpu_percent"] <= BUDGETS["follow_cpu_percent"],
        ),
        (
            "  written to the terminal (B/s)",
            fol["bytes_per_s"],
            f"{fol['bytes']:,} B",
            f"<= {BUDGETS['follow_bytes_per_s']:,.0f}",
            fol["bytes_per_s"] <= BUDGETS["follow_bytes_per_s"],
        ),
        (
            "    frames drawn (/s)",
            fol["output"]["frames_per_s"],
            f"{fol['output']['bytes_per_frame']:,.0f} B a frame",
            "",
            None,
        ),
        (
            "    escape sequences, share of the bytes (%)",
            100 * fol["output"]["escape_share"],
            f"{fol['output']['sgr_sequences_per_frame']:.0f} SGR a frame",
            "",
            None,
        ),
        ("  records produced (rec/s)", fol["produced_records_per_s"], f"a page every {r['interval']:g} s", "", None),
    ]
    return rows


def print_table(rows, header: str) -> None:
    print(header)
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>12}  {'detail':<24} {'budget':<12} ok")
    for name, value, detail, budget, ok in rows:
        verdict = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {value:>12,.3f}  {detail:<24} {budget:<12} {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="records through the pipeline (default 1,000,000)"
    )
    parser.add_argument("--page", type=int, default=1000, help="records per page from the source (default 1000)")
    parser.add_argument(
        "--buffer", type=int, default=100_000, help="logs.buffer_records (default 100,000, zeta's default)"
    )
    parser.add_argument("--follow-rate", type=float, default=5000.0)
    parser.add_argument("--follow-seconds", type=float, default=20.0)
    parser.add_argument(
        "--interval", type=float, default=0.05, help="seconds between the source's pages at a fixed rate (default 0.05)"
    )
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--columns", type=int, default=120)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "tail.json")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="zeta-bench-tail-"))
    report: dict[str, object] = {"buffer": args.buffer, "interval": args.interval}
    try:
        bench = Bench(args, workdir)
        print("bare Textual app ...", flush=True)
        bench.bare_rss()  # warm-up
        report["bare_rss"] = bench.bare_rss()
        print(f"ingest of {args.records:,} records as fast as taken ...", flush=True)
        report["ingest"] = bench.ingest()
        ing = report["ingest"]
        print(f"  {ing['records_per_s']:,.0f} rec/s, display behind max {ing['lag']['max_s']:.3f} s", flush=True)
        if ing["lag"]["max_s"] > BUDGETS["ingest_display_lag_s"]:
            # Over 1 s behind at full speed: the highest fixed rate that stays within 1 s.
            report["ingest_at_rate"] = []
            rate = min(ing["records_per_s"] / 2, 400_000)
            while rate >= 10_000:
                x = bench.ingest(rate, records=int(rate * 5))
                report["ingest_at_rate"].append(x)
                print(f"  at {rate:,.0f} rec/s: display behind max {x['lag']['max_s']:.3f} s", flush=True)
                if x["lag"]["max_s"] <= BUDGETS["ingest_display_lag_s"]:
                    break
                rate /= 2
        print("deque baseline ...", flush=True)
        report["deque_baseline"] = deque_baseline(args.records, args.page, args.buffer)
        print(f"follow {args.follow_rate:,.0f} rec/s for {args.follow_seconds:g} s ...", flush=True)
        report["follow"] = bench.follow()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows = summarise(report)
    info = machine()
    print()
    print_table(
        rows,
        (
            f"zeta bench/tail — {args.columns}x{args.lines} pty, {info['cpus']} CPUs ({info['cpu']}), "
            f"Python {info['python']}, Textual {info['textual']}"
        ),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report.update(
        when=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        machine=info,
        terminal={"columns": args.columns, "lines": args.lines, "TERM": "xterm-256color"},
        budgets=BUDGETS,
        summary=[{"figure": n, "value": v, "detail": d, "budget": b, "ok": ok} for n, v, d, b, ok in rows],
    )
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
