"""The budgets of issue 13: memory and time facing a 300 MB answer, keys while 50 MB is decoded, q.

    python bench/fault_budgets.py                      # everything, 3 runs of each
    python bench/fault_budgets.py --runs 5 --only keys,quit

Against bench/answer_server.py (its own process, on 127.0.0.1), with timeout_seconds = 3 and
the default max_response_bytes (64 MiB):

- headless: every command (promql, alerts, logs on Elasticsearch and Loki, traces on Jaeger,
  trace on Tempo, sql on ClickHouse) facing a 300 MB answer: peak RSS (the child's
  ru_maxrss, from wait4), time from spawn to exit, exit status, and whether it named the cap;
- console: `zeta --screen S` on each screen facing 300 MB in a 120x40 pty (bench/ptyrun.py):
  time from launch until the pane says "cap", peak RSS (VmHWM) then;
- keys: the console on a screen whose backend answers 50 MB (held back until the palette is
  open), the command palette open (Ctrl+P), one letter typed every 30 ms for --window seconds
  from the moment the answer is released; each key's figure is from writing it until the
  palette's input shows it. The bare Textual app (bench/bare_app.py, palette on Ctrl+P) is
  measured the same way in the same run, on nothing;
- quit: `q` written while the request hangs (a server that never answers), and 0.1 s after
  the 50 MB answer was wholly sent (zeta is decoding it), until the process is reaped; the bare
  app's Ctrl+Q beside it.

Every child whose RSS passes --kill-mb is killed (and the figure says so): a command that reads
300 MB whole must not take the machine down with it. Prints a table, writes
bench/results/fault_budgets.json, exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from ptyrun import PtyProcess, proc_status  # noqa: E402
from startup import child_env, machine  # noqa: E402

TIMEOUT = 3.0
BUDGET_RSS_MB = 300.0
BUDGET_ERROR_S = TIMEOUT + 1.0
BUDGET_KEY_MS = 100.0
BUDGET_QUIT_S = 0.5
PYTHON = sys.executable
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

#: name -> (config section, its extra keys, headless argv, console screen, words of its data on screen)
BACKENDS = {
    "prometheus": ("prometheus", {}, ["promql", "up"], "health", r"UP|DOWN|no services"),
    "alertmanager": ("alertmanager", {}, ["alerts"], "alerts", r"HighErrorRate"),
    "elasticsearch": (
        "logs",
        {"kind": '"elasticsearch"'},
        ["logs", "level:ERROR", "--limit", "10"],
        "logs",
        r"request \d+ handled",
    ),
    "loki": ("logs", {"kind": '"loki"'}, ["logs", "level:ERROR", "--limit", "10"], "logs", r"request \d+ handled"),
    "jaeger": ("traces", {"kind": '"jaeger"'}, ["traces", "--service", "svc-0"], "traces", r"op-0|svc-0"),
    "tempo": ("traces", {"kind": '"tempo"'}, ["trace", TRACE_ID], "traces", r"op-0"),
    "clickhouse": ("clickhouse", {}, ["sql", "SELECT 1"], "tenants", r"tenant"),
}
KEY_CASES = ("elasticsearch", "loki", "jaeger", "alertmanager")
LETTERS = "zqxjvkwyfb"
PALETTE = "Search for commands"


# --- the server and the config ----------------------------------------------------------------


class Server:
    def __init__(self, workdir: Path, kinds: list[str]) -> None:
        port_file = workdir / "port"
        self.process = subprocess.Popen(
            [PYTHON, str(BENCH / "answer_server.py"), "--port-file", str(port_file), "--kinds", ",".join(kinds)]
        )
        deadline = time.monotonic() + 120
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the answer server did not start")
            time.sleep(0.1)
        self.url = f"http://127.0.0.1:{port_file.read_text()}"

    def control(self, what: str) -> dict:
        with urllib.request.urlopen(f"{self.url}/control/{what}", timeout=5) as resp:
            return json.loads(resp.read())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def write_config(path: Path, server_url: str) -> None:
    lines = ['default_context = "none"', "", "[contexts.none]", ""]
    for name, (section, extra, *_rest) in BACKENDS.items():
        for mode in ("huge", "hang", "big"):
            url = f"{server_url}/{mode}" + (f"/{name}" if mode == "big" else "")
            lines += [f"[contexts.{name}-{mode}.{section}]", f'url = "{url}"', f"timeout_seconds = {TIMEOUT:g}"]
            lines += [f"{k} = {v}" for k, v in extra.items()] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


# --- watching a child ---------------------------------------------------------------------------


class MemoryGuard:
    """Kills ``pid`` when its RSS passes ``limit_mb``; remembers that it did."""

    def __init__(self, pid: int, limit_mb: float) -> None:
        self.pid, self.limit_mb, self.killed, self._stop = pid, limit_mb, False, threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            try:
                rss = proc_status(self.pid).get("VmRSS", 0)
            except (FileNotFoundError, ProcessLookupError, ValueError):
                return
            if rss > self.limit_mb:
                self.killed = True
                os.kill(self.pid, 9)
                return

    def stop(self) -> None:
        self._stop.set()


def headless(name: str, config: Path, env: dict, kill_mb: float) -> dict:
    _, _, argv, *_ = BACKENDS[name]
    cmd = [PYTHON, "-m", "zeta_tui.cli", *argv, "--config", str(config), "--context", f"{name}-huge"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=REPO)
        guard = MemoryGuard(child.pid, kill_mb)
        timer = threading.Timer(60, lambda: child.kill())
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - began
        timer.cancel()
        guard.stop()
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        stderr, stdout_bytes = err.read().decode(errors="replace"), len(out.read())
    return {
        "seconds": elapsed,
        "rss_mb": usage.ru_maxrss / 1024,
        "exit": child.returncode,
        "killed": guard.killed,
        "says_cap": "cap" in stderr.lower(),
        "stdout_bytes": stdout_bytes,
        "stderr": stderr[-400:],
    }


def launch(config: Path, env: dict, context: str, screen: str) -> PtyProcess:
    return PtyProcess(
        [PYTHON, "-m", "zeta_tui.cli", "--config", str(config), "--context", context, "--screen", screen],
        env=env,
        cwd=str(REPO),
    )


def console_rss(name: str, config: Path, env: dict, kill_mb: float) -> dict:
    screen = BACKENDS[name][3]
    with launch(config, env, f"{name}-huge", screen) as p:
        guard = MemoryGuard(p.pid, kill_mb)
        try:
            seen = p.wait_for(r"(?i)\bcap\b", timeout=30)
            error_s = seen - p.started
            hwm = proc_status(p.pid)["VmHWM"]
        except (TimeoutError, RuntimeError) as exc:
            error_s, hwm = None, proc_status(p.pid)["VmHWM"] if p.process.poll() is None else None
            print(f"  {name}: no 'cap' on screen: {str(exc)[:300]}", file=sys.stderr)
        guard.stop()
        quit_s = _quit(p)
    return {"error_seconds": error_s, "rss_mb": hwm, "killed": guard.killed, "quit_seconds": quit_s}


def _quit(p: PtyProcess, key: str = "q") -> float | None:
    if p.process.poll() is not None:
        return None
    sent = p.send(key)
    try:
        return p.wait_exit(10) - sent
    except TimeoutError:
        return None


# --- keys --------------------------------------------------------------------------------------


def probe_keys(p: PtyProcess, window: float, gap: float = 0.03) -> list[tuple[float, float]]:
    """(time written, seconds until shown) of each letter typed into the open palette."""
    out: list[tuple[float, float]] = []
    typed = ""
    deadline = time.perf_counter() + window
    while time.perf_counter() < deadline:
        if len(typed) == len(LETTERS):
            since = p.offset
            p.send("\x15")  # ctrl+u: empty the input; the placeholder comes back
            p.wait_for(PALETTE, since=since, timeout=20)
            typed = ""
        typed += LETTERS[len(typed)]
        since = p.offset
        sent = p.send(typed[-1])
        shown = p.wait_for(re.escape(typed), since=since, timeout=20)
        out.append((sent, shown - sent))
        time.sleep(gap)
    return out


def keys_zeta(name: str, server: Server, config: Path, env: dict, window: float) -> dict:
    server.control("reset")
    with launch(config, env, f"{name}-big", BACKENDS[name][3]) as p:
        deadline = time.perf_counter() + 30
        while server.control("sent")["waiting"] < 1:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{name}: the big question was never asked; the screen showed:\n{p.tail_text()}")
            time.sleep(0.05)
        since = p.offset
        p.send("\x10")  # ctrl+p: the palette (":" opens the command line)
        p.wait_for(PALETTE, since=since, timeout=20)
        idle = probe_keys(p, 1.0)
        cpu0 = p.cpu_seconds()
        released = time.perf_counter()
        server.control("release")
        busy = probe_keys(p, window)
        cpu = p.cpu_seconds() - cpu0
        sent_at = server.control("sent")["sent_at"]
        since = p.offset
        p.send("\x1b")
        try:
            p.wait_for(BACKENDS[name][4], since=0, timeout=30)
            shown = True
        except (TimeoutError, RuntimeError):
            shown = False
            print(f"  {name}: data not shown; the screen showed:\n{p.tail_text(1500)}", file=sys.stderr)
        hwm = proc_status(p.pid)["VmHWM"]
        _quit(p)
    during = [ms for t, ms in busy if sent_at is None or t >= sent_at - 0.05]
    return {
        "idle_ms": [ms * 1000 for _, ms in idle],
        "busy_ms": [ms * 1000 for ms in during],
        "all_ms": [ms * 1000 for _, ms in busy],
        "sent_after_release_s": (sent_at - released) if sent_at else None,
        "cpu_seconds_in_window": cpu,
        "data_shown": shown,
        "rss_mb": hwm,
    }


def keys_bare(env: dict, window: float) -> dict:
    with PtyProcess([PYTHON, str(BENCH / "bare_app.py")], env=env, cwd=str(REPO)) as p:
        p.wait_for("hello", timeout=30)
        since = p.offset
        p.send("\x10")  # ctrl+p
        p.wait_for(PALETTE, since=since, timeout=20)
        keys = probe_keys(p, window)
        since = p.offset
        p.send("\x1b")
        time.sleep(0.3)
        quit_s = _quit(p, "\x11")
    return {"all_ms": [ms * 1000 for _, ms in keys], "quit_seconds": quit_s}


def quit_during(name: str, server: Server, config: Path, env: dict, phase: str) -> float | None:
    """q while the request hangs (phase "fetch") or 0.1 s after 50 MB was sent (phase "parse")."""
    server.control("reset")
    context = f"{name}-hang" if phase == "fetch" else f"{name}-big"
    with launch(config, env, context, BACKENDS[name][3]) as p:
        p.wait_for(r"zeta ·", timeout=30)
        if phase == "fetch":
            time.sleep(1.0)  # the request is on its way, and hangs
        else:
            deadline = time.perf_counter() + 30
            while server.control("sent")["waiting"] < 1 and time.perf_counter() < deadline:
                time.sleep(0.05)
            server.control("release")
            while server.control("sent")["sent_at"] is None and time.perf_counter() < deadline:
                time.sleep(0.01)
            time.sleep(0.1)
        return _quit(p)


# --- the report --------------------------------------------------------------------------------


def stats(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    return f"{statistics.median(values):8.3f}  worst {max(values):.3f}  (n={len(values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="headless,console,keys,quit")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument(
        "--window", type=float, default=5.0, help="seconds of typing after the 50 MB answer is released"
    )
    parser.add_argument("--kill-mb", type=float, default=2500.0)
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    names = [n for n in args.backends.split(",") if n]
    workdir = Path(tempfile.mkdtemp(prefix="zeta-fault-bench-"))
    env = child_env(workdir)
    config = workdir / "config.toml"
    server = Server(
        workdir, [n for n in names if n in KEY_CASES or n == "prometheus"] if only & {"keys", "quit"} else []
    )
    write_config(config, server.url)
    results: dict = {
        "machine": machine(),
        "load_start": os.getloadavg()[0],
        "runs": args.runs,
        "timeout_seconds": TIMEOUT,
    }
    rows: list[tuple[str, str, str, bool]] = []

    def row(label: str, values: list, budget: float | None, unit: str) -> None:
        values = [v for v in values if v is not None]
        ok = bool(values) and (budget is None or max(values) <= budget)
        rows.append(
            (
                label,
                stats(values),
                f"<= {budget:g} {unit}" if budget is not None else "",
                ok if budget is not None else True,
            )
        )
        print(f"{label:52s} {rows[-1][1]:36s} {rows[-1][2]}", flush=True)

    try:
        subprocess.run(
            [PYTHON, "-c", "import zeta_tui.app, zeta_tui.cli"], env=env, cwd=REPO, check=True
        )  # .pyc, page cache
        if "headless" in only:
            for name in names:
                runs = [headless(name, config, env, args.kill_mb) for _ in range(args.runs)]
                results[f"headless/{name}"] = runs
                row(
                    f"headless {' '.join(BACKENDS[name][2][:1])} ({name}): peak RSS (MB)",
                    [r["rss_mb"] for r in runs],
                    BUDGET_RSS_MB,
                    "MB",
                )
                row(
                    f"headless {' '.join(BACKENDS[name][2][:1])} ({name}): time to error (s)",
                    [r["seconds"] for r in runs],
                    BUDGET_ERROR_S,
                    "s",
                )
                # 3: `zeta alerts` read no backend at all (its documented status for that)
                bad = [r for r in runs if r["exit"] not in (1, 3) or not r["says_cap"] or r["killed"]]
                if bad:
                    print(
                        f"  {name}: exit {bad[0]['exit']}, cap named: {bad[0]['says_cap']}, killed: "
                        f"{bad[0]['killed']}: {bad[0]['stderr'][-200:]}"
                    )
                    rows.append(
                        (
                            f"headless ({name}): exit 1 naming the cap",
                            f"{len(bad)} of {len(runs)} did not",
                            "exit 1 (or 3)",
                            False,
                        )
                    )
        if "console" in only:
            for name in names:
                runs = [console_rss(name, config, env, args.kill_mb) for _ in range(args.runs)]
                results[f"console/{name}"] = runs
                screen = BACKENDS[name][3]
                row(f"console {screen} ({name}): peak RSS (MB)", [r["rss_mb"] for r in runs], BUDGET_RSS_MB, "MB")
                row(
                    f"console {screen} ({name}): launch to 'cap' (s)",
                    [r["error_seconds"] for r in runs],
                    BUDGET_ERROR_S,
                    "s",
                )
        if "keys" in only:
            bare, zeta = [], {n: [] for n in names if n in KEY_CASES}
            for _ in range(args.runs):  # bare and zeta take turns, so drift in the load hits both
                bare.append(keys_bare(env, args.window))
                for name in zeta:
                    zeta[name].append(keys_zeta(name, server, config, env, args.window))
            results["keys/bare"], results["keys/zeta"] = bare, zeta
            row("bare Textual app: key shown (ms)", [ms for r in bare for ms in r["all_ms"]], None, "ms")
            row("bare Textual app: worst key per run (ms)", [max(r["all_ms"]) for r in bare], None, "ms")
            for name, runs in zeta.items():
                screen = BACKENDS[name][3]
                row(f"{screen} ({name}), idle: key shown (ms)", [ms for r in runs for ms in r["idle_ms"]], None, "ms")
                row(
                    f"{screen} ({name}), 50 MB decoded: key shown (ms)",
                    [ms for r in runs for ms in r["busy_ms"]],
                    None,
                    "ms",
                )
                row(
                    f"{screen} ({name}), 50 MB decoded: worst key per run (ms)",
                    [max(r["busy_ms"]) for r in runs],
                    BUDGET_KEY_MS,
                    "ms",
                )
                if not all(r["data_shown"] for r in runs):
                    rows.append((f"{screen} ({name}): the 50 MB answer drawn", "not in every run", "drawn", False))
        if "quit" in only:
            results["quit/bare"] = [keys_bare(env, 0.2)["quit_seconds"] for _ in range(args.runs)]
            row("bare Textual app: exit after Ctrl+Q (s)", results["quit/bare"], None, "s")
            for phase in ("fetch", "parse"):
                for name in [n for n in names if n in KEY_CASES]:
                    runs = [quit_during(name, server, config, env, phase) for _ in range(args.runs)]
                    results[f"quit/{phase}/{name}"] = runs
                    row(f"q during the {phase} ({name}): exit (s)", runs, BUDGET_QUIT_S, "s")
    finally:
        server.close()
    results["load_end"] = os.getloadavg()[0]
    results["rows"] = rows
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "fault_budgets.json").write_text(json.dumps(results, indent=1, default=str))
    missed = [r for r in rows if not r[3]]
    print(
        f"\nload average {results['load_start']:.2f} at start, {results['load_end']:.2f} at end; "
        f"{len(missed)} budget(s) missed"
    )
    for label, figure, budget, _ in missed:
        print(f"  MISSED {label}: {figure} ({budget})")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
