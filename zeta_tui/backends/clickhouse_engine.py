"""Running read-only SQL on ClickHouse, on a server or embedded: shared by the log and trace sources.

A server (``url``) is read with clickhouse-connect; an embedded store (``path``) with chdb in
this process. Both libraries load on first use, never at start-up. Values reach the engine as
``{name:Type}`` server-side parameters only, and every query runs read-only with a time and
row limit.

chdb facts that shape this module: a store directory can be open in one process at a time
(another process gets "Cannot lock file .../status"), one process holds one store path at a
time, and one session is safe to share between threads. So sessions are shared per process
(``embedded_session``) and a store held by another process is a ConfigError naming that
process.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any, Mapping

from zeta_tui.errors import BackendAuthError, BackendTimeout, BackendUnavailable, ConfigError, QueryError, ZetaError

_CODE = re.compile(r"Code: (\d+)")

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


def embedded_session(path: str | Path, *, create: bool = False, setting: str = "logs.path") -> Any:
    """The process-wide chdb session on the store at ``path`` (opened on first use).

    ``setting`` names the config key a missing store is fixed in (for the hint).
    """
    key = str(Path(path).expanduser().resolve())
    with _sessions_lock:
        if key in _sessions:
            return _sessions[key]
        if not create and not Path(key).is_dir():
            raise ConfigError(f"no embedded ClickHouse store at {key}", where=key, hint=f"run `zeta demo` once to create it, or fix {setting}")
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

    def server(self) -> Any:
        """The clickhouse-connect client (connected on first use)."""
        if self.client is None:
            try:
                import clickhouse_connect
            except ImportError as e:
                raise ConfigError(f"a ClickHouse {self.section} source needs the clickhouse-connect package", where=self.url,
                                  hint="pip install clickhouse-connect") from e
            from urllib.parse import urlsplit

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
                self.client = clickhouse_connect.get_client(
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
        return self.client

    def error(self, e: Exception) -> ZetaError:
        """The ZetaError for what the engine or the client library raised."""
        text = str(e).strip()
        first = text.splitlines()[0] if text else type(e).__name__
        m = _CODE.search(text)
        code = int(m.group(1)) if m else None
        where, s = self.url, self.section
        if code in (516, 192, 194, 497):
            return BackendAuthError(first, where=where, hint=f"check {s}.username / password, and SELECT grants on the table")
        if code in (159, 209, 210) or "timed out" in text.lower() or "timeout" in type(e).__name__.lower():
            return BackendTimeout(first, where=where, hint=f"narrow the time range or the query, or raise {s}.timeout_seconds")
        if code in (60, 81):
            return QueryError(first, where=where, hint=f"is {s}.database/{s}.table right ({self.cfg.database}.{self.cfg.table})? "
                              "An embedded store gets its table from `zeta demo`")
        if code is not None:
            return QueryError(first, where=where)
        return BackendUnavailable(first, where=where, hint=f"is the ClickHouse server running and {s}.url right?")

    def close(self) -> None:
        """Close the server client, if any (blocking). An embedded session stays: it is the process's."""
        if self.client is not None:
            client, self.client = self.client, None
            client.close()
