"""Running read-only SQL on ClickHouse, on a server or embedded: shared by the log and trace sources.

A server (``url``) is read with clickhouse-connect; an embedded store (``path``) with chdb in
this process. Both libraries load on first use, never at start-up. Values reach the engine as
``{name:Type}`` server-side parameters only, and every query runs read-only with a time and
row limit.

Embedded stores are opened and shared through chdb_store.py (one store per process, a
serialised shared session, read-only query sessions).

Arbitrary SQL (the analytics console, ``zeta sql``) goes through ``select``, never ``run``: on
an embedded store it runs in its own short-lived chdb session opened with ``readonly=1`` and
the limits in the session's settings, so the SQL itself cannot lift them (a query's own
``SETTINGS readonly = 0`` or ``SET`` is refused by ClickHouse, code 164). Measured on chdb 4.4:
settings appended to the SQL text can be commented out by a trailing ``--`` and do not cover
the first of several ``;``-separated statements, which chdb runs one after the other; session
settings have neither hole. Several sessions on one store path can be open in one process and
run at the same time, which is also how a running query is cancelled: another session runs
``KILL QUERY`` on it (found by its ``log_comment`` setting, chdb having no client query ids).
Schema creation and the rollup's backfill (``zeta clickhouse init``) are the only writes, through ``writer``.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping

from zeta_tui.backends.chdb_store import close_quietly, embedded_session, readonly_session, release_readonly_session
from zeta_tui.errors import (
    BackendAuthError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
    QueryCancelled,
    QueryError,
    ZetaError,
)

_CODE = re.compile(r"Code: (\d+)")

@dataclass(frozen=True)
class ResultSet:
    """The answer to one read-only query: columns and their ClickHouse types, rows, and what it cost.

    ``truncated`` says the row cap cut the answer (``rows`` holds exactly the cap then);
    ``rows_read`` / ``bytes_read`` are what the engine read to answer (None when it did not say);
    ``note`` says where a named query's figures came from when it was not zeta's rollup.
    """

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple]
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


def parameter_text(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as chdb reads them: escaped text for strings, ISO text for dates, numbers as they are."""
    from zeta_tui.querying.logquery import escape_parameters

    text: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%d %H:%M:%S")
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        text[name] = value
    return escape_parameters(text)


# --- one source's connection ---------------------------------------------------------------


def without_credentials(url: str) -> str:
    """``url`` without a user name or password in it (for messages)."""
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    return urlunsplit(u._replace(netloc=u.netloc.rpartition("@")[2])) if "@" in u.netloc else url


