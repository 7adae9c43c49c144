"""Start-up, time to data, idle cost and quit latency of `zeta`, against a bare Textual app.

    python bench/startup.py [--runs 5] [--idle-seconds 60] [--prometheus-url URL]

Prints a table and writes bench/results/startup.json. Every program runs in its own
pseudo-terminal of 120x40 (TERM=xterm-256color) whose output is drained and time-stamped as
it arrives; see bench/README.md for what each figure means and the budgets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # run from a checkout without an editable install
    sys.path.insert(0, str(REPO))

from ptyrun import PtyProcess  # noqa: E402
from sources import ExternalPrometheus, PrometheusSource, TeamZetaPrometheus  # noqa: E402

BUDGETS = {
    "first_frame_ratio": 1.2,  # zeta first frame / bare Textual first frame
    "all_data_s": 1.0,  # launch -> Health and API data drawn
    "idle_bytes_per_s": 500.0,
    "idle_cpu_percent": 2.0,
    "quit_s": 0.4,
}

ZETA_FIRST_FRAME = re.compile(r"zeta · Service health")
BARE_FIRST_FRAME = re.compile(r"hello")
HEALTH_DATA = re.compile(r"\b(?:UP|DOWN|DEGRADED)\b")  # a service status word in the table
API_DATA = re.compile(r"\b\d+(?:\.\d+)? ms\b")  # a latency in the charts or the slowest table
LEAVE_ALT_SCREEN = re.compile(re.escape(b"\x1b[?1049l"))  # the terminal is given back
CTRL_Q = "\x11"


def child_env(home: Path) -> dict[str, str]:
    """The user's environment, minus what would change what zeta draws or reads."""
    # PYTHONDONTWRITEBYTECODE (set on these machines) would make every launch compile zeta's
    # modules from source; an installed zeta has its .pyc files (pip writes them), so the
    # warm-up launch is allowed to write them here too.
    drop = (
        "NO_COLOR",
        "COLORTERM",
        "FORCE_COLOR",
        "ZETA_CONFIG",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "PYTHONDONTWRITEBYTECODE",
    )
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TEXTUAL")}
    env.update(
        TERM="xterm-256color",
        PYTHONPATH=str(REPO),
        XDG_CONFIG_HOME=str(home / "config"),  # no user query overrides or keymaps
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    return env


def write_config(path: Path, prometheus_url: str, refresh_seconds: float) -> Path:
    path.write_text(
        'default_context = "bench"\n\n'
        "[contexts.bench]\n"
        f"refresh_seconds = {refresh_seconds:g}\n\n"
        "[contexts.bench.prometheus]\n"
        f'url = "{prometheus_url}"\n',
        encoding="utf-8",
    )
    return path


class Bench:
    def __init__(self, args: argparse.Namespace, config: Path, env: dict[str, str]) -> None:
        self.args = args
        self.env = env
        self.zeta_argv = [sys.executable, "-m", "zeta_tui.cli", "--config", str(config)]
        self.bare_argv = [sys.executable, str(BENCH / "bare_app.py")]

    def spawn(self, argv: list[str]) -> PtyProcess:
        return PtyProcess(argv, env=self.env, cwd=str(REPO), columns=self.args.columns, lines=self.args.lines)

    def quit(self, p: PtyProcess, keys: str) -> dict[str, float]:
        """Seconds from the quit key to the terminal given back, and to the process gone."""
        mark = p.offset
        sent = p.send(keys)
        restored = p.wait_for(LEAVE_ALT_SCREEN, since=mark, timeout=self.args.timeout)
        exited = p.wait_exit(self.args.timeout)
        return {"quit_restored_s": restored - sent, "quit_s": exited - sent}

    def bare_run(self) -> dict[str, float]:
        with self.spawn(self.bare_argv) as p:
            first = p.wait_for(BARE_FIRST_FRAME, timeout=self.args.timeout) - p.started
            return {"first_frame_s": first, **self.quit(p, CTRL_Q)}

    def zeta_run(self) -> dict[str, float]:
        """First frame, Health data, key 2, API data, key q."""
        with self.spawn(self.zeta_argv) as p:
            first = p.wait_for(ZETA_FIRST_FRAME, timeout=self.args.timeout)
            health = p.wait_for(HEALTH_DATA, timeout=self.args.timeout)
            mark = p.offset
            pressed = p.send("2")
            api = p.wait_for(API_DATA, since=mark, timeout=self.args.timeout)
            result = {
                "first_frame_s": first - p.started,
                "health_data_s": health - p.started,
                "api_data_after_key_s": api - pressed,
                "health_then_api_s": api - p.started,
                **self.quit(p, "q"),
            }
        result.update(self.api_first_run())
        # The budget: each screen has its data drawn within 1 s of launch.
        result["all_data_s"] = max(result["health_data_s"], result["api_launch_data_s"])
        return result

    def api_first_run(self) -> dict[str, float]:
        """Launched straight on API Performance (`zeta --screen api`): its data from launch."""
        with self.spawn([*self.zeta_argv, "--screen", "api"]) as p:
            api = p.wait_for(API_DATA, timeout=self.args.timeout)
            self.quit(p, "q")
            return {"api_launch_data_s": api - p.started}

    def idle_run(self) -> dict[str, float]:
        """Health screen with data, default refresh: bytes and CPU over the idle window."""
        with self.spawn(self.zeta_argv) as p:
            p.wait_for(HEALTH_DATA, timeout=self.args.timeout)
            time.sleep(self.args.settle)
            cpu0, t0 = p.cpu_seconds(), time.perf_counter()
            time.sleep(self.args.idle_seconds)
            cpu1, t1 = p.cpu_seconds(), time.perf_counter()
            written = p.bytes_between(t0, t1)
            quit_times = self.quit(p, "q")
            wall = t1 - t0
            return {
                "window_s": wall,
                "bytes": written,
                "bytes_per_s": written / wall,
                "cpu_s": cpu1 - cpu0,
                "cpu_percent": 100 * (cpu1 - cpu0) / wall,
                **quit_times,
            }


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def spread(rows: list[dict[str, float]], key: str) -> str:
    values = [r[key] for r in rows]
    return f"{min(values):.3f}–{max(values):.3f}"


def machine() -> dict[str, object]:
    def output(*argv: str) -> str:
        try:
            return (
                subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=10)
                .stdout.strip()
                .splitlines()[0]
            )
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    cpu = "?"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import textual

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "textual": textual.__version__,
        "prometheus": output(shutil.which("prometheus") or "prometheus", "--version"),
        "commit": output("git", "rev-parse", "--short", "HEAD"),
    }


