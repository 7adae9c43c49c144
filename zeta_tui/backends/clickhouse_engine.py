"""Running read-only SQL on ClickHouse, on a server or embedded: shared by the analytics, log and trace sources.

A server (``url``) is spoken to over its HTTP interface by zeta's own HTTP client
(clickhouse_http.py says why clickhouse-connect was dropped): each answer is read as a stream and
stops past ``max_response_bytes``, and a whole action is bounded by ``timeout_seconds``. An
embedded store (``path``) runs in this process with chdb, loaded on first use, never at
start-up; its answer is refused past the same cap before it is decoded. Values reach the
engine as ``{name:Type}`` server-side parameters only, and every query runs read-only with a
time limit, a row cap and ClickHouse's own byte cap (``max_result_bytes`` with
``result_overflow_mode = 'throw'``: ClickHouse stops a result that outgrows it; measured on
chdb 4.4, it counts the result's in-memory bytes, so zeta's cap on the answer's bytes stays the
one that holds). Large answers are decoded off the event loop.

The async methods (``rows``, ``fetch``, ``kill``) are what the sources await; ``run``,
``select`` and ``cancel`` are the same work for a blocking caller.

Embedded stores are opened and shared through chdb_store.py (one store per process, a
serialised shared session, read-only query sessions).

Arbitrary SQL (the analytics console, ``zeta sql``) goes through ``fetch``/``select``, never
``rows``/``run``: on an embedded store it runs in its own short-lived chdb session opened with
``readonly=1`` and the limits in the session's settings, so the SQL itself cannot lift them (a
query's own ``SETTINGS readonly = 0`` or ``SET`` is refused by ClickHouse, code 164). Measured
on chdb 4.4: settings appended to the SQL text can be commented out by a trailing ``--`` and do
not cover the first of several ``;``-separated statements, which chdb runs one after the other;
session settings have neither hole. On a server the settings are URL parameters, outside the
SQL, and ClickHouse's HTTP interface runs one statement per request. The row cap is
ClickHouse's ``limit`` setting (one row over the cap, to see truncation: exact, where
``max_result_rows`` with ``break`` stops at a block boundary) with ``max_result_rows`` as a
backstop. Several chdb sessions on one store path can be open in one process and run at the
same time, which is also how a running query is cancelled: another session runs ``KILL QUERY``
on it (found by its ``log_comment`` setting, chdb having no client query ids); on a server
``KILL QUERY`` goes in a request of its own, and the cancelled request is dropped.
Schema creation and the rollup's backfill (``zeta clickhouse init``) are the only writes, through ``writer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from zeta_tui.backends.chdb_store import close_quietly, embedded_session, readonly_session, release_readonly_session
from zeta_tui.backends.clickhouse_errors import ask_for_less, clickhouse_error, exception_sentence
from zeta_tui.backends.clickhouse_http import ClickHouseHttp, ClickHouseSection, parameter_text
from zeta_tui.errors import AnswerTooLarge, BackendUnavailable, QueryError, ZetaError

T = TypeVar("T")


@dataclass(frozen=True)
class ResultSet:
    """The answer to one read-only query: columns and their ClickHouse types, rows, and what it cost.

    ``truncated`` says the row cap cut the answer (``rows`` holds exactly the cap then);
    ``rows_read`` / ``bytes_read`` are what the engine read to answer (None when it did not say);
    ``note`` says where a named query's figures came from when it was not zeta's rollup.
    """

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    elapsed_s: float
    rows_read: int | None
    bytes_read: int | None
    truncated: bool
    query_id: str
    note: str = ""

    def records(self) -> list[dict[str, object]]:
        """The rows as dicts by column name."""
        return [dict(zip(self.columns, row)) for row in self.rows]


def _base_type(name: str) -> str:
    """``Nullable(LowCardinality(Date))`` -> ``Date``."""
    while True:
        m = re.fullmatch(r"(?:Nullable|LowCardinality)\((.*)\)", name)
        if not m:
            return name
        name = m.group(1)


def _typed(value: Any, ctype: str) -> Any:
    """A JSONCompact value as the Python value clickhouse-connect would give for ``ctype``."""
    if value is None:
        return None
    base = _base_type(ctype)
    if isinstance(value, str):
        if re.fullmatch(r"U?Int(64|128|256)", base):
            return int(value)
        if base in ("Date", "Date32"):
            return date.fromisoformat(value)
        if base.startswith("DateTime"):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return value
        if base.startswith("Float") and value in ("nan", "inf", "-inf"):
            return float(value)
    return value


# --- one source's connection ---------------------------------------------------------------


def without_credentials(url: str) -> str:
    """``url`` without a user name or password in it (for messages)."""
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    return urlunsplit(u._replace(netloc=u.netloc.rpartition("@")[2])) if "@" in u.netloc else url


Table = tuple[tuple[str, ...], tuple[str, ...], list[tuple[Any, ...]], "int | None", "int | None"]


class ClickHouseEngine:
    """Where one source's SQL runs: a server or an embedded store, read-only.

    ``cfg`` is a ClickHouseConfig, LogsConfig or TracesConfig (url or path, database, auth, TLS,
    timeout, max_response_bytes); ``section`` is its config section ("clickhouse", "logs",
    "traces"), named in hints.
    """

    def __init__(self, cfg: ClickHouseSection, section: str) -> None:
        self.cfg, self.section = cfg, section
        self.embedded = cfg.path is not None
        self.url = without_credentials(cfg.url) if cfg.url else f"chdb:{cfg.path}"
        #: the server's HTTP interface (None for an embedded store); no connection until the first query
        self.http: ClickHouseHttp | None = None if self.embedded else ClickHouseHttp(cfg, section)
        self.settings = {
            "readonly": 1,
            "max_execution_time": int(max(1, cfg.timeout_seconds)),
            "max_result_rows": 1_000_000,
            "max_result_bytes": int(cfg.max_response_bytes),
            "result_overflow_mode": "throw",
        }
        self._runner: asyncio.Runner | None = None  # the event loop of blocking callers on a server

    def action(self) -> Any:
        """``async with`` it around the requests of one user action: on a server they share one
        deadline of timeout_seconds (HttpBackend.action); an embedded store has max_execution_time."""
        return self.http.action() if self.http is not None else contextlib.nullcontext()

    # --- rows, for the log and trace sources --------------------------------------------

    async def rows(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        """Rows of a read-only SELECT as JSON values (64-bit integers as text)."""
        if self.http is None:
            return await asyncio.to_thread(self.run, sql, params)
        return await self.http.answer(sql, params, self.settings, build=lambda doc: doc["data"])

    def run(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        """``rows``, blocking (on an embedded store: call it through asyncio.to_thread)."""
        if self.http is not None:
            return self.blocking(lambda: self.rows(sql, params))
        import orjson

        sess = embedded_session(self.cfg.path or "", setting=f"{self.section}.path")
        settings = ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in self.settings.items())
        try:
            # chdb reads parameter values as escaped text.
            from zeta_tui.querying.logquery import escape_parameters

            out = sess.query(f"{sql} SETTINGS {settings}", "JSONCompact", params=escape_parameters(dict(params)))
        except Exception as e:
            raise self.error(e) from e
        raw = self._capped(out)
        return orjson.loads(raw)["data"] if raw.strip() else []

    # --- arbitrary read-only SQL (analytics) -------------------------------------------

    def limits(self, max_rows: int, timeout: float | None = None) -> dict[str, Any]:
        """The settings every ``fetch`` runs with: read-only, time limit, row cap (one row over, to see
        truncation) and ClickHouse's byte cap."""
        seconds = timeout if timeout is not None else self.cfg.timeout_seconds
        return {
            "readonly": 1,
            "max_execution_time": int(max(1, -(-seconds // 1))),
            "limit": int(max_rows) + 1,
            "max_result_rows": int(max_rows) + 1,
            "max_result_bytes": int(self.cfg.max_response_bytes),
            "result_overflow_mode": "throw",
        }

    async def fetch(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_rows: int,
        query_id: str | None = None,
        timeout: float | None = None,
    ) -> ResultSet:
        """Run one read-only statement.

        ClickHouse refuses writes itself (readonly = 1); at most ``max_rows`` rows come back and
        ``truncated`` says when there were more; ``max_execution_time`` bounds the time, and
        ``max_response_bytes`` the answer. Values reach the engine as ``{name:Type}`` parameters only.
        """
        if self.http is None:
            return await asyncio.to_thread(
                self.select, sql, params, max_rows=max_rows, query_id=query_id, timeout=timeout
            )
        query_id = query_id or uuid.uuid4().hex
        started = time.perf_counter()
        table = await self.http.answer(
            _statement(sql), dict(params or {}), self.limits(max_rows, timeout), query_id=query_id, build=_table
        )
        return _result(table, time.perf_counter() - started, max_rows, query_id)

    def select(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_rows: int,
        query_id: str | None = None,
        timeout: float | None = None,
    ) -> ResultSet:
        """``fetch``, blocking (on an embedded store: call it through asyncio.to_thread)."""
        if self.http is not None:
            return self.blocking(lambda: self.fetch(sql, params, max_rows=max_rows, query_id=query_id, timeout=timeout))
        query_id = query_id or uuid.uuid4().hex
        started = time.perf_counter()
        table = self._select_embedded(_statement(sql), dict(params or {}), self.limits(max_rows, timeout), query_id)
        return _result(table, time.perf_counter() - started, max_rows, query_id)

    def _select_embedded(self, sql: str, params: dict[str, Any], settings: dict[str, Any], query_id: str) -> Table:
        import orjson

        path = self.cfg.path or ""
        session_settings = {k: v for k, v in settings.items() if k != "readonly"}
        session_settings["database"] = self.cfg.database
        sess = readonly_session(path, session_settings, query_id, setting=f"{self.section}.path")
        try:
            out = sess.query(sql, "JSONCompact", params=parameter_text(params))
        except Exception as e:
            raise self.error(e) from e
        finally:
            release_readonly_session(path, query_id)
        raw = self._capped(out)
        if not raw.strip():  # SHOW CREATE of nothing, a statement with no result
            return (), (), [], _stat(out, "storage_rows_read"), _stat(out, "storage_bytes_read")
        try:
            names, types, rows, rows_read, bytes_read = _table(orjson.loads(raw))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise QueryError(
                "the answer is not the JSON table Zeta asked for; does the query end in its own FORMAT clause?",
                where=self.url,
                hint="remove FORMAT ...: the console shows and exports the result itself",
            ) from None
        # What the engine read to answer. (chdb's rows_read() / bytes_read() count the result.)
        rows_read = rows_read if rows_read is not None else _stat(out, "storage_rows_read")
        bytes_read = bytes_read if bytes_read is not None else _stat(out, "storage_bytes_read")
        return names, types, rows, rows_read, bytes_read

    def _capped(self, out: Any) -> bytes:
        """A chdb answer's bytes, or AnswerTooLarge past max_response_bytes (chdb hands it over whole:
        the cap spares the decoding, ~10 times its size in Python objects)."""
        raw = out.bytes() if hasattr(out, "bytes") else bytes(out)
        cap = int(self.cfg.max_response_bytes)
        if len(raw) > cap:
            raise AnswerTooLarge(
                f"the embedded store's answer is {_mib(len(raw))}, over the {_mib(cap)} cap; it was not read",
                where=self.url,
                hint=ask_for_less(self.section),
            )
        return raw

    # --- cancel ---------------------------------------------------------------------------

    async def kill(self, query_id: str) -> None:
        """Stop the running query ``query_id``: KILL QUERY from another session or request.

        Nothing happens when no such query runs (it ended, or never started).
        """
        if self.http is None:
            await asyncio.to_thread(self.cancel, query_id)
            return
        await self.http.answer("KILL QUERY WHERE query_id = {id:String} SYNC", {"id": query_id}, {})

    def cancel(self, query_id: str) -> None:
        """``kill``, blocking (on an embedded store: call it through asyncio.to_thread)."""
        if self.http is not None:
            self.blocking(lambda: self.kill(query_id))
            return
        path = self.cfg.path or ""
        embedded_session(path, setting=f"{self.section}.path")
        key = str(Path(path).expanduser().resolve())
        from chdb import session as chdb_session

        # Its own session, so the KILL runs beside the query rather than queued behind it.
        control = chdb_session.Session(key)
        try:
            control.query("KILL QUERY WHERE Settings['log_comment'] = {id:String} SYNC", "CSV", params={"id": query_id})
        except Exception as e:
            raise self.error(e) from e
        finally:
            close_quietly(control)

    def writer(self) -> SqlWriter:
        """A connection with write access (blocking; close it): `zeta clickhouse init` only.

        On an embedded store (created if missing) the process's shared session; on a server a
        client of its own, without the read-only settings.
        """
        if self.http is None:
            return SqlWriter(
                self, embedded_session(self.cfg.path or "", create=True, setting=f"{self.section}.path"), None
            )
        return SqlWriter(self, None, ClickHouseHttp(self.cfg, self.section))

    def blocking(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work()`` on this engine's own event loop, for a blocking caller on a server."""
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(work())  # type: ignore[arg-type]

    def error(self, e: Exception) -> ZetaError:
        """The ZetaError for what the embedded engine raised."""
        text = str(e).strip()
        code, sentence = exception_sentence(text)
        if code is not None:
            return clickhouse_error(code, sentence, where=self.url, section=self.section, cfg=self.cfg)
        first = " ".join(text.split("\n", 1)[0].split())[:300] if text else type(e).__name__
        return BackendUnavailable(first, where=self.url, hint=f"the embedded store failed: check {self.section}.path")

    async def aclose(self) -> None:
        """Close the server connections, if any. An embedded session stays: it is the process's."""
        if self.http is not None:
            await self.http.aclose()

    def close(self) -> None:
        """Close the connections of blocking callers (``run``, ``select``, ``cancel`` on a server)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            if self.http is not None:
                runner.run(self.http.aclose())
            runner.close()


class SqlWriter:
    """Statements with write access on one engine (`zeta clickhouse init`): ``run`` returns the rows of a SELECT."""

    def __init__(self, engine: ClickHouseEngine, session: Any, http: ClickHouseHttp | None) -> None:
        self.engine, self.session, self.http = engine, session, http
        self._runner: asyncio.Runner | None = None

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        """Run one statement (blocking); the rows it returns (JSON values: 64-bit integers as text)."""
        params = dict(params or {})
        returns_rows = re.match(r"\s*(SELECT|WITH)\b", sql, re.I) is not None
        if self.http is not None:
            if self._runner is None:
                self._runner = asyncio.Runner()
            rows = self._runner.run(self.http.answer(sql, params, {}, build=lambda doc: doc["data"]))
            return rows if returns_rows else []
        try:
            import orjson

            out = self.session.query(sql, "JSONCompact" if returns_rows else "CSV", params=parameter_text(params))
            raw = out.bytes() if hasattr(out, "bytes") else bytes(out)
            return orjson.loads(raw)["data"] if returns_rows and raw.strip() else []
        except ZetaError:
            raise
        except Exception as e:
            raise self.engine.error(e) from e

    def close(self) -> None:
        """Close a server connection (an embedded session stays: it is the process's)."""
        if self._runner is not None and self.http is not None:
            runner, self._runner = self._runner, None
            runner.run(self.http.aclose())
            runner.close()


def _statement(sql: str) -> str:
    """The SQL without surrounding space and one trailing ``;``."""
    sql = sql.strip()
    return sql[:-1].rstrip() if sql.endswith(";") else sql


def _table(doc: dict[str, Any]) -> Table:
    """Names, types, typed rows, rows and bytes read of a JSONCompact document."""
    meta = doc["meta"]
    names = tuple(str(m["name"]) for m in meta)
    types = tuple(str(m["type"]) for m in meta)
    rows = [tuple(_typed(v, t) for v, t in zip(row, types)) for row in doc.get("data", [])]
    stats = doc.get("statistics") or {}
    return names, types, rows, _int(stats.get("rows_read")), _int(stats.get("bytes_read"))


def _result(table: Table, elapsed: float, max_rows: int, query_id: str) -> ResultSet:
    names, types, rows, rows_read, bytes_read = table
    return ResultSet(names, types, rows[:max_rows], elapsed, rows_read, bytes_read, len(rows) > max_rows, query_id)


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _stat(out: Any, name: str) -> int | None:
    """A chdb result's statistic (``storage_rows_read()``), None when this chdb has none."""
    method = getattr(out, name, None)
    try:
        return int(method()) if callable(method) else None
    except (TypeError, ValueError):
        return None
