"""The demo stack: the Team Zeta world in a real Prometheus and Alertmanager, and its stores.

The present comes first: the store's writers (logs, traces, usage; store_writer.py) start right
after the lock, and their live threads write each request a second or two after it happens.
Then, on a first start, the last two hours of metrics are backfilled before Prometheus starts
(data on screen in a few seconds); the rest of the 7 days is backfilled by a niced child process
and its blocks are moved into the running Prometheus, which loads them on its next block reload
(about a minute). Once Prometheus is ready the store's history fills in too, behind the live
writers (niced children, inserts on sessions of their own). Later starts backfill only the gap
since the newest kept data. History lives in ``data_dir()/demo/prometheus`` and
``data_dir()/demo/chdb``.

The first start also anchors the world's scripted incidents: it picks an incident shift that
starts an ml-engine error spike two to three minutes later (so the alerts fire and resolve
while the user watches) and keeps it in the state file; every later start, and every child
process (backfill, log, trace and usage generators, through their argv), builds the world with
that shift, so the history already written stays the world's. A state without a shift (a store
older than the anchor) is rebuilt like a store of another seed.

``DemoStack.stop`` stops every child and thread and may be called more than once; the command
(``zeta_tui.demo.command``) calls it on every exit path.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeta_tui.config.models import (
    AlertmanagerConfig,
    ClickHouseConfig,
    ContextConfig,
    LogsConfig,
    PrometheusConfig,
    TracesConfig,
    ZetaConfig,
)
from zeta_tui.config.paths import data_dir
from zeta_tui.demo.backfill import Segment, backfill, block_time_range, history_segments, move_blocks
from zeta_tui.demo.events_store import LiveEventWriter
from zeta_tui.demo.exporter import WorldExporter, scrape_config
from zeta_tui.demo.incidents import shift_for_spike_at
from zeta_tui.demo.log_store import LiveLogWriter
from zeta_tui.demo.processes import BinaryNotFound, ChildServer, find_binary, prometheus_server
from zeta_tui.demo.trace_store import LiveTraceWriter
from zeta_tui.demo.usage_store import LiveUsageWriter
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.errors import BackendUnavailable, ZetaError

TRACE_HISTORY_SECONDS = 3 * 3600  # the demo's traces; its logs keep 24 h

if TYPE_CHECKING:
    from zeta_tui.demo.alerting import WebhookSink

DEMO_CONTEXT = "demo"
HISTORY_SPAN = 7 * 86400.0
RECENT_SPAN = 2 * 3600.0  # backfilled before Prometheus starts: what the default views show
RECENT_STEP = 15  # the live scrape interval, so backfilled and scraped data look alike
RETENTION = "8d"
HEARTBEAT_SECONDS = 15.0
#: A fresh store's first ml-engine spike begins this long after the start at the earliest (on the
#: next whole minute after it, so 2 to 3 minutes): HighErrorRate then fires about 3 minutes later.
FIRST_SPIKE_AFTER = 120


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo keeps its things under the XDG data dir."""

    root: Path

    @property
    def tsdb(self) -> Path:
        return self.root / "prometheus"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def lock(self) -> Path:
        return self.root / "demo.lock"

    @property
    def store(self) -> Path:
        """The embedded ClickHouse (chdb) store: the world's logs (otel_logs), traces (otel_traces),
        usage and cost (api_usage, cost_data, tenants)."""
        return self.root / "chdb"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @classmethod
    def default(cls) -> DemoPaths:
        return cls(data_dir() / "demo")


