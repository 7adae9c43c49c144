"""The demo's embedded log store: the world's requests in an ``otel_logs`` table under chdb.

``WorldLogStore(path)`` opens (or creates) the store, creates the table from
``queries/clickhouse/otel_logs.sql``, writes windows of world requests
(``write_window``; the live writer of ``zeta demo`` calls it once per scrape step) and keeps
history bounded by dropping hourly partitions older than ``HISTORY_SECONDS`` (``prune``).

The store is opened through the process-wide chdb session of the ClickHouse log source, so
the console in the same process reads what the writer writes; a store held by another
process is a ConfigError naming that process.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequest, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.errors import ZetaError
from zeta_tui.resources import shipped_dir

#: The demo logs one request in this many (see requests.py): ~30 records/s on average, ~50 at
#: peak, ~2.7 million records and ~160 MB a day (every request would be ten times that).
DEMO_SAMPLE_EVERY = 10
#: How much log history the demo keeps.
HISTORY_SECONDS = 24 * 3600
_SEVERITY = {"INFO": 9, "WARN": 13, "ERROR": 17}
_PARTITION_ID = re.compile(r"[0-9A-Za-z_-]+")


def schema_sql() -> str:
    """The otel_logs CREATE TABLE ({database:Identifier}.{table:Identifier} parameters)."""
    return (shipped_dir("queries") / "clickhouse" / "otel_logs.sql").read_text()


def otel_row(r: WorldRequest, namespace: str, sample_every: int = 1) -> dict[str, object]:
    """One request as an otel_logs row (for INSERT ... FORMAT JSONEachRow).

    ``zeta.sample_every`` in the resource says how many requests each record stands for, so a
    reader comparing log counts with the metrics knows the ratio.
    """
    sec, ns = divmod(r.timestamp_ns, 1_000_000_000)
    return {
        "Timestamp": f"{sec}.{ns:09d}",
        "TraceId": r.trace_id,
        "SpanId": r.span_id,
        "TraceFlags": 1,
        "SeverityText": r.level,
        "SeverityNumber": _SEVERITY[r.level],
        "ServiceName": r.service,
        "Body": r.message,
        "ResourceAttributes": {
            "service.name": r.service,
            "service.namespace": namespace,
            "service.instance.id": r.instance,
            "zeta.sample_every": str(sample_every),
        },
        "ScopeName": "zeta-demo",
        "LogAttributes": {
            "tenant_id": r.tenant_id,
            "user_id": r.user_id,
            "endpoint": r.endpoint,
            "method": r.method,
            "status_code": str(r.status_code),
            "latency_ms": str(r.latency_ms),
            "context.user_agent": r.user_agent,
            "context.ip_address": r.ip_address,
            "context.api_key_id": r.api_key_id,
        },
    }


class WorldLogStore:
    """An embedded chdb store holding the world's logs in ``database.table``."""

    def __init__(
        self,
        path: str | Path,
        *,
        database: str = "default",
        table: str = "otel_logs",
        namespace: str = "production",
        sample_every: int = 1,
    ) -> None:
        self.path = str(Path(path).expanduser())
        self.database, self.table, self.namespace, self.sample_every = database, table, namespace, sample_every
        self.session = embedded_session(self.path, create=True)
        self._query(schema_sql())
        # Which windows of world time the table holds, so a fill stopped halfway resumes there.
        self._query(
            "CREATE TABLE IF NOT EXISTS {database:Identifier}.{coverage:Identifier} (start Float64, end Float64) "
            "ENGINE = MergeTree ORDER BY start"
        )

    #: what the store holds, for messages
    noun = "log"

    def _identifiers(self) -> dict[str, str]:
        """The {name:Identifier} parameters every query of the store may use."""
        return {"database": self.database, "table": self.table, "coverage": f"{self.table}_coverage"}

    def _query(self, sql: str, fmt: str = "CSV", **params: object) -> str:
        try:
            out = self.session.query(sql, fmt, params={**self._identifiers(), **params})
        except Exception as e:
            raise ZetaError(
                str(e).strip().splitlines()[0],
                where=self.path,
                hint=f"the demo {self.noun} store may be damaged; delete it to rebuild",
            ) from e
        return out.bytes().decode() if hasattr(out, "bytes") else str(out)

    def rows(self, requests: Iterable[WorldRequest]) -> Iterator[dict[str, object]]:
        """The table rows of ``requests`` (one a request here)."""
        return (otel_row(r, self.namespace, self.sample_every) for r in requests)

    def insert(self, requests: Iterable[WorldRequest], batch: int = 50_000) -> int:
        """Insert the rows of ``requests`` in batches; returns how many rows were written."""
        import orjson

        head = "INSERT INTO {database:Identifier}.{table:Identifier} FORMAT JSONEachRow\n"
        written, lines = 0, []
        for row in self.rows(requests):
            lines.append(orjson.dumps(row))
            if len(lines) >= batch:
                self._query(head + b"\n".join(lines).decode())
                written += len(lines)
                lines = []
        if lines:
            self._query(head + b"\n".join(lines).decode())
            written += len(lines)
        return written

    def insert_lines(self, lines: bytes) -> int:
        """Insert ready-made JSONEachRow rows (newline-separated); returns how many."""
        self._query("INSERT INTO {database:Identifier}.{table:Identifier} FORMAT JSONEachRow\n" + lines.decode())
        return lines.count(b"\n") + 1

    def write_window(self, requests: WorldRequests, start: float, end: float) -> int:
        """Write the world's requests of the steps scraped in (start, end] (see WorldRequests.generate)."""
        return self.insert(requests.generate(start, end))

    def mark_covered(self, start: float, end: float) -> None:
        """Record that the world's requests of (start, end] are all in the table."""
        self._query(
            "INSERT INTO {database:Identifier}.{coverage:Identifier} VALUES ({a:Float64}, {b:Float64})", a=start, b=end
        )

    def covered(self) -> list[tuple[float, float]]:
        """The windows recorded by mark_covered, by start."""
        out = self._query("SELECT start, end FROM {database:Identifier}.{coverage:Identifier} ORDER BY start")
        return [(float(a), float(b)) for a, b in (line.split(",") for line in out.split())]

    def newest_ns(self) -> int | None:
        """Timestamp (ns) of the newest record, or None for an empty table (where to resume)."""
        out = self._query(
            "SELECT count(), toUnixTimestamp64Nano(max(Timestamp)) FROM {database:Identifier}.{table:Identifier}"
        ).strip()
        count, newest = out.split(",")
        return int(newest) if int(count) else None

    def count(self) -> int:
        return int(self._query("SELECT count() FROM {database:Identifier}.{table:Identifier}").strip())

    def prune(self, now: float, keep_seconds: float = HISTORY_SECONDS) -> int:
        """Drop the hourly partitions wholly older than ``now - keep_seconds``; returns how many."""
        return self.drop_partitions_before(self.table, int(now - keep_seconds))

    def drop_partitions_before(
        self, table: str, cutoff: int | str, newest: str = "toUnixTimestamp(max_time)", kind: str = "Int64"
    ) -> int:
        """Drop ``table``'s partitions whose newest row (``newest`` of their parts: max_time, or
        max_date for a Date key) is older than ``cutoff``; returns how many. A partition is judged
        by all its parts: one old part says nothing of the rows in the others."""
        out = self._query(
            "SELECT partition_id FROM system.parts WHERE database = {database:String} "
            f"AND table = {{name:String}} AND active GROUP BY partition_id HAVING max({newest}) < {{cutoff:{kind}}}",
            name=table,
            cutoff=cutoff,
        )
        ids = [line.strip().strip('"') for line in out.splitlines() if line.strip()]
        for pid in ids:
            if _PARTITION_ID.fullmatch(pid):  # ids come from the server, not users; checked anyway
                self._query(
                    f"ALTER TABLE {{database:Identifier}}.{{name:Identifier}} DROP PARTITION ID '{pid}'", name=table
                )
        return len(ids)

    def disk_bytes(self) -> int:
        """Bytes the table's active parts take on disk."""
        out = self._query(
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {database:String} "
            "AND table = {table:String} AND active"
        )
        return int(out.strip() or 0)

    def close(self) -> None:
        """Close the process's session on the store (the console sharing it loses it too)."""
        close_embedded_session(self.path)


