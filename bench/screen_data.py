"""Time from opening a screen on the demo to its data drawn: the ML Engine, Business and Tenant screens.

    python bench/screen_data.py [--runs 5] [--settle 20] [--timeout 30]

One `zeta demo` in a 120x40 pseudo-terminal on empty XDG dirs (as bench/demo_start.py). Once
the Health table shows data, the bench waits until the demo's background fill of its history
is in (state.json; at most ``--history-timeout``: the fill is the first start's, not what an
engineer opening a screen meets) and ``--settle`` seconds more. Then each run opens every screen
from the Health screen by the `:` command line (`:ml`, `:business`, `:tenant tenant_007`) and
times from the Enter key to the screen's data visible: one pattern per half of the screen
(below), the time is the last half's. `1` (Esc for the tenant) goes back to Health between screens.

Baselines in the same run, same console:
- the API screen's data after its key `2` (a screen already within the 1.0 s budget);
- a plain client: one httpx GET of the screen's heaviest Prometheus question (the ML screens' 7-day
  median, the Business chart's range query) against the demo's Prometheus: the floor no console
  beats, since the screen asks it among the others.

Prints a table and writes bench/results/screen_data.json; exits 1 when a median is over budget.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from demo_start import READY_LOG, DemoBench  # noqa: E402
from ptyrun import PtyProcess  # noqa: E402
from startup import API_DATA, HEALTH_DATA, REPO, machine, print_table  # noqa: E402

BUDGET_S = 1.0  # each screen's data within 1.0 s of opening it (issue 16)


class Screen:
    """A screen to open: its `:` command, what is visible once its data are drawn (one pattern per
    half of the screen: the time is the last one's), and the plain
    client's heaviest question (PromQL: a range over the screen's default window with its step, or
    instant when the window is 0)."""

    def __init__(self, name: str, command: str, data: tuple[str, ...], promql: str, window_s: int, step_s: int) -> None:
        self.name, self.command, self.data = name, command, [re.compile(d) for d in data]
        self.promql, self.window_s, self.step_s = promql, window_s, step_s
        self.halves: list[list[float]] = []  # each opening's time to each half


SCREENS = (
    Screen(
        "ML Engine (:ml)",
        "ml",
        (r"cache hits \d+\.\d%",),
        'quantile_over_time(0.5, (max without (model_version) (ml_recommendation_quality{metric="ndcg_10"}))[7d:5m])',
        0,
        0,
    ),
    Screen(
        "Business (:business)",
        "business",
        (r"MRR \$[\d,.]+", r"━━ \S+ \d+\.\d%"),
        "sum by (plan) (rate(api_calls_total[1h]))",
        3600,
        30,
    ),
    Screen(
        "Tenant (:tenant tenant_007)",
        "tenant tenant_007",
        (r"data \S+ old", r"\d\S* requests · "),
        'quantile_over_time(0.5, (max without (model_version) (ml_recommendation_quality{metric="ndcg_10", '
        'tenant_id="tenant_007"}))[7d:5m])',
        0,
        0,
    ),
)


def plain_client(prometheus_url: str, screen: Screen) -> float:
    """Seconds for one httpx GET of the screen's heaviest question (a range query over the window,
    or an instant one when the window is 0), answer read and decoded."""
    import httpx

    end = time.time()
    if screen.window_s:
        path = "query_range"
        params: dict[str, object] = {"query": screen.promql, "start": end - screen.window_s, "end": end}
        params["step"] = screen.step_s
    else:
        path, params = "query", {"query": screen.promql, "time": end}
    with httpx.Client(timeout=30) as client:
        t0 = time.perf_counter()
        response = client.get(f"{prometheus_url}/api/v1/{path}", params=params)
        response.json()
        return time.perf_counter() - t0


def open_screen(p: PtyProcess, screen: Screen, timeout: float) -> float:
    """From Health: `:command` Enter, wait for the data; then back to Health. Seconds from Enter."""
    p.send(":")
    time.sleep(0.3)  # the command line opens
    p.send(screen.command)
    time.sleep(0.2)
    mark = p.offset
    sent = p.send("\r")
    halves = [p.wait_for(data, since=mark, timeout=timeout) - sent for data in screen.data]
    screen.halves.append(halves)
    drawn = sent + max(halves)  # every half drawn
    back = p.offset
    # A mode is left by `1`; the tenant, opened on top of Health, by Esc (never both: Esc then 1
    # arriving in one read is Alt+1 to a terminal app).
    p.send("\x1b" if screen.command.startswith("tenant ") else "1")
    p.wait_for(HEALTH_DATA, since=back, timeout=timeout)
    time.sleep(0.5)
    return drawn - sent


def api_after_key(p: PtyProcess, timeout: float) -> float:
    mark = p.offset
    sent = p.send("2")
    drawn = p.wait_for(API_DATA, since=mark, timeout=timeout)
    back = p.offset
    p.send("1")
    p.wait_for(HEALTH_DATA, since=back, timeout=timeout)
    time.sleep(0.5)
    return drawn - sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="times each screen is opened (default 5); medians reported")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds the demo runs before the first opening")
    parser.add_argument("--timeout", type=float, default=30.0, help="give up waiting for a screen after this long")
    parser.add_argument("--start-timeout", type=float, default=180.0, help="give up waiting for the demo's Health data")
    parser.add_argument(
        "--history-timeout", type=float, default=900.0, help="longest wait for the demo's history fill (default 900 s)"
    )
    parser.add_argument("--columns", type=int, default=120)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "screen_data.json")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="zeta-screen-bench-"))
    demo = DemoBench(argparse.Namespace(timeout=args.history_timeout, grace=3.0), root)
    demo.warm_up()
    home = root / "demo"
    p = PtyProcess(demo.argv, env=demo.env(home), cwd=str(REPO), columns=args.columns, lines=args.lines)
    figures: dict[str, list[float]] = {s.name: [] for s in SCREENS}
    floors: dict[str, list[float]] = {s.name: [] for s in SCREENS}
    api: list[float] = []
    try:
        p.wait_for(HEALTH_DATA, timeout=args.start_timeout)
        ready = READY_LOG.search(p.text())
        if ready is None:
            print("the demo did not log its Prometheus URL", file=sys.stderr)
            return 2
        prometheus_url = ready[1].rstrip("/")
        history_s = demo.wait_history(p, home)
        print(
            f"  history in after {history_s:.0f} s" if history_s else "  history NOT in; measuring anyway", flush=True
        )
        time.sleep(args.settle)
        load_before = os.getloadavg()
        for run in range(args.runs):
            api.append(api_after_key(p, args.timeout))
            for screen in SCREENS:
                floors[screen.name].append(plain_client(prometheus_url, screen))
                figures[screen.name].append(open_screen(p, screen, args.timeout))
            print(
                f"  run {run + 1}/{args.runs}: "
                + ", ".join(f"{name} {values[-1]:.3f} s" for name, values in figures.items())
                + f", API after key {api[-1]:.3f} s",
                flush=True,
            )
        p.send("q")
        p.wait_exit(30)
    except (TimeoutError, RuntimeError) as exc:
        print(f"failed: {exc}\nthe screen showed:\n{p.tail_text()}", file=sys.stderr)
        return 2
    finally:
        p.close()
        demo.children_left(home)

    def spread(values: list[float]) -> str:
        return f"{min(values):.3f}–{max(values):.3f}"

    rows = [("baseline: API screen's data after key 2 (s)", statistics.median(api), spread(api), "", None)]
    over = False
    for screen in SCREENS:
        values, floor = figures[screen.name], floors[screen.name]
        ok = statistics.median(values) <= BUDGET_S
        over |= not ok
        rows.append((f"{screen.name}: data after Enter (s)", statistics.median(values), spread(values), "<= 1.0 s", ok))
        if len(screen.data) > 1:
            for i, pattern in enumerate(screen.data):
                half = [h[i] for h in screen.halves]
                rows.append(
                    (f"  half {i + 1}: {pattern.pattern[:24]}", statistics.median(half), spread(half), "", None)
                )
        rows.append(("  plain client, one range question (s)", statistics.median(floor), spread(floor), "", None))
    load = ", ".join(f"{x:.2f}" for x in load_before)
    print_table(rows, f"zeta screen data on the demo, {args.runs} openings each (load average before: {load})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "load_before": load_before,
                "runs": args.runs,
                "screens": figures,
                "plain_client": floors,
                "api_after_key": api,
            },
            indent=2,
        )
    )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
