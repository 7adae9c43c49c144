"""The demo's store writers: the present first, history filling in behind it.

A writer (``LiveLogWriter``, ``LiveTraceWriter``, ``LiveUsageWriter``) keeps one kind of the
world's data current in the embedded store while `zeta demo` runs, with two threads:

- The **live** thread starts at once. Every ``tick_seconds`` it writes the requests stamped
  before the last whole second that it has not written yet, in timestamp order, so a request is
  searchable a second or two after it happens, from the first seconds of a fresh demo. A 15 s
  step's requests are generated when the step begins (the world is a function of time, so they
  are known in advance) and written as their time passes.
- The **history** thread fills what the store lacks before the live thread's start, newest
  window first, from a child process (``python -m <child_module>``, at nice 10) whose rows it
  inserts a whole window at a time. The thread runs at nice 10 and so do ClickHouse's threads
  for its inserts (``os_thread_priority``). Once the fill is done it keeps house: it prunes
  old history and, for usage, re-writes today's cost.

Each thread has a chdb session of its own on the store. Queries on one session run one at a time
(and chdb keeps a query's parameters in its session), so when the writers shared the process's
session, a live insert waited behind a history window's 20 MB insert, and each writer's live
steps waited for its whole history fill: a fresh demo showed minutes-old logs. Several sessions
of one process run side by side; the live thread waits on nothing the history thread holds.

What is written is recorded, so that a demo stopped at any moment resumes without writing a
request twice or leaving one out (``plan``):

- a history window is inserted only with its end marker, and recorded in ``<table>_coverage``
  as (a, b]: the requests of the steps whose scrape falls in (a, b], i.e. stamped in [a, b) on
  the 15 s grid;
- the live thread records its start B (a step boundary) as the empty window (B, B] before its
  first insert, and writes whole seconds in timestamp order. So at the next start, with E the
  newest end recorded and N the newest record's time, every request from E up to the whole
  second after N is in the store: the steps ending in (E, S] (S: the start of N's step) are
  recorded as covered, and the requests of N's step stamped before the second after N are
  skipped when that step is generated again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.errors import ZetaError

#: How often the live thread writes: a request is in the store at most this long (plus the
#: rest of its second and the insert) after it happens.
TICK_SECONDS = 2.0
#: The history child and the history thread's inserts run at this niceness.
HISTORY_NICE = 10
COVERED = b"#covered "  # the child's marker after each window it printed in full
CHILD_BATCH_ROWS = 20_000  # rows the child writes at once: a window is streamed, not held


class Stamped(Protocol):
    """A record a writer writes: requests (requests.py) or product events (events.py)."""

    @property
    def timestamp_ns(self) -> int: ...


R = TypeVar("R", bound=Stamped)


class Generator(Protocol):
    """What generates a writer's records for a window of 15 s steps (WorldRequests, WorldEvents)."""

    world: TeamZetaWorld
    sample_every: int

    def generate(self, start: float, end: float) -> Iterator[Any]: ...