_COVERED = b"#covered "  # the child's marker after each window it printed in full


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


class LiveLogWriter:
    """Keeps the demo's log store current while ``zeta demo`` runs, in one background thread.

    On start it fills the gap since the newest stored record (at most ``history_seconds``):
    the last hour first, so the Logs screen has data at once, then the older part, generated
    by a child process (``python -m zeta_tui.demo.log_store``) and inserted here; then it
    writes each scrape step as it ends and prunes hourly. Windows are consecutive (a, b], so
    no request is written twice. A child's window is inserted whole with its record
    (``mark_covered``), so a fill stopped halfway (a demo quit after a few seconds) is completed
    by the next start and nothing is written twice.
    """

    def __init__(
        self,
        world: TeamZetaWorld,
        path: str | Path,
        *,
        sample_every: int = DEMO_SAMPLE_EVERY,
        history_seconds: float = HISTORY_SECONDS,
        fresh: bool = False,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.requests = WorldRequests(world, sample_every)
        self.path, self.history_seconds, self.fresh = path, history_seconds, fresh
        self.clock, self.log = clock, log
        self.store: WorldLogStore | None = None
        self.written = 0
        self.caught_up = threading.Event()  # set once the gap is filled and live writing began
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = 0.0
        self._pruned_at = 0.0
        self._child: subprocess.Popen[bytes] | None = None  # a history generator while one runs

    def start(self) -> LiveLogWriter:
        """Open the store here (so a store held elsewhere raises ConfigError now), then write in a thread."""
        self.store = WorldLogStore(
            self.path, namespace=self.requests.world.namespace, sample_every=self.requests.sample_every
        )
        if self.fresh:
            self.store._query("TRUNCATE TABLE {database:Identifier}.{table:Identifier}")
        self._thread = threading.Thread(target=self._run, name="zeta-demo-logs", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.fill()
            while not self._stop.wait(STEP_SECONDS - self.clock() % STEP_SECONDS + 0.5):
                self.tick()
        except Exception as e:  # keep the demo running; the Logs screen shows the store as it is
            self.error = e
            self.log(f"demo {self.noun}s stopped: {e}")
        finally:
            self.caught_up.set()

    def fill(self) -> None:
        """Write what the store lacks up to now: the last hour, then older history, newest first."""
        assert self.store is not None
        now = self.clock()
        spans = self.store.covered()
        newest = self.store.newest_ns()
        if newest is not None:
            # Live writing after the last fill covered every step up to the one holding the newest record.
            edge = (newest // 10**9 // STEP_SECONDS + 1) * STEP_SECONDS
            spans.append((max((b for _, b in spans), default=now - self.history_seconds), edge))
        gaps = missing_windows(now - self.history_seconds, now, spans)
        began = time.monotonic()
        if gaps and gaps[-1][1] == now:
            start, _ = gaps.pop()
            split = max(start, now - 3600)
            self.written += self.store.write_window(self.requests, split, now)
            self.store.mark_covered(split, now)
            if split > start:
                gaps.append((start, split))
        self._last = now
        self.caught_up.set()
        for start, end in reversed(gaps):
            if self._stop.is_set():
                break
            self.written += self._fill_from_child(start, end)
        self.log(f"demo {self.noun}s: {self.written} rows written in {time.monotonic() - began:.1f}s")
        self._prune(now)

    #: the module run as ``python -m`` to generate history (its main prints rows, see main below)
    child_module = "zeta_tui.demo.log_store"
    #: the child's window: its rows are held here until the window's marker (10 min of logs: ~20 MB)
    chunk_seconds = 600.0
    #: what it writes, for messages
    noun = "log"

    def child_argv(self, start: float, end: float) -> list[str]:
        """The command line of the child generating (start, end]: the same world (seed, namespace,
        incident shift) and sampling as this writer's."""
        world = self.requests.world
        return [
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

    def _fill_from_child(self, start: float, end: float) -> int:
        """Write (start, end] generated by a child process: hours of history are ~1.7 s of pure
        Python each, which in a thread would take the GIL from the console for a minute or two."""
        assert self.store is not None
        argv = self.child_argv(start, end)
        # Its own session: Ctrl+C in the terminal is for the demo, which stops the child itself.
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
        self._child = proc
        if self._stop.is_set():  # stop() came between the check and the start
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
        assert self.store is not None
        written = 0
        while (at := buf.find(_COVERED)) >= 0 and (end := buf.find(b"\n", at)) >= 0:
            rows = buf[:at].rstrip(b"\n")
            if rows:
                written += self.store.insert_lines(rows)
            _, a, b = buf[at:end].split()
            self.covered(float(a), float(b))
            buf = buf[end + 1 :]
        return written, buf

    def covered(self, start: float, end: float) -> None:
        """A window of the child's is in: record it."""
        assert self.store is not None
        self.store.mark_covered(start, end)

    def tick(self) -> int:
        """Write the steps scraped since the last write; prune once an hour."""
        assert self.store is not None
        now = self.clock()
        n = self.store.write_window(self.requests, self._last, now) if now > self._last else 0
        self._last = max(self._last, now)
        self.written += n
        if now - self._pruned_at >= 3600:
            self._prune(now)
        return n

    def _prune(self, now: float) -> None:
        assert self.store is not None
        self.store.prune(now, self.history_seconds)
        self._pruned_at = now

    def halt(self) -> None:
        """Ask the writer to stop and kill its generating child, without waiting (``stop`` waits)."""
        self._stop.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop writing and close the store (call once the console of this process is gone).

        A generating child is killed first: the thread may be waiting for its output.
        """
        self.halt()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return  # still inside an insert: leave the session to the process exit
        if self.store is not None:
            self.store.close()


def main(argv: list[str] | None = None) -> int:
    """Print the world's log rows (JSONEachRow) for (start, end]: the child of LiveLogWriter."""
    import orjson

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--incident-shift", type=int, default=0)
    parser.add_argument("--sample-every", type=int, default=DEMO_SAMPLE_EVERY)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument(
        "--chunk", type=float, default=LiveLogWriter.chunk_seconds, help="seconds of world time a window"
    )
    args = parser.parse_args(argv)
    requests = WorldRequests(
        TeamZetaWorld(args.seed, args.namespace, incident_shift=args.incident_shift), args.sample_every
    )
    out = sys.stdout.buffer
    edge = args.end
    try:
        while edge > args.start:  # newest first, as the console looks at recent logs first
            lower = max(args.start, edge - args.chunk)
            rows = [
                orjson.dumps(otel_row(r, args.namespace, args.sample_every)) for r in requests.generate(lower, edge)
            ]
            if rows:
                out.write(b"\n".join(rows) + b"\n")
            out.write(_COVERED + f"{lower!r} {edge!r}\n".encode())
            out.flush()
            edge = lower
    except BrokenPipeError:  # the demo stopped
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
