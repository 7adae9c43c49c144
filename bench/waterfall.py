"""Large traces in the waterfall: first frame after the response, keystroke repaint, peak RSS.

    python bench/waterfall.py [--runs 3] [--keys 30] [--sizes 1000,10000,50000]

zeta runs as `bench/waterfall_app.py` (the real ZetaApp; on the Traces screen it is handed the
raw Jaeger v1 JSON of one generated trace, parses it and pushes TraceViewScreen) in a 120x40
pty, for traces of 1,000 / 10,000 / 50,000 spans shaped deep (a chain) and wide (one root,
N-1 children), and bushy (~4 children a span) at 50,000. The baseline, in the same run, is a
bare Textual app (`waterfall_app.py --bare`). Prints a table, writes
bench/results/waterfall.json, exits 1 when a 50,000-span figure is over budget. See
bench/README.md.
"""

from __future__ import annotations

import argparse
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

from ptyrun import PtyProcess, proc_status, visible_text  # noqa: E402
from startup import child_env, machine  # noqa: E402
from waterfall_app import BARE_MARKER, ROOT_OPERATION, ROOT_SERVICE, jaeger_trace_bytes  # noqa: E402

BUDGETS = {  # for the 50,000-span traces, every shape
    "first_frame_s": 1.0,
    "repaint_median_s": 0.050,
}
BUDGET_SPANS = 50_000
# The root's row: fold marker, service, operation (the title line has no "▾").
ROOT_ROW = re.compile(re.escape(f"▾ {ROOT_SERVICE} {ROOT_OPERATION}"))
QUIET_S = 0.050  # a keystroke's output is complete when no byte came for this long, or for as
QUIET_MAX_S = 0.5  # long as its first byte took (a fold draws two frames, a render apart), at most this