def missing_windows(start: float, end: float, spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of (start, end] that no span (a, b] covers, oldest first."""
    gaps, edge = [], start
    for a, b in sorted(spans):
        if a > edge:
            gaps.append((edge, min(a, end)))
        edge = max(edge, b)
        if edge >= end:
            break
    if edge < end:
        gaps.append((edge, end))
    return [(a, b) for a, b in gaps if b > a]


@dataclass(frozen=True)
class Plan:
    """What one start of a writer writes (see the module docstring)."""

    #: the history windows to fill, oldest first
    gaps: list[tuple[float, float]]
    #: where the live thread begins: the start of the step holding the start time (s)
    live_from: int
    #: requests stamped in [skip[0], skip[1]) ns are in the store already (a previous run's last step)
    skip: tuple[int, int] = (0, 0)
    #: windows to record as covered before anything is written
    marks: list[tuple[float, float]] = field(default_factory=list)


def plan(now: float, history_from: float, spans: list[tuple[float, float]], newest_ns: int | None) -> Plan:
    """What a writer starting at ``now`` writes, given the recorded windows and the newest record's time."""
    live_from = int(now) // STEP_SECONDS * STEP_SECONDS
    spans, marks = list(spans), []
    skip = (0, 0)
    if newest_ns is not None:
        step = newest_ns // 10**9 // STEP_SECONDS * STEP_SECONDS
        skip = (step * 10**9, (newest_ns // 10**9 + 1) * 10**9)
        edge = max((b for _, b in spans), default=history_from)
        if step > edge:  # written by a live writer since the newest recorded end
            marks.append((edge, float(step)))
            spans.append((edge, float(step)))
    marks.append((float(live_from), float(live_from)))
    return Plan(missing_windows(history_from, live_from, spans), live_from, skip, marks)


def skipping(requests: Iterable[R], skip: tuple[int, int]) -> Iterator[R]:
    """``requests`` without those stamped in [skip[0], skip[1]) ns."""
    a, b = skip
    return (r for r in requests if not a <= r.timestamp_ns < b)


def lower_this_threads_priority() -> None:
    """Nice the calling thread (Linux: a thread's niceness is its own); elsewhere nothing."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HISTORY_NICE)
        except OSError:
            pass


class StoreWriter:
    """Keeps one kind of the world's data current in the demo's store: live thread first, history behind it.

    Subclasses say what the store is (``open_store``), which module generates history
    (``child_module``), in what windows (``chunk_seconds``) and how far back
    (``history_from``).
    """

    child_module = ""
    chunk_seconds = 600.0
    noun = "record"
    #: what it writes, in messages ("demo logs: ...")
    what = "records"
    #: how often the live thread writes
    tick_seconds = TICK_SECONDS
    #: how often the history thread keeps house once the fill is done
    housekeeping_seconds = 60.0
    #: how often history is pruned
    prune_seconds = 3600.0
    #: open the store in the live thread, not in ``start``: the console draws without waiting for
    #: the writer's tables to be made (usage, events), and a store that cannot be opened stops
    #: this writer only (its screens show the store as it is)
    opens_in_thread = False

    def __init__(
        self,
        world: TeamZetaWorld,
        path: str | Path,
        *,
        sample_every: int,
        history_seconds: float,
        fresh: bool = False,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.requests: Generator = self.generator(world, sample_every)
        self.path, self.history_seconds, self.fresh = path, history_seconds, fresh
        self.clock, self.log = clock, log
        self.store: Any = None  # the live thread's store (its own session)
        self.history: Any = None  # the history thread's store (its own session, lower priority)
        self.plan: Plan | None = None
        self.written_live = self.written_history = 0
        self.live = threading.Event()  # set once the live thread has written its first tick
        self.caught_up = threading.Event()  # set once the history fill is done (or given up)
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._history_go = threading.Event()  # the history thread waits for this (``release_history``)
        self._next_step = 0  # the next step the live thread generates (its start, s)
        self._due: list[Any] = []  # generated (requests or events), not yet written, by timestamp
        self._pruned_at = 0.0
        self._child: subprocess.Popen[bytes] | None = None  # the history generator while one runs

    @property
    def written(self) -> int:
        """Rows written by both threads since the start."""
        return self.written_live + self.written_history

    # --- what subclasses provide ----------------------------------------------------------

    def generator(self, world: TeamZetaWorld, sample_every: int) -> Generator:
        """What generates the records (the world's requests; product events for the event writer)."""
        return WorldRequests(world, sample_every)

    def open_store(self, session: Any) -> Any:
        """The store on ``session`` (tables created)."""
        raise NotImplementedError

    def open_history(self) -> Any:
        """The history thread's store: the live one on a session of its own, at lower priority."""
        return self.store.sibling({"os_thread_priority": HISTORY_NICE})

    def history_from(self, now: float) -> float:
        """Where the kept history begins."""
        return now - self.history_seconds

    def before_fill(self) -> None:
        """Work of the history thread before the fill (usage writes its tenants)."""

    # --- start and stop -------------------------------------------------------------------

    def start(self, *, history: bool = True) -> Self:
        """Open the store here (so a store held elsewhere raises ConfigError now; with
        ``opens_in_thread``, in the live thread instead), then start the live thread, which starts
        the history thread once it has planned. With ``history`` False the history thread waits
        for ``release_history`` (the demo first gets Prometheus going)."""
        if not self.opens_in_thread:
            self.open()
        if history:
            self.release_history()
        return self.start_threads()

    def release_history(self) -> None:
        """Let the history thread begin its fill."""
        self._history_go.set()

    def open(self) -> None:
        """Open the live store (emptied with ``fresh``) and the history store, each on its own session."""
        if self.store is None:
            self.store = self.open_store(None)
            if self.fresh:
                self.store.truncate()
        if self.history is None:
            self.history = self.open_history()

    def start_threads(self) -> Self:
        thread = threading.Thread(target=self._run_live, name=f"zeta-demo-{self.noun}-live", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def _run_live(self) -> None:
        try:
            self.open()  # done already unless opens_in_thread
        except Exception as e:  # keep the demo running; the screens show the store as it is
            self._failed("open", e)
            self.live.set()
            self.caught_up.set()
            return
        try:
            self.begin(self.clock())
            history = threading.Thread(target=self._run_history, name=f"zeta-demo-{self.noun}-history", daemon=True)
            self._threads.append(history)
            history.start()
            while True:
                self.tick()
                self.live.set()
                if self._stop.wait(self.tick_seconds - self.clock() % self.tick_seconds + 0.1):
                    break
        except Exception as e:  # keep the demo running; the screens show the store as it is
            self._failed("live", e)
        finally:
            self.live.set()
            if len(self._threads) < 2:  # no history thread will say it is done
                self.caught_up.set()

    def _run_history(self) -> None:
        try:
            lower_this_threads_priority()
            self._history_go.wait()  # halt() sets it too
            if self._stop.is_set():
                return
            self.before_fill()
            self.fill()
            while not self._stop.wait(self.housekeeping_seconds):
                self.housekeeping(self.clock())
        except Exception as e:
            self._failed("history", e)
        finally:
            self.caught_up.set()

    def _failed(self, part: str, e: Exception) -> None:
        if not self._stop.is_set():
            self.error = self.error or e
            self.log(f"demo {self.what} ({part}) stopped: {e}")

    def halt(self) -> None:
        """Ask both threads to stop and kill the generating child, without waiting (``stop`` waits)."""
        self._stop.set()
        self._history_go.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()

    def join(self, timeout: float) -> bool:
        """Wait for both threads (``timeout`` for all); whether they ended."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop writing and close both stores' sessions and the process's shared one (call once
        the console of this process is gone). A thread still inside an insert keeps its session
        to the process exit."""
        self.halt()
        if not self.join(timeout):
            return
        if self.history is not None:
            self.history.close_own()
        if self.store is not None:
            self.store.close()

    # --- the plan and the live thread -------------------------------------------------------

    def begin(self, now: float) -> Plan:
        """Plan this start (see ``plan``), record its marks, and set the live thread's starting point."""
        assert self.store is not None
        self.plan = plan(now, self.history_from(now), self.store.covered(), self.store.newest_ns())
        for a, b in self.plan.marks:
            self.store.mark_written(a, b)
        self._next_step, self._due = self.plan.live_from, []
        return self.plan

    def tick(self) -> int:
        """Write the requests stamped before the last whole second that are not written yet."""
        assert self.store is not None and self.plan is not None
        cut = int(self.clock()) * 10**9
        while self._next_step * 10**9 < cut:  # a step that has begun: generate all of it
            step = self.requests.generate(self._next_step, self._next_step + STEP_SECONDS)
            self._due.extend(sorted(skipping(step, self.plan.skip), key=lambda r: r.timestamp_ns))
            self._next_step += STEP_SECONDS
        at = bisect_left(self._due, cut, key=lambda r: r.timestamp_ns)
        due, self._due = self._due[:at], self._due[at:]
        n = self.store.insert(due) if due else 0
        self.written_live += n
        return n

    # --- the history thread ----------------------------------------------------------------

    def fill(self) -> None:
        """Write the history windows of the plan, newest first, each from a child process."""
        assert self.history is not None and self.plan is not None
        began = time.monotonic()
        for start, end in reversed(self.plan.gaps):
            if self._stop.is_set():
                break
            self.written_history += self._fill_from_child(start, end)
        self.caught_up.set()
        took = time.monotonic() - began
        if self._stop.is_set():
            self.log(f"demo {self.what}: history stopped after {took:.1f}s; the next start goes on with it")
            return
        self.log(f"demo {self.what}: {self.written_history} rows of history written in {took:.1f}s")
        self.housekeeping(self.clock())

    def housekeeping(self, now: float) -> None:
        """Prune once every ``prune_seconds`` (the history thread, after the fill)."""
        if now - self._pruned_at >= self.prune_seconds:
            self.prune(now)
            self._pruned_at = now

    def prune(self, now: float) -> None:
        self.history.prune(now, self.history_seconds)

    def child_argv(self, start: float, end: float) -> list[str]:
        """The command line of the child generating (start, end]: the same world (seed, namespace,
        incident shift) and sampling as this writer's, and the requests to skip."""
        world = self.requests.world
        argv = [
            sys.executable,
            "-m",
            self.child_module,
            "--seed",
            str(world.seed),
            "--namespace",
            world.namespace,
            "--incident-shift",
            str(world.incident_shift),
            "--sample-every",
            str(self.requests.sample_every),
            "--start",
            repr(start),
            "--end",
            repr(end),
            "--chunk",
            repr(self.chunk_seconds),
        ]
        if self.plan is not None and self.plan.skip[1] > self.plan.skip[0]:
            argv += ["--skip", f"{self.plan.skip[0]}:{self.plan.skip[1]}"]
        return argv

    def _fill_from_child(self, start: float, end: float) -> int:
        """Write (start, end] generated by a child process: hours of history are seconds of pure
        Python each, which in a thread would take the GIL from the console and the live thread."""
        argv = self.child_argv(start, end)
        # Its own session: Ctrl+C in the terminal is for the demo, which stops the child itself.
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
        self._child = proc
        if self._stop.is_set():  # halt() came between the check and the start
            proc.kill()
        assert proc.stdout is not None
        written, buf = 0, b""
        try:
            while not self._stop.is_set():
                block = proc.stdout.read(8 << 20)
                if not block:
                    break
                n, buf = self._consume(buf + block)
                written += n
        finally:
            if self._stop.is_set():
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if code != 0 and not self._stop.is_set():
            raise ZetaError(f"the demo {self.noun} generator exited with status {code}", where=" ".join(argv[:3]))
        return written

    def _consume(self, buf: bytes) -> tuple[int, bytes]:
        """Insert each whole window of ``buf`` (its rows up to its ``#covered a b`` line) and record
        it; returns (rows, rest).

        Rows wait for their window's marker: a fill stopped mid-window leaves none of that
        window, which the next start generates again (rows without their marker would be
        written twice). The child's windows are small enough (``chunk_seconds``) to hold.
        """
        written = 0
        while (at := buf.find(COVERED)) >= 0 and (end := buf.find(b"\n", at)) >= 0:
            rows = buf[:at].rstrip(b"\n")
            if rows:
                written += self.history.insert_lines(rows)
            _, a, b = buf[at:end].split()
            self.covered(float(a), float(b))
            buf = buf[end + 1 :]
        return written, buf

    def covered(self, start: float, end: float) -> None:
        """A window of the child's is in: record it."""
        self.history.mark_covered(start, end)


def child_arguments(parser: Any, chunk: float, sample_every: int) -> None:
    """The history child's command-line arguments (``StoreWriter.child_argv`` writes them)."""
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--incident-shift", type=int, default=0)
    parser.add_argument("--sample-every", type=int, default=sample_every)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--chunk", type=float, default=chunk, help="seconds of world time a window")
    parser.add_argument(
        "--skip",
        type=lambda text: tuple(int(x) for x in text.split(":")),
        default=(0, 0),
        help="FROM_NS:TO_NS: requests stamped in this span are written already",
    )


def print_windows(args: Any, rows_of: Callable[[float, float], Iterable[bytes]]) -> int:
    """The history child's output: for each of ``child_windows``' windows, its rows (JSONEachRow
    lines, ``rows_of(lower, edge)``) in batches, so a window is streamed and not held, then its
    COVERED marker. Returns the exit status (0 also when the demo stopped reading)."""
    out = sys.stdout.buffer
    try:
        for lower, edge in child_windows(args.start, args.end, args.chunk):
            batch: list[bytes] = []
            for row in rows_of(lower, edge):
                batch.append(row)
                if len(batch) >= CHILD_BATCH_ROWS:
                    out.write(b"\n".join(batch) + b"\n")
                    batch = []
            if batch:
                out.write(b"\n".join(batch) + b"\n")
            out.write(COVERED + f"{lower!r} {edge!r}\n".encode())
            out.flush()
    except BrokenPipeError:  # the demo stopped
        pass
    return 0


def child_windows(start: float, end: float, chunk: float) -> Iterator[tuple[float, float]]:
    """The history child's windows over (start, end], newest first, at lower priority from the first.

    The console looks at recent data first, and the live thread and the console come before
    history on a busy machine."""
    try:
        os.nice(HISTORY_NICE)
    except OSError:
        pass
    edge = end
    while edge > start:
        lower = max(start, edge - chunk)
        yield lower, edge
        edge = lower