def summarise(bare: list[dict], zeta: list[dict], idle: dict | None) -> list[tuple[str, float, str, str, bool | None]]:
    """(figure, value, detail, budget, ok) rows of the report."""
    ratio = median(zeta, "first_frame_s") / median(bare, "first_frame_s")
    quits = [r["quit_s"] for r in zeta] + ([idle["quit_s"]] if idle else [])
    rows = [
        ("first frame, bare Textual app (s)", median(bare, "first_frame_s"), spread(bare, "first_frame_s"), "", None),
        ("first frame, zeta (s)", median(zeta, "first_frame_s"), spread(zeta, "first_frame_s"), "", None),
        (
            "first frame ratio zeta / bare",
            ratio,
            "",
            f"<= {BUDGETS['first_frame_ratio']}x",
            ratio <= BUDGETS["first_frame_ratio"],
        ),
        ("Health data drawn, from launch (s)", median(zeta, "health_data_s"), spread(zeta, "health_data_s"), "", None),
        (
            "API data drawn, launched on it (s)",
            median(zeta, "api_launch_data_s"),
            spread(zeta, "api_launch_data_s"),
            "",
            None,
        ),
        (
            "each screen's data drawn, from launch (s)",
            median(zeta, "all_data_s"),
            spread(zeta, "all_data_s"),
            f"<= {BUDGETS['all_data_s']} s",
            median(zeta, "all_data_s") <= BUDGETS["all_data_s"],
        ),
        (
            "API data drawn, after key 2 (s)",
            median(zeta, "api_data_after_key_s"),
            spread(zeta, "api_data_after_key_s"),
            "",
            None,
        ),
        (
            "Health, then key 2 at once, API drawn (s)",
            median(zeta, "health_then_api_s"),
            spread(zeta, "health_then_api_s"),
            "",
            None,
        ),
    ]
    if idle:
        rows += [
            (
                "idle output, Health screen (B/s)",
                idle["bytes_per_s"],
                f"{idle['bytes']} B in {idle['window_s']:.0f} s",
                f"<= {BUDGETS['idle_bytes_per_s']:g} B/s",
                idle["bytes_per_s"] <= BUDGETS["idle_bytes_per_s"],
            ),
            (
                "idle CPU, Health screen (% of a core)",
                idle["cpu_percent"],
                f"{idle['cpu_s']:.2f} s CPU",
                f"<= {BUDGETS['idle_cpu_percent']:g} %",
                idle["cpu_percent"] <= BUDGETS["idle_cpu_percent"],
            ),
        ]
    rows += [
        (
            "quit after q, zeta (s)",
            statistics.median(quits),
            f"{min(quits):.3f}–{max(quits):.3f}",
            f"<= {BUDGETS['quit_s']} s",
            statistics.median(quits) <= BUDGETS["quit_s"],
        ),
        (
            "  of which until the terminal is given back (s)",
            median(zeta, "quit_restored_s"),
            spread(zeta, "quit_restored_s"),
            "",
            None,
        ),
        ("quit after Ctrl+Q, bare Textual app (s)", median(bare, "quit_s"), spread(bare, "quit_s"), "", None),
        (
            "  of which until the terminal is given back (s)",
            median(bare, "quit_restored_s"),
            spread(bare, "quit_restored_s"),
            "",
            None,
        ),
    ]
    return rows


