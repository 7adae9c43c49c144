"""The process's embedded ClickHouse stores (chdb): opening, sharing, read-only query sessions.

chdb facts that shape this module (chdb 4.4): a store directory can be open in one process at a
time (another process gets "Cannot lock file .../status"), and one process holds one store path
at a time; a store held by another process is a ConfigError naming that process. Query
parameters live in the session, so the process's shared session runs one query at a time
(``SerialSession``). Several sessions on one store path can be open in one process and run side
by side: the read-only query sessions (``readonly_session``) are such, and a running query is
cancelled from another one.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zeta_tui.errors import ConfigError

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
            raise ConfigError(
                f"no embedded ClickHouse store at {key}",
                where=key,
                hint=f"run `zeta demo` once to create it, or fix {setting}",
            )
        holder = store_holder(key)
        if holder is not None:
            raise _locked_error(key, holder)
        if _sessions:
            other = next(iter(_sessions))
            raise ConfigError(
                f"this process already has the embedded store {other} open; chdb holds one store per process",
                where=key,
                hint="use the same path for every embedded source of a context",
            )
        try:
            from chdb import session as chdb_session
        except ImportError as e:
            raise ConfigError(
                "the embedded ClickHouse store needs the chdb package", where=key, hint="pip install chdb"
            ) from e
        Path(key).mkdir(parents=True, exist_ok=True)
        try:
            sess = SerialSession(chdb_session.Session(key))
        except Exception as e:  # chdb says only "Error initializing EmbeddedServer"
            raise _locked_error(key, store_holder(key)) from e
        _sessions[key] = sess
        return sess


class SerialSession:
    """A chdb session whose queries run one at a time.

    chdb 4.4 keeps a query's ``{name:Type}`` parameters in its session, so two threads running
    parameterised queries on one session mix them up (a query runs with the other's value, or
    fails with "Substitution `database` is not set"; measured with three threads, and seen in
    `zeta demo` between the log and trace writers). The process's shared session is used by the
    demo's writers and the log and trace sources from several threads, so every query on it
    holds this lock. Work that must not wait behind them opens a session of its own on the same
    path (several sessions on one store work in one process): the analytics queries do.
    """

    def __init__(self, session: Any) -> None:
        self._session = session
        self._lock = threading.Lock()

    def query(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            try:
                return self._session.query(*args, **kwargs)
            except Exception:
                # chdb 4.4 hands what a query wrote before it failed (a result cap thrown
                # mid-answer) to the next query on the session, ahead of that query's own
                # answer (measured). A throwaway query takes it, inside the same lock.
                try:
                    self._session.query("SELECT 1", "CSV")
                except Exception:
                    pass
                raise

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def close_embedded_session(path: str | Path) -> None:
    """Close this process's session on ``path`` (lets the process open another store).

    Read-only query sessions still open on it (a query running in another thread) are closed too.
    """
    key = str(Path(path).expanduser().resolve())
    with _sessions_lock:
        sess = _sessions.pop(key, None)
        extra = _query_sessions.pop(key, {})
    for other in extra.values():
        close_quietly(other)
    if sess is not None:
        sess.close()


# Short-lived sessions of running read-only queries, per store path and query id.
_query_sessions: dict[str, dict[str, Any]] = {}


def close_quietly(sess: Any) -> None:
    try:
        sess.close()
    except Exception:  # a session closed under a running query: nothing left to release
        pass


_SAFE_NAME = re.compile(r"[A-Za-z0-9_]+")


def readonly_session(path: str | Path, settings: Mapping[str, Any], query_id: str, *, setting: str) -> Any:
    """A new chdb session on the store at ``path`` with ``readonly=1`` and ``settings`` fixed for its life.

    The process's shared session is opened first (it checks the store and its lock). Close it
    with ``release_readonly_session``.
    """
    embedded_session(path, setting=setting)
    key = str(Path(path).expanduser().resolve())
    from chdb import session as chdb_session

    pairs = {"readonly": 1, **settings, "log_comment": query_id}
    for name, value in pairs.items():
        # The connection string is not URL-decoded: keep every part a plain word.
        if not _SAFE_NAME.fullmatch(str(name)) or not _SAFE_NAME.fullmatch(str(value)):
            raise ConfigError(
                f"{name} = {value!r} cannot be passed to the embedded store (letters, digits and _ only)",
                where=key,
                hint=f"check {setting.rpartition('.')[0]}.database",
            )
    sess = chdb_session.Session(key + "?" + "&".join(f"{k}={v}" for k, v in pairs.items()))
    with _sessions_lock:
        _query_sessions.setdefault(key, {})[query_id] = sess
    return sess


def release_readonly_session(path: str | Path, query_id: str) -> None:
    key = str(Path(path).expanduser().resolve())
    with _sessions_lock:
        sess = _query_sessions.get(key, {}).pop(query_id, None)
    if sess is not None:
        close_quietly(sess)
