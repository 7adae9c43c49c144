"""The demo's embedded log store: the world's requests in an ``otel_logs`` table under chdb.

``WorldLogStore(path)`` opens (or creates) the store, creates the table from
``queries/clickhouse/otel_logs.sql``, writes world requests (``insert``, ``write_window``) and
keeps history bounded by dropping hourly partitions older than ``HISTORY_SECONDS`` (``prune``).
``LiveLogWriter`` keeps it current while `zeta demo` runs (store_writer.py: the present first,
history behind it).

The store lives in the process's embedded chdb store, which the ClickHouse log source reads, so
the console in the same process reads what the writer writes; a store held by another process
is a ConfigError naming that process. By default a store object queries through the process's
shared session; a writer's threads each pass a session of their own (``own_session``), so that
none waits behind another's queries.
"""

from __future__ import annotations

import argparse
import copy
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from zeta_tui.backends.chdb_store import close_embedded_session, close_quietly, embedded_session
from zeta_tui.demo.requests import WorldRequest, WorldRequests
from zeta_tui.demo.store_writer import (
    StoreWriter,
    child_arguments,
    missing_windows,
    print_windows,
    skipping,
)
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


__all__ = ["DEMO_SAMPLE_EVERY", "HISTORY_SECONDS", "LiveLogWriter", "WorldLogStore", "missing_windows", "own_session"]


def own_session(path: str | Path, settings: Mapping[str, object] | None = None, *, setting: str = "logs.path") -> Any:
    """A chdb session of the caller's own on the store at ``path``, with ``settings`` for its life.

    chdb 4.4 keeps a query's ``{name:Type}`` parameters in its session, so two threads running
    parameterised queries on one session mix them up ("Substitution `database` is not set",
    measured with three threads), and the process's shared session runs one query at a time.
    Several sessions on one store path work side by side in one process; the shared one is
    opened first, as it checks the store and its lock. Settings are words and numbers only.
    """
    embedded_session(path, create=True, setting=setting)
    from chdb import session as chdb_session

    key = str(Path(path).expanduser().resolve())
    if settings:
        key += "?" + "&".join(f"{name}={value}" for name, value in settings.items())
    return chdb_session.Session(key)


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
        session: Any = None,
    ) -> None:
        self.path = str(Path(path).expanduser())
        self.database, self.table, self.namespace, self.sample_every = database, table, namespace, sample_every
        self.own = session is not None
        self.session = session if session is not None else embedded_session(self.path, create=True)
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
        """Record that the world's requests of (start, end] are all in the table (a history window)."""
        self.mark_written(start, end)

    def mark_written(self, start: float, end: float) -> None:
        """Record (start, end] in the coverage table (see store_writer.py for what the live writer records)."""
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

    def truncate(self) -> None:
        """Empty the table and its coverage record."""
        for name in (self.table, f"{self.table}_coverage"):
            self._query("TRUNCATE TABLE {database:Identifier}.{name:Identifier}", name=name)

    def sibling(self, settings: Mapping[str, object] | None = None) -> Any:
        """The same store on a session of its own with ``settings`` (tables not created again)."""
        other = copy.copy(self)
        other.session, other.own = own_session(self.path, settings), True
        return other

    def close_own(self) -> None:
        """Close this object's own session, if it has one (the process's shared one stays)."""
        if self.own:
            close_quietly(self.session)

    def close(self) -> None:
        """Close this object's own session and the process's shared one (the console sharing it loses it too)."""
        self.close_own()
        close_embedded_session(self.path)


class LiveLogWriter(StoreWriter):
    """Keeps the demo's log store current while ``zeta demo`` runs: the live thread writes each
    request a second or two after it happens, from the start; the history thread fills the gap
    before it (at most ``history_seconds``, newest 10 minutes first) from a child process
    (``python -m zeta_tui.demo.log_store``) and prunes hourly. See store_writer.py.
    """

    child_module = "zeta_tui.demo.log_store"
    #: the child's window: its rows are held here until the window's marker (10 min of logs: ~20 MB)
    chunk_seconds = 600.0
    noun = "log"
    what = "logs"

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
        super().__init__(
            world, path, sample_every=sample_every, history_seconds=history_seconds, fresh=fresh, clock=clock, log=log
        )

    def open_store(self, session: Any) -> WorldLogStore:
        return WorldLogStore(
            self.path,
            namespace=self.requests.world.namespace,
            sample_every=self.requests.sample_every,
            session=session or own_session(self.path),
        )


def main(argv: list[str] | None = None) -> int:
    """Print the world's log rows (JSONEachRow) for (start, end], newest window first, each followed
    by its marker: the child of LiveLogWriter."""
    import orjson

    parser = argparse.ArgumentParser(description=main.__doc__)
    child_arguments(parser, LiveLogWriter.chunk_seconds, DEMO_SAMPLE_EVERY)
    args = parser.parse_args(argv)
    requests = WorldRequests(
        TeamZetaWorld(args.seed, args.namespace, incident_shift=args.incident_shift), args.sample_every
    )

    def rows(lower: float, edge: float) -> Iterable[bytes]:
        generated = skipping(requests.generate(lower, edge), args.skip)
        return (orjson.dumps(otel_row(r, args.namespace, args.sample_every)) for r in generated)

    return print_windows(args, rows)


if __name__ == "__main__":
    raise SystemExit(main())