def read_stamps(path: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            what, t = line.split()
            out.setdefault(what, float(t))
    return out


def wait_quiet(p: PtyProcess, quiet: float, timeout: float = 10.0) -> float:
    """Wait until nothing was written for ``quiet`` s; the arrival time of the last chunk."""
    deadline = time.perf_counter() + timeout
    with p._cond:
        while True:
            last = p._chunks[-1].t if p._chunks else p.started
            now = time.perf_counter()
            if now - last >= quiet:
                return last
            if now > deadline:
                raise TimeoutError(f"output did not settle for {quiet:g} s within {timeout:g} s")
            p._cond.wait(last + quiet - now)


def keystroke(p: PtyProcess, key: str, timeout: float = 10.0) -> dict[str, float | str]:
    """Type ``key`` into a quiet program: (first chunk, last chunk before a silence) - send."""
    with p._cond:
        index = len(p._chunks)
        since = p._chunks[-1].end if p._chunks else 0
    sent = p.send(key)
    deadline = sent + timeout
    with p._cond:
        while len(p._chunks) == index:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(
                    f"no output within {timeout:g} s of key {key!r}; the screen showed:\n{p.tail_text()}"
                )
            p._cond.wait(remaining)
        first = p._chunks[index].t
    last = wait_quiet(p, min(QUIET_MAX_S, max(QUIET_S, first - sent)), timeout)
    with p._cond:
        end = p._chunks[-1].end
        text = visible_text(bytes(p._raw[since:end]))
    return {"first_s": first - sent, "done_s": last - sent, "bytes": end - since, "text": text}


def summary(values: list[float]) -> dict[str, float]:
    return (
        {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}
        if values
        else {}
    )


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.env = child_env(workdir / "home")
        self.inputs: dict[tuple[int, str], Path] = {}
        self.launch = 0

    def spawn(self, *extra: str) -> tuple[PtyProcess, Path]:
        self.launch += 1
        stats = self.workdir / f"stats-{self.launch}.txt"
        argv = [
            sys.executable,
            str(BENCH / "waterfall_app.py"),
            "--stats",
            str(stats),
            "--delay",
            str(self.args.delay),
            *extra,
        ]
        return PtyProcess(argv, env=self.env, cwd=str(REPO), columns=self.args.columns, lines=self.args.lines), stats

    def trace_file(self, spans: int, shape: str) -> Path:
        key = (spans, shape)
        if key not in self.inputs:
            path = self.workdir / f"trace-{spans}-{shape}.json"
            path.write_bytes(jaeger_trace_bytes(spans, shape))
            self.inputs[key] = path
        return self.inputs[key]

    def quit(self, p: PtyProcess, key: str = "q") -> None:
        p.send(key)
        try:
            p.wait_exit(self.args.timeout)
        except TimeoutError:
            p.close()

    def keys(self, p: PtyProcess, key: str, count: int) -> list[dict]:
        out = []
        for _ in range(count):
            out.append(keystroke(p, key))
            time.sleep(self.args.gap)
        return out

    def bare(self, keys: bool) -> dict[str, object]:
        p, stats = self.spawn("--bare")
        with p:
            shown = p.wait_for(re.escape(BARE_MARKER), timeout=self.args.timeout)
            ready = read_stamps(stats)["ready"]
            out: dict[str, object] = {"first_frame_s": shown - ready}
            if keys:
                wait_quiet(p, 0.3)
                out["j"] = [{k: v for k, v in r.items() if k != "text"} for r in self.keys(p, "j", self.args.keys)]
                out["rss_mb"] = proc_status(p.pid)
            self.quit(p)
        return out

    def zeta(self, spans: int, shape: str, keys: bool) -> dict[str, object]:
        p, stats = self.spawn("--input", str(self.trace_file(spans, shape)), "--spans", str(spans), "--shape", shape)
        with p:
            shown = p.wait_for(ROOT_ROW, timeout=self.args.timeout)
            stamps = read_stamps(stats)
            ready = stamps["ready"]
            out: dict[str, object] = {
                "spans": spans,
                "shape": shape,
                "first_frame_s": shown - ready,
                "parse_s": stamps.get("parsed", float("nan")) - ready,
                "pushed_s": stamps.get("pushed", float("nan")) - ready,
            }
            if keys:
                wait_quiet(p, 0.3)
                t0 = time.perf_counter()
                time.sleep(1.0)
                out["idle_bytes_per_s"] = p.bytes_between(t0, time.perf_counter()) / (time.perf_counter() - t0)
                # Space on the root (the cursor starts there): collapse, expand, ... spans-1 rows each time.
                # An even count, so that the root is expanded again for the j keys.
                folds = self.keys(p, " ", self.args.keys + self.args.keys % 2)
                # Textual redraws only the changed part of a line: look for the fold marks.
                if (
                    f"(+{spans - 1})" not in folds[0]["text"]
                    or "▸" not in folds[0]["text"]
                    or "▾" not in folds[-1]["text"] + folds[-2]["text"]
                ):
                    raise RuntimeError(
                        f"space did not collapse and expand the root; the screen showed:\n{folds[0]['text'][-2000:]}"
                    )
                out["space"] = [{k: v for k, v in r.items() if k != "text"} for r in folds]
                out["j"] = [{k: v for k, v in r.items() if k != "text"} for r in self.keys(p, "j", self.args.keys)]
                out["rss_mb"] = proc_status(p.pid)
            self.quit(p)
        return out


def in_process(raw: bytes) -> dict[str, float]:
    """What the trace view does before its first frame, timed stage by stage in this process."""
    import gc

    from zeta_tui.backends.traces.jaeger_json import parse_jaeger
    from zeta_tui.models.critical_path import critical_path, on_path
    from zeta_tui.models.trace_tree import build_tree
    from zeta_tui.models.waterfall import visible_rows

    gc.collect()
    out: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out[name] = now - t
        t = now

    trace = parse_jaeger(raw)[0]
    lap("parse_jaeger")
    tree = build_tree(trace)
    lap("build_tree")
    path = critical_path(tree)
    lap("critical_path")
    on_path(path)
    lap("on_path")
    trace.summary()
    lap("trace.summary")
    visible_rows(tree, set())
    lap("visible_rows (expanded)")
    _ = tree.start_ns, tree.end_ns
    lap("tree.start_ns + end_ns (each render_line reads both)")
    return out


def fmt_ms(s: dict) -> str:
    return f"{1000 * s['median']:.1f}" if s else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000,50000", help="span counts (deep and wide each; bushy at the largest)"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="launches per 50,000-span trace and of the bare app, for the first frame (default 3)",
    )
    parser.add_argument("--keys", type=int, default=20, help="keystrokes of each kind per launch (default 20)")
    parser.add_argument(
        "--gap", type=float, default=0.02, help="seconds between a keystroke's quiet output and the next key"
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=1.0,
        help="seconds after the Traces screen opened until the response is handed over",
    )
    parser.add_argument("--columns", type=int, default=120)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--no-in-process", action="store_true", help="skip the in-process stage timings")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "waterfall.json")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    largest = max(sizes)
    configs = [(n, shape) for n in sizes for shape in ("deep", "wide")] + [(largest, "bushy")]

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="zeta-bench-waterfall-"))
    report: dict[str, object] = {"configs": configs}
    try:
        bench = Bench(args, workdir)
        print("generating traces ...", flush=True)
        for n, shape in configs:
            bench.trace_file(n, shape)
        print("warm-up launches (discarded) ...", flush=True)
        bench.bare(keys=False)
        bench.zeta(sizes[0], "bushy" if (sizes[0], "bushy") in bench.inputs else "deep", keys=False)
        print("bare Textual app ...", flush=True)
        bare = [bench.bare(keys=True)] + [bench.bare(keys=False) for _ in range(args.runs - 1)]
        report["bare"] = bare
        results = []
        for n, shape in configs:
            runs = args.runs if n == largest else 1
            print(f"{n:,} spans, {shape} ({runs} launch{'es' if runs > 1 else ''}) ...", flush=True)
            full = bench.zeta(n, shape, keys=True)
            extra = [bench.zeta(n, shape, keys=False) for _ in range(runs - 1)]
            full["first_frames_s"] = [full["first_frame_s"]] + [x["first_frame_s"] for x in extra]
            full["parses_s"] = [full["parse_s"]] + [x["parse_s"] for x in extra]
            results.append(full)
            print(
                f"  first frame {statistics.median(full['first_frames_s']):.3f} s, "
                f"j {fmt_ms(summary([k['done_s'] for k in full['j']]))} ms, "
                f"space {fmt_ms(summary([k['done_s'] for k in full['space']]))} ms, "
                f"VmHWM {full['rss_mb']['VmHWM']:.0f} MB",
                flush=True,
            )
        report["zeta"] = results
        if not args.no_in_process:
            print("in-process stages, largest traces ...", flush=True)
            report["in_process"] = {
                shape: in_process(bench.trace_file(largest, shape).read_bytes()) for n, shape in configs if n == largest
            }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    # --- the table -------------------------------------------------------------------------
    info = machine()
    print()
    print(
        f"zeta bench/waterfall — {args.columns}x{args.lines} pty, {info['cpus']} CPUs ({info['cpu']}), "
        f"Python {info['python']}, Textual {info['textual']}"
    )
    head = (
        f"{'trace':<16} {'first frame s':>14} {'(parse s)':>10} {'j ms':>7} {'space ms':>9} "
        f"{'collapse/expand ms':>19} {'VmHWM MB':>9}"
    )
    print(head)
    bare_ff = summary([b["first_frame_s"] for b in bare])
    bare_j = summary([k["done_s"] for k in bare[0]["j"]])
    print(
        f"{'bare Textual app':<16} {bare_ff['median']:>14.3f} {'':>10} {fmt_ms(bare_j):>7} {'':>9} {'':>19} "
        f"{bare[0]['rss_mb']['VmHWM']:>9.1f}"
    )
    rows = []
    for r in results:
        ff = summary(r["first_frames_s"])
        j = summary([k["done_s"] for k in r["j"]])
        space = summary([k["done_s"] for k in r["space"]])
        collapse = summary([k["done_s"] for k in r["space"][0::2]])
        expand = summary([k["done_s"] for k in r["space"][1::2]])
        name = f"{r['spans']:,} {r['shape']}"
        r["summary"] = {"first_frame_s": ff, "j_s": j, "space_s": space, "collapse_s": collapse, "expand_s": expand}
        print(
            f"{name:<16} {ff['median']:>14.3f} {statistics.median(r['parses_s']):>10.3f} {fmt_ms(j):>7} "
            f"{fmt_ms(space):>9} {fmt_ms(collapse) + ' / ' + fmt_ms(expand):>19} {r['rss_mb']['VmHWM']:>9.1f}"
        )
        if r["spans"] == BUDGET_SPANS:
            rows.append(
                (
                    f"{name}: first frame after the response (s)",
                    ff["median"],
                    f"{ff['min']:.3f}–{ff['max']:.3f}, {ff['n']} runs",
                    f"<= {BUDGETS['first_frame_s']:g} s",
                    ff["median"] <= BUDGETS["first_frame_s"],
                )
            )
            for key, s in (("j", j), ("space", space)):
                rows.append(
                    (
                        f"{name}: repaint after {key}, median (ms)",
                        1000 * s["median"],
                        f"{1000 * s['min']:.1f}–{1000 * s['max']:.1f}, {s['n']} keys",
                        f"<= {1000 * BUDGETS['repaint_median_s']:g} ms",
                        s["median"] <= BUDGETS["repaint_median_s"],
                    )
                )
    print(
        f"(bare app: first frame {bare_ff['min']:.3f}–{bare_ff['max']:.3f} s over {bare_ff['n']} runs; "
        f"j repaint {1000 * bare_j['min']:.1f}–{1000 * bare_j['max']:.1f} ms)"
    )
    if rows:
        print()
        width = max(len(r[0]) for r in rows)
        print(
            f"{'budget (' + format(BUDGET_SPANS, ',') + ' spans)':<{width}}  {'value':>9}  "
            f"{'min–max':<24} {'budget':<10} ok"
        )
        for name, value, detail, budget, ok in rows:
            print(f"{name:<{width}}  {value:>9.3f}  {detail:<24} {budget:<10} {'yes' if ok else 'NO'}")
    if "in_process" in report:
        print("\nin-process stage timings (s), no terminal, this process:")
        stages = list(next(iter(report["in_process"].values())))
        shapes = list(report["in_process"])
        width = max(len(s) for s in stages)
        print(f"{'stage':<{width}}  " + "  ".join(f"{f'{largest:,} ' + s:>14}" for s in shapes))
        for stage in stages:
            print(f"{stage:<{width}}  " + "  ".join(f"{report['in_process'][s][stage]:>14.3f}" for s in shapes))
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report.update(
        when=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        machine=info,
        terminal={"columns": args.columns, "lines": args.lines, "TERM": "xterm-256color"},
        budgets=BUDGETS,
        method={
            "first_frame": (
                "perf_counter 'ready' stamp in the app (bytes in hand) "
                "-> arrival of the pty chunk that made the root row visible"
            ),
            "repaint": (
                f"key written -> arrival of the last chunk before a silence of max({QUIET_S * 1000:g} ms, "
                f"time to the first byte), at most {QUIET_MAX_S * 1000:g} ms"
            ),
            "rss": "VmHWM of the app's process after the keystrokes",
        },
        budget_rows=[{"figure": n, "value": v, "detail": d, "budget": b, "ok": ok} for n, v, d, b, ok in rows],
    )
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