class DemoLock:
    """One `zeta demo` per data dir: an flock'd file holding the owner's pid and Prometheus URL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self.holder()
            pid = holder.get("pid", "?")
            url = holder.get("prometheus_url")
            raise ZetaError(
                f"zeta demo is already running (pid {pid}) with its history in {self.path.parent}",
                where=str(self.path),
                hint=(f"use its Prometheus at {url}, or stop it: kill {pid}" if url else f"stop it first: kill {pid}"),
            ) from None
        self._fd = fd
        self._write({"pid": os.getpid()})

    def holder(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.path.read_text() or "{}"))
        except (OSError, ValueError):
            return {}

    def update(self, **info: Any) -> None:
        """Add facts (e.g. the Prometheus URL) for a second `zeta demo` to report."""
        self._write({**self.holder(), **info})

    def _write(self, info: dict[str, Any]) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, json.dumps(info).encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            os.close(fd)  # closing drops the flock


@dataclass
class DemoStack:
    """The running demo: world exporter, Prometheus child and the history backfill child."""

    paths: DemoPaths
    world: TeamZetaWorld
    fresh: bool = False
    clock: Callable[[], float] = time.time
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr, flush=True)
    exporter: WorldExporter | None = field(default=None, init=False)
    prometheus: ChildServer | None = field(default=None, init=False)
    history: subprocess.Popen[bytes] | None = field(default=None, init=False)
    logs: LiveLogWriter | None = field(default=None, init=False)
    traces: LiveTraceWriter | None = field(default=None, init=False)
    usage: LiveUsageWriter | None = field(default=None, init=False)
    events: LiveEventWriter | None = field(default=None, init=False)
    alertmanager: ChildServer | None = field(default=None, init=False)
    alert_sink: WebhookSink | None = field(default=None, init=False)
    #: why the demo runs without an Alertmanager (its binary is missing), for the Alerts screen
    alerting_missing: ZetaError | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.lock = DemoLock(self.paths.lock)
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def prometheus_url(self) -> str:
        assert self.prometheus is not None, "the stack is not started"
        return self.prometheus.url

    @property
    def alertmanager_url(self) -> str | None:
        """The Alertmanager child's URL while it runs; None without one (its binary missing)."""
        if self.alertmanager is None or self.alertmanager.process is None:
            return None
        return self.alertmanager.url

    # --- start -------------------------------------------------------------------------

    def start(self) -> None:
        """Lock, start the live writers of the store, backfill what the first screens need, start
        exporter and Prometheus, then let the history of metrics, logs, traces and usage fill in
        behind the present."""
        find_binary("prometheus")  # say what to install before touching anything
        find_binary("promtool")
        state = self.prepare()
        self._start_stores(history=False)  # the present first: requests are written as they happen
        now = self.clock()
        recent, older = self._plan(state, now)
        began = time.monotonic()
        if recent:
            move_blocks(backfill(self.world, recent, self.paths.staging / "recent"), self.paths.tsdb)
            self.log(f"backfilled {_span(recent)} of recent history in {time.monotonic() - began:.1f}s")
        self._write_state(state, live_until=now)
        self.exporter = WorldExporter(self.world).start()
        prometheus_yml = scrape_config(self.exporter.target) + self._start_alerting()
        self.prometheus = prometheus_server(
            self.paths.run, prometheus_yml, data_dir=self.paths.tsdb, retention=RETENTION
        )
        self.prometheus.start()
        self.prometheus.wait_ready(timeout=60)
        self.lock.update(prometheus_url=self.prometheus.url)
        self.log(f"prometheus ready at {self.prometheus.url} after {time.monotonic() - began:.1f}s")
        if older:
            self._start_history(older)
        self._spawn(self._heartbeat, "zeta-demo-heartbeat")
        self._release_store_history()

    def prepare(self) -> dict[str, Any]:
        """Lock the data dir, drop a store the world cannot continue, anchor the incidents; returns the state.

        A store is dropped when asked (``fresh``), when it holds another seed's or namespace's
        world, or when its state has no incident shift. ``self.world`` becomes the world with
        the store's shift (a new one for a new store), which the state then records.
        """
        self.lock.acquire()
        state = self._read_state()
        if (
            self.fresh
            or state.get("seed") != self.world.seed
            or state.get("namespace") != self.world.namespace
            or not isinstance(state.get("incident_shift"), int)
        ):
            shutil.rmtree(self.paths.tsdb, ignore_errors=True)
            shutil.rmtree(self.paths.store, ignore_errors=True)
            state = {}
        shutil.rmtree(self.paths.staging, ignore_errors=True)  # leftovers of an interrupted backfill
        self.world = self._anchored_world(state, self.clock())
        self._write_state(state)
        return self._read_state()

    def _anchored_world(self, state: dict[str, Any], now: float) -> TeamZetaWorld:
        """The world with the state's incident shift, or for a new store one whose first ml-engine
        spike begins on the first whole minute at least FIRST_SPIKE_AFTER seconds after ``now``."""
        shift = state.get("incident_shift")
        if not isinstance(shift, int):
            shift = shift_for_spike_at((int(now) + FIRST_SPIKE_AFTER) // 60 * 60 + 60)
        if shift == self.world.incident_shift:
            return self.world
        return TeamZetaWorld(self.world.seed, self.world.namespace, incident_shift=shift)

    def _start_alerting(self) -> str:
        """A real Alertmanager child whose receivers are a local webhook sink; the prometheus.yml
        lines that load the shipped rules and send to it ("" without the binary: the console
        then says what to install on the Alerts screen, and the rest works)."""
        from zeta_tui.demo.alerting import WebhookSink, alerting_config, alertmanager_config
        from zeta_tui.demo.processes import alertmanager_server

        try:
            self.alertmanager = alertmanager_server(self.paths.run / "alertmanager", "")
        except BinaryNotFound as exc:
            self.alerting_missing = BackendUnavailable(
                f"the demo cannot start Alertmanager: {exc.message}", hint=exc.hint, where="zeta demo"
            )
            self.log(f"demo alerting is off: {exc.message}")
            return ""
        self.alert_sink = WebhookSink(self.paths.run / "alert-notifications.jsonl").start()
        (self.paths.run / "alertmanager" / "alertmanager.yml").write_text(alertmanager_config(self.alert_sink.url))
        self.alertmanager.start()
        self.alertmanager.wait_ready(timeout=30)
        self.log(
            f"alertmanager ready at {self.alertmanager.url}; notifications go to "
            f"{self.paths.run / 'alert-notifications.jsonl'}"
        )
        return alerting_config(self.alertmanager.url.split("://", 1)[1])

    def start_stores(self) -> None:
        """Start the store's writers, live and history at once (the demo without Prometheus)."""
        self._start_stores(history=True)

    def _start_stores(self, *, history: bool) -> None:
        # The world's logs, traces and usage go to the embedded store from threads of this process
        # (chdb lets one process hold a store); a store held elsewhere costs the Logs screen, not
        # the demo. Each writer's live thread starts at once; its history waits for ``history``
        # or _release_store_history (Prometheus first: the Health screen's data come from it).
        try:
            self.logs = LiveLogWriter(self.world, self.paths.store, clock=self.clock, log=self.log).start(
                history=history
            )
        except ZetaError as exc:
            self.log(f"demo logs are off: {exc.message} ({exc.hint})")
            return
        # Traces keep less history than logs: about 11 spans a request make an hour of traces
        # ~50 MB and ~40 s of generation, so 3 h bounds the store near the logs' 24 h.
        # The same requests' spans, same store and sampling: every sampled log record's trace is there.
        try:
            self.traces = LiveTraceWriter(
                self.world, self.paths.store, clock=self.clock, log=self.log, history_seconds=TRACE_HISTORY_SECONDS
            ).start(history=history)
        except ZetaError as exc:
            self.log(f"demo traces are off: {exc.message} ({exc.hint})")
        # The world's api_usage, cost_data and tenants (35 days, 1 request in 100) in the same
        # store; its tables are created by the writer's thread, so the console draws at once.
        self.usage = LiveUsageWriter(self.world, self.paths.store, clock=self.clock, log=self.log).start(
            history=history
        )
        # The world's product events (35 days, 1 recommendation in 1000, events_store.py), the same
        # way, once the usage store has made its tables (the events rollup's view before any event).
        self.events = LiveEventWriter(
            self.world, self.paths.store, clock=self.clock, log=self.log, after=self.usage.live
        ).start(history=history)

    def _release_store_history(self) -> None:
        for writer in (self.logs, self.traces, self.usage, self.events):
            if writer is not None:
                writer.release_history()

    def _plan(self, state: dict[str, Any], now: float) -> tuple[list[Segment], list[Segment]]:
        """(backfill now, backfill in the background) for what the kept history lacks."""
        kept = block_time_range(self.paths.tsdb)
        newest = max([v for v in (state.get("live_until"), kept and kept[1]) if v] or [0.0])
        start = max(newest + 1, now - HISTORY_SPAN) if newest else now - HISTORY_SPAN
        split = max(start, now - RECENT_SPAN)
        recent = [Segment(split, now, RECENT_STEP)] if now > split else []
        history_from, pending = state.get("history_from"), state.get("pending_from")
        if history_from is None or history_from > now - HISTORY_SPAN + 3600:
            start = now - HISTORY_SPAN  # the week of history never finished: redo it (duplicates merge)
        elif pending is not None:
            start = min(start, max(pending, now - HISTORY_SPAN))  # an interrupted gap fill: redo it too
        older = history_segments(start, split - 1) if split - 1 > start else []
        return recent, older

    def history_argv(self, segments: list[Segment]) -> list[str]:
        """The backfill child's command line: this stack's world (seed, namespace, incident shift) over ``segments``."""
        argv = [
            sys.executable,
            "-m",
            "zeta_tui.demo.backfill",
            "--seed",
            str(self.world.seed),
            "--namespace",
            self.world.namespace,
            "--incident-shift",
            str(self.world.incident_shift),
            "--staging",
            str(self.paths.staging / "history"),
            "--into",
            str(self.paths.tsdb),
        ]
        return argv + [arg for s in segments for arg in ("--segment", str(s))]

    def _start_history(self, segments: list[Segment]) -> None:
        # Until the child finishes, "pending_from" tells a later start that this span is missing.
        begins = min(seg.start for seg in segments)
        self._write_state(self._read_state(), pending_from=begins)
        argv = self.history_argv(segments)
        log = (self.paths.run / "backfill.log").open("ab")
        self.history = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()
        self.log(f"backfilling {_span(segments)} of older history in the background (pid {self.history.pid})")

        def watch(proc: subprocess.Popen[bytes] = self.history) -> None:
            if proc.wait() == 0 and not self._stopped.is_set():
                state = self._read_state()
                state.pop("pending_from", None)
                known = state.get("history_from")
                self._write_state(state, history_from=begins if known is None else min(known, begins))

        self._spawn(watch, "zeta-demo-history")

    def _heartbeat(self) -> None:
        # Remember how far the kept data reaches, so a later start backfills only the gap.
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            if (
                self.prometheus is not None
                and self.prometheus.process is not None
                and self.prometheus.process.poll() is None
            ):
                self._write_state(self._read_state(), live_until=self.clock())

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- state -------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.paths.state.read_text()))
        except (OSError, ValueError):
            return {}

    def _write_state(self, state: dict[str, Any], **changes: Any) -> None:
        new = {
            **state,
            **changes,
            "seed": self.world.seed,
            "namespace": self.world.namespace,
            "incident_shift": self.world.incident_shift,
        }
        tmp = self.paths.state.with_suffix(".tmp")
        self.paths.root.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(new))
        os.replace(tmp, self.paths.state)

    # --- stop --------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every child and thread; safe to call more than once and from atexit."""
        with self._stop_lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            history, self.history = self.history, None
            if history is not None and history.poll() is None:
                try:
                    os.killpg(history.pid, signal.SIGKILL)  # half-written staging is discarded next start
                except ProcessLookupError:
                    pass
                history.wait()
            was_running = self.prometheus is not None and self.prometheus.process is not None
            # Ask everything to stop at once, then wait for each: one after another, each with
            # its own patience, could outlast the patience of whoever sent the SIGTERM.
            for server in (self.prometheus, self.alertmanager):
                if server is not None:
                    server.terminate()
            for writer in (self.traces, self.usage, self.events, self.logs):
                if writer is not None:
                    writer.halt()
            if self.prometheus is not None:
                self.prometheus.stop()
            if self.alertmanager is not None:
                self.alertmanager.stop()
            if self.alert_sink is not None:
                self.alert_sink.stop()
            if self.exporter is not None:
                self.exporter.stop()
            if self.traces is not None:
                self.traces.stop(close=False)  # the store's session is shared: the log writer closes it
            if self.usage is not None:
                self.usage.stop()  # its own session; the shared one is the log writer's
            if self.events is not None:
                self.events.stop()  # likewise
            if self.logs is not None:
                self.logs.stop()
            if was_running:
                self._write_state(self._read_state(), live_until=self.clock())
            self.lock.release()

    def config(self, user: ZetaConfig | None = None, *, with_prometheus: bool = True) -> ZetaConfig:
        """A config with one context, ``demo``, on this stack's Prometheus (theme and keys from ``user``)."""
        context = ContextConfig(
            production=False,
            refresh_seconds=10,
            namespace=self.world.namespace,
            prometheus=PrometheusConfig(url=self.prometheus_url) if with_prometheus else None,
            logs=LogsConfig(kind="clickhouse", path=str(self.paths.store)) if self.logs is not None else None,
            traces=TracesConfig(kind="clickhouse", path=str(self.paths.store)) if self.traces is not None else None,
            clickhouse=ClickHouseConfig(path=str(self.paths.store)) if self.usage is not None else None,
            alertmanager=AlertmanagerConfig(url=self.alertmanager_url) if self.alertmanager_url else None,
        )
        looks = {"theme": user.theme, "keymap": dict(user.keymap)} if user is not None else {}
        return ZetaConfig(default_context=DEMO_CONTEXT, contexts={DEMO_CONTEXT: context}, **looks)


def _span(segments: list[Segment]) -> str:
    seconds = max(s.end for s in segments) - min(s.start for s in segments)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h" if seconds < 2 * 86400 else f"{seconds / 86400:.1f}d"