def print_table(rows, header: str) -> None:
    print(header)
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'median':>8}  {'min–max / detail':<22} {'budget':<12} ok")
    for name, value, detail, budget, ok in rows:
        verdict = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {value:>8.3f}  {detail:<22} {budget:<12} {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="launches of each app (default 5); medians are reported")
    parser.add_argument(
        "--idle-seconds", type=float, default=60.0, help="idle window on the Health screen (default 60; 0 skips it)"
    )
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds after the Health data appear before the idle window opens"
    )
    parser.add_argument(
        "--refresh-seconds", type=float, default=10.0, help="the context's refresh (default 10, zeta's default)"
    )
    parser.add_argument("--prometheus-url", help="use this running Prometheus instead of starting the Team Zeta world")
    parser.add_argument("--hours", type=float, default=2.0, help="history to backfill, ending now (default 2)")
    parser.add_argument("--columns", type=int, default=120)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="give up waiting for a screen after this many seconds"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "startup.json")
    args = parser.parse_args(argv)

    source: PrometheusSource = (
        ExternalPrometheus(args.prometheus_url) if args.prometheus_url else TeamZetaPrometheus(hours=args.hours)
    )
    workdir = Path(tempfile.mkdtemp(prefix="zeta-bench-"))
    try:
        print(f"data source: {source.description}", flush=True)
        url = source.start(workdir / "prometheus")
        config = write_config(workdir / "config.toml", url, args.refresh_seconds)
        bench = Bench(args, config, child_env(workdir / "home"))
        # One discarded launch of each warms the page cache and writes .pyc files.
        bench.bare_run()
        bench.zeta_run()
        bare, zeta = [], []
        for i in range(args.runs):  # interleaved, so drift in the machine's load hits both alike
            bare.append(bench.bare_run())
            zeta.append(bench.zeta_run())
            print(
                f"  run {i + 1}/{args.runs}: bare {bare[-1]['first_frame_s']:.3f} s, "
                f"zeta {zeta[-1]['first_frame_s']:.3f} s, all data {zeta[-1]['all_data_s']:.3f} s",
                flush=True,
            )
        idle = None
        if args.idle_seconds > 0:
            print(f"  idle on the Health screen for {args.idle_seconds:g} s ...", flush=True)
            idle = bench.idle_run()
    finally:
        source.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    rows = summarise(bare, zeta, idle)
    info = machine()
    print()
    print_table(
        rows,
        (
            f"zeta bench/startup — {args.columns}x{args.lines} pty, {args.runs} runs, "
            f"{info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, Textual {info['textual']}"
        ),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "source": source.description,
        "terminal": {"columns": args.columns, "lines": args.lines, "TERM": "xterm-256color"},
        "runs": args.runs,
        "refresh_seconds": args.refresh_seconds,
        "budgets": BUDGETS,
        "summary": [{"figure": n, "median": v, "detail": d, "budget": b, "ok": ok} for n, v, d, b, ok in rows],
        "bare": bare,
        "zeta": zeta,
        "idle": idle,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
