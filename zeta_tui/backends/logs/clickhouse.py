"""ClickHouseLogSource: logs in the OpenTelemetry ``otel_logs`` table, on a server or embedded.

A server (``url``) is read with clickhouse-connect; an embedded store (``path``) with chdb in
this process. Both libraries load on first use, never at start-up. Every value reaches the
server as a ``{name:Type}`` parameter: the query translator's and ours (time range, cursor,
limit); user text is never part of the SQL. Queries run read-only with a time and row limit.

chdb facts that shape this module: a store directory can be open in one process at a time
(another process gets "Cannot lock file .../status"), one process holds one store path at a
time, and one session is safe to share between threads. So sessions are shared per process
(``embedded_session``), queries run in a worker thread, and a store held by another process is
a ConfigError naming that process.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from zeta_tui.backends.logs.base import LogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.errors import BackendAuthError, BackendTimeout, BackendUnavailable, ConfigError, QueryError, ZetaError
from zeta_tui.models.logs import LogPage, LogRecord, normalise_level
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.timerange import TimeRange

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
_CODE = re.compile(r"Code: (\d+)")


@dataclass(frozen=True)
class ClickHouseFilter:
    """A WHERE condition already in SQL, with its ``{name:Type}`` parameters.

    What the log query translator produces; also accepted directly by ``search``.
    """

    where: str
    params: Mapping[str, Any] = field(default_factory=dict)


# --- embedded stores (chdb) --------------------------------------------------------------

_sessions: dict[str, Any] = {}
_sessions_lock = threading.Lock()


def store_holder(path: str | Path) -> tuple[int, str] | None:
    """(pid, command line) of another live process holding the store at ``path``, if any.

    ClickHouse writes ``PID: n`` into ``<path>/status`` while it holds the store.
    """
    try:
        text = (Path(path) / "status").read_text(errors="replace")
    except OSError:
        return None
    m = re.search(r"PID:\s*(\d+)", text)
    if not m or int(m.group(1)) == os.getpid():
        return None
    pid = int(m.group(1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a stale status file: the lock died with its process
    except PermissionError:
        pass
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmd = ""
    return pid, cmd


def _locked_error(path: str, holder: tuple[int, str] | None) -> ConfigError:
    who = f"process {holder[0]}" + (f" ({holder[1][:120]})" if holder[1] else "") if holder else "another process"
    return ConfigError(
        f"the embedded ClickHouse store {path} is in use by {who}",
        where=path,
        hint="a store can be open in one process at a time: use the console of the running `zeta demo`, "
        "stop that process, or point this context at another path",
    )


def embedded_session(path: str | Path, *, create: bool = False) -> Any:
    """The process-wide chdb session on the store at ``path`` (opened on first use)."""
    key = str(Path(path).expanduser().resolve())
    with _sessions_lock:
        if key in _sessions:
            return _sessions[key]
        if not create and not Path(key).is_dir():
            raise ConfigError(f"no embedded ClickHouse store at {key}", where=key, hint="run `zeta demo` once to create it, or fix logs.path")
        holder = store_holder(key)
        if holder is not None:
            raise _locked_error(key, holder)
        if _sessions:
            other = next(iter(_sessions))
            raise ConfigError(
                f"this process already has the embedded store {other} open; chdb holds one store per process",
                where=key, hint="use the same path for every embedded source of a context",
            )
        try:
            from chdb import session as chdb_session
        except ImportError as e:
            raise ConfigError("the embedded ClickHouse store needs the chdb package", where=key, hint="pip install chdb") from e
        Path(key).mkdir(parents=True, exist_ok=True)
        try:
            sess = chdb_session.Session(key)
        except Exception as e:  # chdb says only "Error initializing EmbeddedServer"
            raise _locked_error(key, store_holder(key)) from e
        _sessions[key] = sess
        return sess


def close_embedded_session(path: str | Path) -> None:
    """Close this process's session on ``path`` (lets the process open another store)."""
    key = str(Path(path).expanduser().resolve())
    with _sessions_lock:
        sess = _sessions.pop(key, None)
    if sess is not None:
        sess.close()


# --- the log source ----------------------------------------------------------------------

_COLUMNS = (
    "toUnixTimestamp64Nano(Timestamp) AS zeta_ns, cityHash64(ServiceName, TraceId, SpanId, Body) AS zeta_rid, "
    "SeverityText, ServiceName, Body, TraceId, SpanId, LogAttributes"
)


