"""A stand-in for a ClickHouse server's HTTP interface, answering from the real engine (chdb).

No ClickHouse server can be installed on this machine. This server is not ClickHouse: it takes
a request the way ClickHouse's HTTP interface documents it (docs/en/interfaces/http.md) and
runs it on chdb in this process, so the SQL, the ``{name:Type}`` parameters and the settings
zeta sends are executed by the real engine:

- the SQL is the POST body; ``database``, ``default_format``, ``query_id`` and ``param_<name>``
  (values in ClickHouse's escaped text form, as chdb reads them too) are URL parameters, and
  every other URL parameter is a setting, applied to a chdb session of the request's own
  (readonly = 1 included, so ClickHouse itself refuses a write);
- a failure answers with the status ClickHouse picks for its code (the table of
  src/Server/HTTP/exceptionCodeToHTTPStatus.cpp, in part), the ``X-ClickHouse-Exception-Code``
  header and the engine's sentence as the body;
- a success answers 200 with ``X-ClickHouse-Format``, ``X-ClickHouse-Query-Id`` and
  ``X-ClickHouse-Summary`` headers;
- ``users`` (name -> password) makes it check basic auth or ``X-ClickHouse-User``/``Key`` and
  refuse others with code 516 and 403, as a server does.

Where it differs: chdb has no client query ids, so ``query_id`` becomes the session's
``log_comment`` and ``KILL QUERY WHERE query_id = ...`` is run on ``Settings['log_comment']``.
Everything it was sent is kept in ``requests`` for the tests to read.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson

from zeta_tui.backends import chdb_store

#: ClickHouse's HTTP status for an exception code (exceptionCodeToHTTPStatus.cpp, the codes tests meet).
STATUS = {
    194: 401,
    192: 403,
    193: 403,
    516: 403,
    497: 403,
    62: 400,
    27: 400,
    6: 400,
    53: 400,
    60: 404,
    81: 404,
    46: 404,
    47: 404,
    115: 404,
    73: 404,
    159: 408,
}
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Sent:
    """One request as the stand-in saw it."""

    sql: str
    database: str
    query_id: str
    settings: dict[str, str]
    params: dict[str, str]
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    server: ClickHouseStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        sql = ((query.pop("query", "") + "\n") if "query" in query else "") + self.rfile.read(length).decode()
        database = query.pop("database", "default")
        fmt = query.pop("default_format", "TabSeparated")
        query_id = query.pop("query_id", "") or f"standin_{len(self.server.requests)}"
        params = {k[len("param_") :]: v for k, v in query.items() if k.startswith("param_")}
        settings = {k: v for k, v in query.items() if not k.startswith("param_")}
        self.server.requests.append(Sent(sql, database, query_id, settings, params, dict(self.headers)))
        refused = self.server.login_refused(self.headers)
        if refused:
            return self._fail(refused)
        fmt = _FORMAT.search(sql).group(1) if _FORMAT.search(sql) else fmt
        sql = (
            re.sub(r"\bquery_id\s*=\s*\{", "Settings['log_comment'] = {", sql)
            if sql.lstrip().upper().startswith("KILL")
            else sql
        )
        try:
            body = self.server.execute(sql, database, fmt, query_id, settings, params)
        except Exception as exc:  # the engine's sentence, as ClickHouse sends it
            return self._fail(str(exc).strip())
        stats = {"read_rows": "0", "read_bytes": "0", "written_rows": "0", "written_bytes": "0"}
        if body.strip().startswith(b"{"):
            try:
                doc = orjson.loads(body)
                stats.update(
                    read_rows=str(doc["statistics"]["rows_read"]), read_bytes=str(doc["statistics"]["bytes_read"])
                )
            except (orjson.JSONDecodeError, KeyError, TypeError):
                pass
        self._send(
            200,
            body,
            {
                "Content-Type": "application/json; charset=UTF-8"
                if fmt.startswith("JSON")
                else "text/plain; charset=UTF-8",
                "X-ClickHouse-Format": fmt,
                "X-ClickHouse-Query-Id": query_id,
                "X-ClickHouse-Summary": orjson.dumps(stats).decode(),
            },
        )

    def _fail(self, sentence: str) -> None:
        m = re.search(r"Code: (\d+)", sentence)
        code = int(m.group(1)) if m else 1001
        self._send(
            STATUS.get(code, 500),
            (sentence + "\n").encode(),
            {"Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": str(code)},
        )

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class ClickHouseStandIn(ThreadingHTTPServer):
    """The stand-in on 127.0.0.1 over the chdb store at ``path`` (the process's; see the module)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, path: str | Path, users: dict[str, str] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        chdb_store.embedded_session(path, create=True)  # the process's store: checks its lock
        self.key = str(Path(path).expanduser().resolve())
        self.users = users
        self.requests: list[Sent] = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def login_refused(self, headers) -> str:
        """ClickHouse's sentence for a refused login, or "" (no ``users``: anyone is ``default``)."""
        if self.users is None:
            return ""
        user, key = headers.get("X-ClickHouse-User"), headers.get("X-ClickHouse-Key", "")
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, key = base64.b64decode(auth[6:]).decode().partition(":")
        user = user or "default"
        if self.users.get(user) == key:
            return ""
        return (
            f"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, "
            "or there is no user with such name. (AUTHENTICATION_FAILED) (version 24.8.4.13 (official build))"
        )

    def execute(
        self, sql: str, database: str, fmt: str, query_id: str, settings: dict[str, str], params: dict[str, str]
    ) -> bytes:
        from chdb import session as chdb_session

        pairs = {**settings, "database": database, "log_comment": query_id}
        sess = chdb_session.Session(self.key + "?" + "&".join(f"{k}={v}" for k, v in pairs.items()))
        try:
            out = sess.query(sql, fmt, params=params)
            return out.bytes() if hasattr(out, "bytes") else bytes(out)
        finally:
            chdb_store.close_quietly(sess)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
