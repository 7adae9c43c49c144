"""ClickHouse's HTTP interface, spoken by zeta's own HttpBackend (httpx): bounded like every other backend.

Why not clickhouse-connect (used until issue 13): it reads an answer whole before zeta sees a
byte (a 24 MB answer was read and then printed in its error), gives each of its requests its own
timeout (and makes two more on connect: the server's version and its settings), and words its
failures in its own text, which zeta had to parse. The HTTP interface is small, and
HttpBackend already streams every answer under ``max_response_bytes``, bounds a whole action by
``timeout_seconds``, and words TLS, proxy, refused connections and HTML error pages the same for
every backend. So a query here is:

- ``POST /`` with the SQL as the body; ``database``, ``query_id`` and ``default_format =
  JSONCompact`` (meta with names and types, rows as arrays, statistics) as URL parameters;
- every setting (``readonly = 1``, ``max_execution_time``, the row and byte caps) as a URL
  parameter, which is how ClickHouse takes per-query settings over HTTP, with
  ``cancel_http_readonly_queries_on_client_close = 1`` so that a read zeta stops (the byte
  cap, the deadline, a cancel) stops the server's work too;
- each value as ``param_<name>`` in ClickHouse's escaped text form, for ``{name:Type}`` in the SQL;
- basic auth (``username``/``password``, or ``user:pass@`` in the URL) or a bearer token, as
  configured; no user means ClickHouse's ``default``.

ClickHouse answers a failed query with an HTTP error status, the ``X-ClickHouse-Exception-Code``
header and its sentence (``Code: 60. DB::Exception: ...``) as the body; a query that fails after
its first rows were sent ends a 200 answer with that sentence instead (or, on newer servers, an
``exception`` member of the JSON). Either way zeta quotes the sentence, on one line and cut
short (clickhouse_errors.py), never the raw answer. A 401/403 without a ClickHouse code (a proxy
in front of it) is "Not authorised", saying whether zeta sent credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar, overload

import httpx
import orjson

from zeta_tui.backends.clickhouse_errors import (
    SENTENCE_CHARS,
    ask_for_less,
    clickhouse_error,
    exception_sentence,
    login_hint,
)
from zeta_tui.backends.http import HttpBackend, error_text
from zeta_tui.config.models import ClickHouseConfig, LogsConfig, TracesConfig
from zeta_tui.errors import AnswerTooLarge, BackendAuthError, BackendTimeout, BackendUnavailable, QueryError, ZetaError

T = TypeVar("T")
#: The config sections a ClickHouse answers for: analytics, logs (otel_logs), traces (otel_traces).
ClickHouseSection = ClickHouseConfig | LogsConfig | TracesConfig
#: How much of a malformed answer's end is searched for ClickHouse's exception sentence.
_TAIL = 64 * 1024


class ClickHouseHttp(HttpBackend):
    """One ClickHouse server over HTTP(S) for one config section (``clickhouse``, ``logs``, ``traces``)."""

    kind = "clickhouse"
    config: ClickHouseSection

    def __init__(self, cfg: ClickHouseSection, section: str) -> None:
        super().__init__(cfg)
        self.section = section
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def where(self) -> str:
        """The server's URL without credentials (the section is named in the hints)."""
        return self.url

    @property
    def client(self) -> httpx.AsyncClient:
        # An httpx client belongs to the event loop it first ran on; `zeta clickhouse init` and
        # tests ask from one loop after another, so a new loop gets a new client.
        loop = asyncio.get_running_loop()
        if self._client is not None and self._loop is not loop:
            self._client = None
        if self._client is None:
            self._loop = loop
        return super().client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is not asyncio.get_running_loop():
            self._client = None  # opened on another event loop: its connections went with that loop
            return
        await super().aclose()

    @overload
    async def answer(
        self, sql: str, params: Mapping[str, Any], settings: Mapping[str, Any], *, query_id: str | None = None
    ) -> dict[str, Any]: ...

    @overload
    async def answer(
        self,
        sql: str,
        params: Mapping[str, Any],
        settings: Mapping[str, Any],
        *,
        query_id: str | None = None,
        build: Callable[[dict[str, Any]], T],
    ) -> T: ...

    async def answer(
        self,
        sql: str,
        params: Mapping[str, Any],
        settings: Mapping[str, Any],
        *,
        query_id: str | None = None,
        build: Callable[[dict[str, Any]], Any] = lambda doc: doc,
    ) -> Any:
        """``build`` of one statement's JSONCompact document (``meta``, ``data``, ``statistics``;
        a statement that returns nothing gives empty ones), built in a worker thread when large.

        Raises ZetaErrors only: ClickHouse's own sentence for a refused query, AnswerTooLarge past
        ``max_response_bytes``, BackendTimeout past ``timeout_seconds`` (or the action's deadline).
        """
        query: dict[str, Any] = {"database": self.config.database, "default_format": "JSONCompact"}
        if query_id:
            query["query_id"] = query_id
        query.update({k: str(v) for k, v in settings.items()})
        if settings.get("readonly"):
            # ClickHouse keeps running a query whose client went away unless told otherwise;
            # zeta drops the connection at the byte cap, the deadline and a cancel.
            query["cancel_http_readonly_queries_on_client_close"] = "1"
        query.update({f"param_{k}": str(v) for k, v in parameter_text(dict(params)).items()})
        try:
            resp = await self.request(
                "POST", "/", params=query, content=sql.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
            )
        except BackendTimeout:
            raise BackendTimeout(
                f"no answer within {self.config.timeout_seconds:g}s",
                where=self.where,
                hint=f"narrow the time range or the query, or raise {self.section}.timeout_seconds",
            ) from None
        if resp.status_code != 200 or "x-clickhouse-exception-code" in resp.headers:
            raise self.refusal(resp)
        if not resp.content.strip():
            return build({"meta": [], "data": []})

        def table(data: Any) -> Any:
            try:
                return build(self._document(data, resp))
            except (KeyError, TypeError, ValueError) as exc:  # meta or rows not in ClickHouse's shape
                raise self._not_a_table(
                    resp, f"JSON not shaped as a ClickHouse result ({type(exc).__name__})"
                ) from None

        return await self.read(resp, table)

    def _document(self, data: Any, resp: httpx.Response) -> dict[str, Any]:
        if isinstance(data, dict) and data.get("exception"):
            raise self._sentence_error(str(data["exception"]))
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("meta"), list)
            or not isinstance(data.get("data"), list)
        ):
            raise self._not_a_table(
                resp, f"JSON without the meta and data of a ClickHouse result ({type(data).__name__})"
            )
        return data

    # --- words ----------------------------------------------------------------------------

    def refusal(self, resp: httpx.Response) -> ZetaError:
        """The ZetaError for an answer that is not a result: ClickHouse's exception, a login refused, a proxy's page."""
        header = resp.headers.get("x-clickhouse-exception-code", "")
        if header.isdigit() or exception_sentence(resp.text[:_TAIL])[0] is not None:
            return self._sentence_error(resp.text[:_TAIL], int(header) if header.isdigit() else None)
        if resp.status_code in (401, 403):
            return BackendAuthError(
                f"HTTP {resp.status_code}: {_one_line(error_text(resp, 200))}",
                where=self.where,
                hint=login_hint(self.config, self.section),
            )
        return BackendUnavailable(
            f"HTTP {resp.status_code}: {_one_line(error_text(resp, 200))}",
            where=self.where,
            hint=f"is {self.section}.url ClickHouse's HTTP interface (port 8123, or 8443 for HTTPS)? "
            "A proxy in front of it may be failing; retry later or check its logs",
        )

    def _sentence_error(self, text: str, code: int | None = None) -> ZetaError:
        """ClickHouse's sentence in ``text`` (or ``text`` itself, on one line) as a ZetaError by its code."""
        found, sentence = exception_sentence(text)
        if found is None:
            sentence = f"Code: {code}. {_one_line(text)}" if code is not None else _one_line(text)
        return clickhouse_error(
            found if found is not None else code, sentence, where=self.where, section=self.section, cfg=self.config
        )

    def decode_json(self, resp: httpx.Response) -> Any:
        """The answer's JSON; a malformed answer is one line saying what was wrong, never its bytes."""
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError as exc:
            body = resp.content
            code, sentence = exception_sentence(body[-_TAIL:].decode("utf-8", "replace"))
            if code is not None:  # the query failed after its first rows were sent
                raise self._sentence_error(sentence, code) from None
            raise self._not_a_table(resp, f"malformed JSON ({exc.msg} at byte {exc.pos} of {len(body):,})") from None

    def _not_a_table(self, resp: httpx.Response, what: str) -> ZetaError:
        fmt = resp.headers.get("x-clickhouse-format", "")
        if fmt and fmt != "JSONCompact":
            return QueryError(
                f"the answer is in the query's own FORMAT {fmt}, not the JSON table zeta asked for",
                where=self.where,
                hint="remove FORMAT ...: the console shows and exports the result itself",
            )
        kind = resp.headers.get("content-type", "no content type").split(";")[0]
        return BackendUnavailable(
            f"the answer is not a ClickHouse result: {what}, {kind}",
            where=self.where,
            hint=f"is {self.section}.url ClickHouse's HTTP interface (port 8123, or 8443 for HTTPS), "
            "not a proxy or another service?",
        )

    def _too_large(self, method: str, path: str, size: int, *, declared: bool = False) -> AnswerTooLarge:
        cap = self.config.max_response_bytes
        seen = f"it declared {_size(size)}" if declared else f"more than {_size(cap)} had come"
        return AnswerTooLarge(
            f"ClickHouse's answer is over the {_size(cap)} cap ({seen}); the read stopped there",
            where=self.where,
            hint=ask_for_less(self.section),
        )

    def _transport_error(self, exc: Exception) -> BackendUnavailable:
        """HttpBackend's words, with the section's own setting named in the hint."""
        error = super()._transport_error(exc)
        s, text = self.section, error.message
        if text.startswith("TLS verification failed"):
            return BackendUnavailable(
                f"TLS: the server's certificate is not trusted ({_tls_detail(text)})",
                where=self.where,
                hint=f"set {s}.ca_file to the CA bundle that signed the server certificate "
                "(insecure_skip_verify only for a throwaway test)",
            )
        if text.startswith("the server refused our TLS client certificate"):
            return BackendUnavailable(
                text,
                where=self.where,
                hint=f"set {s}.client_cert (and {s}.client_key) to a certificate the server trusts",
            )
        if text.startswith("TLS handshake failed"):
            return BackendUnavailable(
                f"TLS: the handshake failed ({_tls_detail(text)})",
                where=self.where,
                hint=f"does the server speak HTTPS on that port? If it serves plain HTTP, make {s}.url http://",
            )
        if text.startswith("cannot connect:") and "proxy" not in text:
            detail = text.removeprefix("cannot connect:").strip()
            said = (
                f"connection refused by {self.address()}"
                if "refused" in detail.lower()
                else f"{self.address()}: {detail}"
            )
            return BackendUnavailable(
                f"cannot connect: {said}", where=self.where, hint=f"is the ClickHouse server running and {s}.url right?"
            )
        error.hint = f"{error.hint} ({s}.url)" if error.hint else f"check {s}.url"
        return error

    def address(self) -> str:
        """host:port of the server, its default port filled in (8123, 8443 for HTTPS)."""
        u = httpx.URL(self.config.url or "")
        return f"{u.host}:{u.port or (8443 if u.scheme == 'https' else 8123)}"


def parameter_text(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as ClickHouse reads parameter values (chdb's ``params``, the HTTP interface's
    ``param_<name>``): escaped text for strings, ISO text for dates, numbers as they are."""
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


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line[:SENTENCE_CHARS] + ("…" if len(line) > SENTENCE_CHARS else "") if line else "(empty body)"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


def _tls_detail(text: str) -> str:
    """The SSL library's reason (``[SSL: CERTIFICATE_VERIFY_FAILED] ...``) out of a longer message."""
    start = text.find("[SSL")
    return text[start:].split(" (_ssl")[0].strip() if start >= 0 else text.split(":", 1)[-1].strip()