class ClickHouseLogSource(LogSource):
    """Records from an ``otel_logs`` table: ``LogAttributes`` become the record's fields."""

    kind = "clickhouse"

    def __init__(self, cfg: LogsConfig) -> None:
        self.cfg = cfg
        self.embedded = cfg.path is not None
        self.url = _without_credentials(cfg.url) if cfg.url else f"chdb:{cfg.path}"
        self._client: Any = None
        self._columns: frozenset[str] | None = None  # the optional columns the table has (see _detect_columns)
        self._settings = {"readonly": 1, "max_execution_time": int(max(1, cfg.timeout_seconds)), "max_result_rows": 1_000_000,
                          "result_overflow_mode": "throw"}

    # --- running SQL ----------------------------------------------------------------

    def _run(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        """Rows of a read-only SELECT (blocking; call through asyncio.to_thread)."""
        if self.embedded:
            import orjson

            sess = embedded_session(self.cfg.path or "")
            settings = ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in self._settings.items())
            try:
                # chdb reads parameter values as escaped text (clickhouse-connect escapes for us).
                from zeta_tui.querying.logquery import escape_parameters

                out = sess.query(f"{sql} SETTINGS {settings}", "JSONCompact", params=escape_parameters(dict(params)))
            except Exception as e:
                raise self._error(e) from e
            raw = out.bytes() if hasattr(out, "bytes") else bytes(out)
            return orjson.loads(raw)["data"] if raw.strip() else []
        client = self._server()
        try:
            return [list(r) for r in client.query(sql, parameters=dict(params), settings=self._settings).result_rows]
        except ZetaError:
            raise
        except Exception as e:
            raise self._error(e) from e

    def _server(self) -> Any:
        if self._client is None:
            try:
                import clickhouse_connect
            except ImportError as e:
                raise ConfigError("a ClickHouse log source needs the clickhouse-connect package", where=self.url,
                                  hint="pip install clickhouse-connect") from e
            from urllib.parse import urlsplit

            u = urlsplit(self.cfg.url or "")
            password = self.cfg.password.get_secret_value() if self.cfg.password is not None else ""
            token = self.cfg.bearer_token.get_secret_value() if self.cfg.bearer_token is not None else None
            try:
                if self.cfg.password_file:
                    password = Path(self.cfg.password_file).read_text().strip()
                if self.cfg.bearer_token_file:
                    token = Path(self.cfg.bearer_token_file).read_text().strip()
            except OSError as e:
                raise ConfigError(f"cannot read a secret file of the log source: {e.strerror}", where=str(e.filename),
                                  hint="fix logs.password_file / logs.bearer_token_file") from e
            proxy = {("https_proxy" if u.scheme == "https" else "http_proxy"): self.cfg.proxy} if self.cfg.proxy else {}
            try:
                self._client = clickhouse_connect.get_client(
                    host=u.hostname or "localhost", port=u.port or (8443 if u.scheme == "https" else 8123), secure=u.scheme == "https",
                    username=self.cfg.username or "default", password=password, access_token=token, database=self.cfg.database,
                    connect_timeout=self.cfg.timeout_seconds, send_receive_timeout=self.cfg.timeout_seconds, query_retries=0,
                    verify=not self.cfg.insecure_skip_verify, ca_cert=self.cfg.ca_file, client_cert=self.cfg.client_cert,
                    client_cert_key=self.cfg.client_key, headers=dict(self.cfg.headers) or None, proxy_path=u.path.rstrip("/"),
                    autogenerate_session_id=False, **proxy,
                )
            except TypeError:
                raise  # a programming error, not the server's answer
            except Exception as e:
                raise self._error(e) from e
        return self._client

    def _error(self, e: Exception) -> ZetaError:
        text = str(e).strip()
        first = text.splitlines()[0] if text else type(e).__name__
        m = _CODE.search(text)
        code = int(m.group(1)) if m else None
        where = self.url
        if code in (516, 192, 194, 497):
            return BackendAuthError(first, where=where, hint="check logs.username / password, and SELECT grants on the table")
        if code in (159, 209, 210) or "timed out" in text.lower() or "timeout" in type(e).__name__.lower():
            return BackendTimeout(first, where=where, hint="narrow the time range or the query, or raise logs.timeout_seconds")
        if code in (60, 81):
            return QueryError(first, where=where, hint=f"is logs.database/logs.table right ({self.cfg.database}.{self.cfg.table})? "
                              "An embedded store gets its table from `zeta demo`")
        if code is not None:
            return QueryError(first, where=where)
        return BackendUnavailable(first, where=where, hint="is the ClickHouse server running and logs.url right?")

    # --- the contract ---------------------------------------------------------------

    def _filter(self, query: Any, now: float) -> ClickHouseFilter:
        if query is None or isinstance(query, ClickHouseFilter):
            return query or ClickHouseFilter("1")
        if isinstance(query, str):
            if query.strip() in ("", "*"):
                return ClickHouseFilter("1")
            from zeta_tui.querying.logquery import parse_log_query

            query = parse_log_query(query)
        from zeta_tui.querying.logquery import to_clickhouse

        where, params = to_clickhouse(query, datetime.fromtimestamp(now, tz=timezone.utc), self.cfg.table,
                                      resource_attributes="ResourceAttributes" in (self._columns or ()))
        return ClickHouseFilter(where, params)

    def _select(self, flt: ClickHouseFilter, time_range: TimeRange, limit: int, newest_first: bool, cursor: Any) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = dict(flt.params)
        clash = [k for k in params if k.startswith("zeta_")]
        if clash:
            raise QueryError(f"query parameter names {clash} are reserved", where=self.url)
        params.update(zeta_db=self.cfg.database, zeta_table=self.cfg.table, zeta_from=int(time_range.start * 1e9),
                      zeta_to=int(time_range.end * 1e9), zeta_limit=int(limit))
        order = "DESC" if newest_first else "ASC"
        where = [
            "Timestamp >= fromUnixTimestamp64Nano({zeta_from:Int64})",
            "Timestamp <= fromUnixTimestamp64Nano({zeta_to:Int64})",
            f"({flt.where})",
        ]
        if "TimestampTime" in (self._columns or ()):
            # The exporter's tables partition and sort by TimestampTime (whole seconds); a bound
            # on it lets the server skip partitions and granules a Timestamp bound alone does not.
            where[:0] = ["TimestampTime >= toDateTime(intDiv({zeta_from:Int64}, 1000000000))",
                         "TimestampTime <= toDateTime(intDiv({zeta_to:Int64}, 1000000000))"]
        if cursor is not None:
            ns, rid = cursor
            params.update(zeta_cur_ns=int(ns), zeta_cur_rid=int(rid))
            op = "<" if newest_first else ">"
            where.append(f"(zeta_ns, zeta_rid) {op} ({{zeta_cur_ns:Int64}}, {{zeta_cur_rid:UInt64}})")
        resources = "ResourceAttributes" if "ResourceAttributes" in (self._columns or ()) else "map()"
        sql = (
            f"SELECT {_COLUMNS}, {resources} FROM {{zeta_db:Identifier}}.{{zeta_table:Identifier}} WHERE {' AND '.join(where)} "
            f"ORDER BY Timestamp {order}, zeta_rid {order} LIMIT {{zeta_limit:UInt32}}"
        )
        return sql, params

    def _detect_columns(self) -> frozenset[str]:
        """Which of the optional otel_logs columns this table has.

        TimestampTime (the seconds column current exporters partition and sort by) lets a time
        bound skip partitions; ResourceAttributes holds the collector's keys (k8s.*, host.name).
        Older or hand-made tables may lack either, and naming a missing column is an error.
        """
        rows = self._run(
            "SELECT name FROM system.columns WHERE database = {d:String} AND table = {t:String} "
            "AND name IN ('TimestampTime', 'ResourceAttributes')",
            {"d": self.cfg.database, "t": self.cfg.table})
        return frozenset(str(r[0]) for r in rows)

    async def search(self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None) -> LogPage:
        if self._columns is None:
            self._columns = await asyncio.to_thread(self._detect_columns)
        flt = self._filter(query, time_range.end)
        sql, params = self._select(flt, time_range, limit, newest_first, cursor)
        rows = await asyncio.to_thread(self._run, sql, params)
        records = [_record(r) for r in rows]
        next_cursor = None
        if len(rows) >= limit and rows:
            next_cursor = (int(rows[-1][0]), int(rows[-1][1]))
        if newest_first:
            records.reverse()
        return LogPage(tuple(records), next_cursor)

    async def check(self) -> tuple[BuildInfo, float]:
        started = time.perf_counter()
        rows = await asyncio.to_thread(self._run, "SELECT version()", {})
        flavour = "chdb" if self.embedded else "clickhouse"
        return BuildInfo(str(rows[0][0]) if rows else "", flavour=flavour), time.perf_counter() - started

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(client.close)


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    return urlunsplit(u._replace(netloc=u.netloc.rpartition("@")[2])) if "@" in u.netloc else url


def _value(text: str) -> Any:
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def _record(row: list[Any]) -> LogRecord:
    ns, rid, severity, service, body, trace_id, span_id, attributes, resources = row
    # The record's own attributes win over its resource's; service.name is the service column.
    fields = {k: _value(v) for k, v in (resources or {}).items() if k != "service.name"}
    fields.update((k, _value(v)) for k, v in (attributes or {}).items())
    return LogRecord(int(ns), normalise_level(severity), service, body, fields, trace_id, span_id, f"{int(rid):016x}")
