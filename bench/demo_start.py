"""How long `zeta demo` takes to show data: first start on an empty data dir, and later starts.

    python bench/demo_start.py [--first-runs 1] [--later-runs 3] [--wait-history] [--timeout 120]

Each start is `python -m zeta_tui.cli demo` in its own 120x40 pseudo-terminal with empty XDG
dirs (as in bench/startup.py). A figure is the time from spawn until a service status word
(UP, DOWN or DEGRADED) is visible in the Health table. Then `q` is typed, the bench waits for
the process to exit and checks that no process of that run (Prometheus, the history backfill,
promtool) is left: any process whose command line names the run's temp dir. Prints a table and
writes bench/results/demo_start.json; exits 1 when a figure is over budget or a child was left,
2 when a start failed (no data within --timeout, exited early, did not quit).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from ptyrun import PtyProcess  # noqa: E402
from startup import HEALTH_DATA, REPO, child_env, machine, print_table  # noqa: E402

BUDGETS = {
    "first_start_s": 15.0,  # empty data dir -> Health data drawn
    "later_start_s": 5.0,  # same data dir again -> Health data drawn
    "children_left": 0,
}

# What `zeta demo` logs on stderr (the pty) before the console takes the screen.
RECENT_LOG = re.compile(r"backfilled (\S+) of recent history in ([\d.]+)s")
READY_LOG = re.compile(r"prometheus ready at (\S+) after ([\d.]+)s")
HISTORY_LOG = re.compile(r"backfilling (\S+) of older history in the background \(pid (\d+)\)")
ENTER_ALT_SCREEN = re.compile(re.escape(b"\x1b[?1049h"))  # the console takes the terminal


class StartFailed(Exception):
    pass


def processes_naming(needle: str) -> list[tuple[int, str]]:
    """(pid, command line) of every process whose command line contains ``needle`` (what `pgrep -f` matches)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile
            continue
        if needle in cmdline:
            found.append((int(entry), cmdline))
    return found