class ClickHouseEngine:
    """Where one source's SQL runs: a server or an embedded store, read-only.

    ``cfg`` is a LogsConfig or TracesConfig (url or path, database, table, auth, TLS, timeout);
    ``section`` is its config section ("logs", "traces"), named in hints.
    """

    def __init__(self, cfg: Any, section: str) -> None:
        self.cfg, self.section = cfg, section
        self.embedded = cfg.path is not None
        self.url = without_credentials(cfg.url) if cfg.url else f"chdb:{cfg.path}"
        self.client: Any = None
        self.control: Any = None  # a second server connection, for KILL QUERY
        self.settings = {"readonly": 1, "max_execution_time": int(max(1, cfg.timeout_seconds)), "max_result_rows": 1_000_000,
                         "result_overflow_mode": "throw"}

    def run(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        """Rows of a read-only SELECT (blocking; call through asyncio.to_thread)."""
        if self.embedded:
            import orjson

            sess = embedded_session(self.cfg.path or "", setting=f"{self.section}.path")
            settings = ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in self.settings.items())
            try:
                # chdb reads parameter values as escaped text (clickhouse-connect escapes for us).
                from zeta_tui.querying.logquery import escape_parameters

                out = sess.query(f"{sql} SETTINGS {settings}", "JSONCompact", params=escape_parameters(dict(params)))
            except Exception as e:
                raise self.error(e) from e
            raw = out.bytes() if hasattr(out, "bytes") else bytes(out)
            return orjson.loads(raw)["data"] if raw.strip() else []
        client = self.server()
        try:
            return [list(r) for r in client.query(sql, parameters=dict(params), settings=self.settings).result_rows]
        except ZetaError:
            raise
        except Exception as e:
            raise self.error(e) from e

    # --- arbitrary read-only SQL (analytics) -------------------------------------------

    def limits(self, max_rows: int, timeout: float | None = None) -> dict[str, Any]:
        """The settings every ``select`` runs with: read-only, time limit, row cap (one row over, to see truncation)."""
        seconds = timeout if timeout is not None else self.cfg.timeout_seconds
        return {"readonly": 1, "max_execution_time": int(max(1, -(-seconds // 1))), "max_result_rows": int(max_rows) + 1,
                "result_overflow_mode": "break"}

    def select(self, sql: str, params: Mapping[str, Any] | None = None, *, max_rows: int, query_id: str | None = None,
               timeout: float | None = None) -> ResultSet:
        """Run one read-only statement (blocking; call through asyncio.to_thread).

        ClickHouse refuses writes itself (readonly = 1); at most ``max_rows`` rows come back and
        ``truncated`` says when there were more; ``max_execution_time`` bounds the time. Values
        reach the engine as ``{name:Type}`` parameters only.
        """
        query_id = query_id or uuid.uuid4().hex
        sql = sql.strip()
        if sql.endswith(";"):
            sql = sql[:-1].rstrip()
        settings = self.limits(max_rows, timeout)
        started = time.perf_counter()
        if self.embedded:
            columns, types, rows, rows_read, bytes_read = self._select_embedded(sql, dict(params or {}), settings, query_id)
        else:
            columns, types, rows, rows_read, bytes_read = self._select_server(sql, dict(params or {}), settings, query_id)
        elapsed = time.perf_counter() - started
        truncated = len(rows) > max_rows
        return ResultSet(columns, types, rows[:max_rows], elapsed, rows_read, bytes_read, truncated, query_id)

    def _select_embedded(self, sql: str, params: dict[str, Any], settings: dict[str, Any],
                         query_id: str) -> tuple[tuple[str, ...], tuple[str, ...], list[tuple], int | None, int | None]:
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
        raw = out.bytes() if hasattr(out, "bytes") else bytes(out)
        if not raw.strip():  # SHOW CREATE of nothing, a statement with no result
            return (), (), [], _stat(out, "storage_rows_read"), _stat(out, "storage_bytes_read")
        try:
            doc = orjson.loads(raw)
            meta = doc["meta"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise QueryError("the answer is not the JSON table Zeta asked for; does the query end in its own FORMAT clause?",
                             where=self.url, hint="remove FORMAT ...: the console shows and exports the result itself") from None
        names = tuple(str(m["name"]) for m in meta)
        types = tuple(str(m["type"]) for m in meta)
        rows = [tuple(_typed(v, t) for v, t in zip(row, types)) for row in doc.get("data", [])]
        # What the engine read to answer. (chdb's rows_read() / bytes_read() count the result.)
        stats = doc.get("statistics") or {}
        rows_read = _int(stats.get("rows_read")) if "rows_read" in stats else _stat(out, "storage_rows_read")
        bytes_read = _int(stats.get("bytes_read")) if "bytes_read" in stats else _stat(out, "storage_bytes_read")
        return names, types, rows, rows_read, bytes_read

    def _select_server(self, sql: str, params: dict[str, Any], settings: dict[str, Any],
                       query_id: str) -> tuple[tuple[str, ...], tuple[str, ...], list[tuple], int | None, int | None]:
        client = self.server()
        try:
            result = client.query(sql, parameters=params, settings={**settings, "query_id": query_id})
        except ZetaError:
            raise
        except Exception as e:
            raise self.error(e) from e
        names = tuple(result.column_names)
        types = tuple(getattr(t, "name", str(t)) for t in result.column_types)
        summary = getattr(result, "summary", None) or {}
        return names, types, [tuple(r) for r in result.result_rows], _int(summary.get("read_rows")), _int(summary.get("read_bytes"))

    def cancel(self, query_id: str) -> None:
        """Stop the running query ``query_id`` (blocking): KILL QUERY from another session or connection.

        Nothing happens when no such query runs (it ended, or never started).
        """
        if self.embedded:
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
            return
        if self.control is None:
            self.control = self._connect()
        try:
            self.control.command("KILL QUERY WHERE query_id = {id:String} SYNC", parameters={"id": query_id})
        except Exception as e:
            raise self.error(e) from e

    def writer(self) -> "SqlWriter":
        """A connection with write access (blocking; close it): `zeta clickhouse init` only.

        On an embedded store (created if missing) the process's shared session; on a server a
        client of its own, without the read-only settings.
        """
        if self.embedded:
            return SqlWriter(self, embedded_session(self.cfg.path or "", create=True, setting=f"{self.section}.path"), None)
        return SqlWriter(self, None, self._connect())

    # --- the server connection --------------------------------------------------------

    def server(self) -> Any:
        """The clickhouse-connect client (connected on first use)."""
        if self.client is None:
            self.client = self._connect()
        return self.client

    def _connect(self) -> Any:
        """A new clickhouse-connect client for the configured server (blocking)."""
        try:
            import clickhouse_connect
        except ImportError as e:
            raise ConfigError(f"a ClickHouse {self.section} source needs the clickhouse-connect package", where=self.url,
                              hint="pip install clickhouse-connect") from e
        import logging
        from urllib.parse import urlsplit

        # The driver logs "Unexpected Http Driver Exception" before raising; with no logging set
        # up, Python would print it on stderr next to the ZetaError that says the same thing.
        driver_log = logging.getLogger("clickhouse_connect")
        if not driver_log.handlers:
            driver_log.addHandler(logging.NullHandler())
        cfg, s = self.cfg, self.section
        u = urlsplit(cfg.url or "")
        password = cfg.password.get_secret_value() if cfg.password is not None else ""
        token = cfg.bearer_token.get_secret_value() if cfg.bearer_token is not None else None
        try:
            if cfg.password_file:
                password = Path(cfg.password_file).read_text().strip()
            if cfg.bearer_token_file:
                token = Path(cfg.bearer_token_file).read_text().strip()
        except OSError as e:
            raise ConfigError(f"cannot read a secret file of the {s} source: {e.strerror}", where=str(e.filename),
                              hint=f"fix {s}.password_file / {s}.bearer_token_file") from e
        proxy = {("https_proxy" if u.scheme == "https" else "http_proxy"): cfg.proxy} if cfg.proxy else {}
        try:
            return clickhouse_connect.get_client(
                host=u.hostname or "localhost", port=u.port or (8443 if u.scheme == "https" else 8123), secure=u.scheme == "https",
                username=cfg.username or "default", password=password, access_token=token, database=cfg.database,
                connect_timeout=cfg.timeout_seconds, send_receive_timeout=cfg.timeout_seconds, query_retries=0,
                verify=not cfg.insecure_skip_verify, ca_cert=cfg.ca_file, client_cert=cfg.client_cert,
                client_cert_key=cfg.client_key, headers=dict(cfg.headers) or None, proxy_path=u.path.rstrip("/"),
                autogenerate_session_id=False, **proxy,
            )
        except TypeError:
            raise  # a programming error, not the server's answer
        except Exception as e:
            raise self.error(e) from e

    def error(self, e: Exception) -> ZetaError:
        """The ZetaError for what the engine or the client library raised."""
        text = str(e).strip()
        m = _CODE.search(text)
        code = int(m.group(1)) if m else None
        # The server's own sentence ("Code: 516. DB::Exception: ...") rather than the driver's preamble.
        first = text[m.start():].splitlines()[0] if m else (text.splitlines()[0] if text else type(e).__name__)
        where, s = self.url, self.section
        lower = text.lower()
        if code in (516, 192, 194, 497):
            return BackendAuthError(first, where=where, hint=f"check {s}.username / password, and SELECT grants on the table")
        if code == 394:
            return QueryCancelled("the query was cancelled", where=where)
        if code in (159, 209, 210) or (code is None and ("timed out" in lower or "timeout" in type(e).__name__.lower())):
            return BackendTimeout(first, where=where, hint=f"narrow the time range or the query, or raise {s}.timeout_seconds")
        if code == 164:
            return QueryError(first, where=where, hint="ClickHouse refused it: every query of the console runs with readonly = 1")
        if code in (60, 81):
            table = getattr(self.cfg, "table", None)
            if table is not None:
                return QueryError(first, where=where, hint=f"is {s}.database/{s}.table right ({self.cfg.database}.{table})? "
                                  "An embedded store gets its table from `zeta demo`")
            return QueryError(first, where=where, hint=f"is {s}.database right ({self.cfg.database})? "
                              "`zeta clickhouse init` creates the tables; an embedded store gets them from `zeta demo`")
        if code is not None:
            return QueryError(first, where=where)
        if "certificate" in lower or "ssl" in lower:
            reason = "the server's certificate is not trusted" if "verify" in lower else "the TLS handshake failed"
            return BackendUnavailable(f"TLS: {reason} ({_tls_detail(text)})", where=where,
                                      hint=f"set {s}.ca_file to the CA bundle that signed the server certificate "
                                      f"(or fix {s}.client_cert / client_key for mutual TLS)")
        if "connection refused" in lower or "failed to establish" in lower or "name or service not known" in lower:
            return BackendUnavailable(f"cannot connect: {_connect_detail(text)}", where=where,
                                      hint=f"is the ClickHouse server running and {s}.url right?")
        return BackendUnavailable(first, where=where, hint=f"is the ClickHouse server running and {s}.url right?")

    def close(self) -> None:
        """Close the server clients, if any (blocking). An embedded session stays: it is the process's."""
        for name in ("client", "control"):
            client = getattr(self, name)
            if client is not None:
                setattr(self, name, None)
                client.close()


class SqlWriter:
    """Statements with write access on one engine (`zeta clickhouse init`): ``run`` returns the rows of a SELECT."""

    def __init__(self, engine: ClickHouseEngine, session: Any, client: Any) -> None:
        self.engine, self.session, self.client = engine, session, client

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        """Run one statement (blocking); the rows it returns (JSON values: 64-bit integers as text)."""
        params = dict(params or {})
        returns_rows = re.match(r"\s*(SELECT|WITH)\b", sql, re.I) is not None
        try:
            if self.session is not None:
                import orjson

                out = self.session.query(sql, "JSONCompact" if returns_rows else "CSV", params=parameter_text(params))
                raw = out.bytes() if hasattr(out, "bytes") else bytes(out)
                return orjson.loads(raw)["data"] if returns_rows and raw.strip() else []
            if returns_rows:
                return [list(r) for r in self.client.query(sql, parameters=params).result_rows]
            self.client.command(sql, parameters=params)
            return []
        except ZetaError:
            raise
        except Exception as e:
            raise self.engine.error(e) from e

    def close(self) -> None:
        """Close a server client (an embedded session stays: it is the process's)."""
        if self.client is not None:
            self.client.close()
            self.client = None


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


def _tls_detail(text: str) -> str:
    m = re.search(r"\[SSL[^\]]*\][^)'\"]*", text)
    return m.group(0).strip() if m else "SSL error"


def _connect_detail(text: str) -> str:
    host = re.search(r"host='([^']+)', port=(\d+)", text)
    where = f"{host.group(1)}:{host.group(2)}" if host else "the server"
    if "refused" in text.lower():
        return f"connection refused by {where}"
    return f"{where} cannot be reached"