def demo_state(home: Path) -> dict:
    """state.json of the demo in this data dir ({} before the first start)."""
    try:
        return json.loads((home / "data" / "zeta" / "demo" / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def history_complete(state: dict) -> bool:
    """The demo's background backfill of the older history finished (it is redone on the next start otherwise)."""
    return "history_from" in state and "pending_from" not in state


class DemoBench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        self.argv = [sys.executable, "-m", "zeta_tui.cli", "demo"]

    def env(self, home: Path) -> dict[str, str]:
        env = child_env(home)
        env["XDG_STATE_HOME"] = str(home / "state")  # nothing of the user's is read or written
        return env

    def warm_up(self) -> None:
        """Write .pyc files and fill the page cache, so a first start is not also Python's first import."""
        home = self.root / "warm-up"
        modules = "zeta_tui.demo.stack, zeta_tui.demo.backfill, zeta_tui.demo.exporter, zeta_tui.launch, zeta_tui.app"
        subprocess.run(
            [sys.executable, "-c", f"import {modules}"], env=self.env(home), cwd=REPO, check=True, timeout=120
        )
        for binary in ("prometheus", "promtool"):
            subprocess.run([shutil.which(binary) or binary, "--version"], capture_output=True, timeout=30)

    def start(self, home: Path, kind: str) -> dict:
        """One `zeta demo` on ``home``: Health data drawn, then q, exit and children left."""
        state_before = demo_state(home)
        p = PtyProcess(self.argv, env=self.env(home), cwd=str(REPO), columns=self.args.columns, lines=self.args.lines)
        try:
            try:
                health = p.wait_for(HEALTH_DATA, timeout=self.args.timeout)
            except (TimeoutError, RuntimeError) as exc:
                raise StartFailed(f"{kind} start: {exc}") from None
            result: dict = {"kind": kind, "data_dir": str(home / "data"), "health_data_s": health - p.started}
            result.update(self.log_figures(p))
            try:
                result["console_s"] = p.wait_for(ENTER_ALT_SCREEN, timeout=0.01) - p.started
            except (TimeoutError, RuntimeError):
                result["console_s"] = None
            result["history_complete_before"] = history_complete(state_before)
            if kind == "first" and self.args.wait_history:
                result["history_s"] = self.wait_history(p, home)
            sent = p.send("q")
            try:
                exited = p.wait_exit(self.args.quit_timeout)
            except TimeoutError:
                raise StartFailed(
                    f"{kind} start: did not exit within {self.args.quit_timeout:g}s of q; "
                    f"the screen showed:\n{p.tail_text()}"
                ) from None
            result["quit_s"] = exited - sent
            result["exit_status"] = p.process.returncode
        finally:
            p.close()
        result.update(self.children_left(home))
        return result

    def wait_history(self, p: PtyProcess, home: Path) -> float | None:
        """Seconds from launch until state.json says the week of history is in (None: not within --timeout)."""
        deadline = time.monotonic() + self.args.timeout
        while time.monotonic() < deadline and p.process.poll() is None:
            if history_complete(demo_state(home)):
                return time.perf_counter() - p.started
            time.sleep(0.2)
        return None

    def log_figures(self, p: PtyProcess) -> dict:
        """What the demo logged before the console started, and when it arrived."""
        text = p.text()
        figures: dict = {}
        if m := RECENT_LOG.search(text):
            figures["recent_backfill_span"], figures["recent_backfill_s"] = m[1], float(m[2])
        if m := READY_LOG.search(text):
            figures["prometheus_ready_logged_s"] = float(m[2])
            figures["prometheus_ready_seen_s"] = p.wait_for(READY_LOG, timeout=0.01) - p.started
        if m := HISTORY_LOG.search(text):
            figures["history_backfill_span"] = m[1]
        return figures

    def children_left(self, home: Path) -> dict:
        """Processes naming the run's temp dir, right after exit and after a grace; stragglers are killed."""
        needle = str(home)
        at_exit = processes_naming(needle)
        left = at_exit
        deadline = time.monotonic() + self.args.grace
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = processes_naming(needle)
        for pid, _ in left:  # they would hold the data dir's locks for the next start
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return {
            "children_at_exit": [{"pid": pid, "cmdline": cmd} for pid, cmd in at_exit],
            "children_left": [{"pid": pid, "cmdline": cmd} for pid, cmd in left],
        }


def describe(result: dict) -> str:
    parts = [f"data {result['health_data_s']:.3f} s"]
    if "prometheus_ready_seen_s" in result:
        parts.append(f"prometheus ready {result['prometheus_ready_seen_s']:.3f} s")
    if "recent_backfill_s" in result:
        parts.append(f"backfill {result['recent_backfill_span']} in {result['recent_backfill_s']:.1f} s")
    if result.get("history_s") is not None:
        parts.append(f"week of history in at {result['history_s']:.1f} s")
    if result["kind"] == "later":
        parts.append("full history kept" if result["history_complete_before"] else "history incomplete")
    parts.append(f"quit {result['quit_s']:.3f} s")
    if result["exit_status"] != 0:
        parts.append(f"EXIT STATUS {result['exit_status']}")
    if result["children_left"]:
        parts.append(f"{len(result['children_left'])} children LEFT")
    elif result["children_at_exit"]:
        parts.append(f"{len(result['children_at_exit'])} children at exit, gone after")
    return ", ".join(parts)


def figure_rows(label: str, runs: list[dict], budget_key: str) -> list[tuple]:
    def values(key: str) -> list[float]:
        return [r[key] for r in runs if r.get(key) is not None]

    def detail(vals: list[float]) -> str:
        return f"{min(vals):.3f}–{max(vals):.3f}" if len(vals) > 1 else f"{len(vals)} run"

    health = values("health_data_s")
    budget = BUDGETS[budget_key]
    rows = [
        (
            f"{label}: Health data drawn (s)",
            statistics.median(health),
            detail(health),
            f"<= {budget:g} s",
            statistics.median(health) <= budget,
        )
    ]
    for key, name in (
        ("recent_backfill_s", "backfill of recent history, logged (s)"),
        ("prometheus_ready_seen_s", "prometheus ready, from launch (s)"),
        ("console_s", "console takes the terminal, from launch (s)"),
        ("history_s", "week of history in (state.json), from launch (s)"),
    ):
        if vals := values(key):
            rows.append((f"  {name}", statistics.median(vals), detail(vals), "", None))
    quits = values("quit_s")
    rows.append((f"{label}: quit after q (s)", statistics.median(quits), detail(quits), "", None))
    return rows


def summarise(first: list[dict], later: list[dict]) -> list[tuple]:
    rows = figure_rows(f"first start (empty data dir, {len(first)}x)", first, "first_start_s")
    if later:
        rows += figure_rows(f"later start (same data dir, {len(later)}x)", later, "later_start_s")
    runs = first + later
    left = sum(len(r["children_left"]) for r in runs)
    at_exit = sum(len(r["children_at_exit"]) for r in runs)
    rows.append(
        (
            "children left after exit, all starts",
            float(left),
            f"{at_exit} seen at exit",
            "0",
            left <= BUDGETS["children_left"],
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first-runs", type=int, default=1, help="first starts, each on a fresh data dir (default 1)")
    parser.add_argument(
        "--later-runs", type=int, default=3, help="later starts on the last first start's data dir (default 3)"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="give up waiting for the Health data after this many seconds"
    )
    parser.add_argument(
        "--quit-timeout", type=float, default=30.0, help="give up waiting for the exit after q after this many seconds"
    )
    parser.add_argument(
        "--grace", type=float, default=3.0, help="seconds a child found at exit may take to go before it counts as left"
    )
    parser.add_argument(
        "--wait-history",
        action="store_true",
        help=(
            "keep each first start open until its background backfill of the week is in, "
            "so later starts find the full history"
        ),
    )
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between one start's exit and the next start")
    parser.add_argument(
        "--no-warm-up", dest="warm_up", action="store_false", help="skip the import that writes .pyc files first"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp data dirs (their path is printed)")
    parser.add_argument("--columns", type=int, default=120)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "demo_start.json")
    args = parser.parse_args(argv)
    if args.first_runs < 1:
        parser.error("--first-runs must be at least 1")

    root = Path(tempfile.mkdtemp(prefix="zeta-demo-bench-"))
    bench = DemoBench(args, root)
    first: list[dict] = []
    later: list[dict] = []
    failure = None
    killed: list[dict] = []
    try:
        if args.warm_up:
            bench.warm_up()
        for i in range(args.first_runs):
            home = root / f"first-{i + 1}"
            first.append(bench.start(home, "first"))
            print(f"  first start {i + 1}/{args.first_runs}: {describe(first[-1])}", flush=True)
            time.sleep(args.pause)
        for i in range(args.later_runs):
            later.append(bench.start(home, "later"))
            print(f"  later start {i + 1}/{args.later_runs}: {describe(later[-1])}", flush=True)
            time.sleep(args.pause)
    except StartFailed as exc:
        failure = str(exc)
        print(f"\nFAILED: {failure}", file=sys.stderr)
    finally:
        for pid, cmd in processes_naming(str(root)):  # only if a failed start left something
            print(f"killing leftover {pid}: {cmd}", file=sys.stderr)
            killed.append({"pid": pid, "cmdline": cmd})
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if args.keep:
            print(f"data dirs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    rows = summarise(first, later) if first else []
    info = machine()
    if rows:
        print()
        print_table(
            rows,
            (
                f"zeta bench/demo_start — `zeta demo` in a {args.columns}x{args.lines} pty, "
                f"{info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, Textual {info['textual']}, "
                f"{info['prometheus']}"
            ),
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "command": " ".join(["python", *bench.argv[1:]]),
        "terminal": {"columns": args.columns, "lines": args.lines, "TERM": "xterm-256color"},
        "budgets": BUDGETS,
        "summary": [{"figure": n, "median": v, "detail": d, "budget": b, "ok": ok} for n, v, d, b, ok in rows],
        "first": first,
        "later": later,
        "failure": failure,
        "left_by_the_failed_start": killed,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    if failure:
        return 2
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
