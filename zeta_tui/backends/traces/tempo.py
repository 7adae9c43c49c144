"""Grafana Tempo as a trace source: trace by id, TraceQL search, tag values for the form.

A trace comes from ``/api/v2/traces/{id}`` (``{"trace": ...}``), or from ``/api/traces/{id}``
(``{"batches": ...}``) on a Tempo without v2; either shape is read from either path. A search
is ``/api/search`` with a TraceQL query built by :func:`traceql` from the TraceQuery; its
results are summaries as Tempo gives them (span counts only where Tempo reports them).
Services and operations are the values of ``resource.service.name`` and the ``name``
intrinsic (v2 tag-values API, v1 as a fallback). Tempo's errors are plain text, kept as said.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson

from zeta_tui.backends.http import HttpBackend, error_text
from zeta_tui.backends.json_pieces import decode_and_build
from zeta_tui.backends.off_loop import run_off_loop
from zeta_tui.backends.traces.base import TraceNotFound, TraceSource
from zeta_tui.backends.traces.jaeger import FAST_PATH_BYTES, go_duration, pick_trace
from zeta_tui.backends.traces.otlp_json import parse_otlp_fast, traces_from_otlp
from zeta_tui.config.models import TracesConfig
from zeta_tui.errors import BackendUnavailable, QueryError, ZetaError
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.traces import Trace, TraceQuery, TraceSearch, TraceSummary, normalise_id

__all__ = ["TempoTraceSource", "summaries_from_search", "tempo_error", "traceql", "traceql_attribute", "traceql_string"]

T = TypeVar("T")


def _same(value: T) -> T:
    return value


def _tag_values(data: dict[str, Any]) -> list[str]:
    return sorted({str(v.get("value", "")) if isinstance(v, dict) else str(v) for v in data.get("tagValues") or ()})


_PLAIN_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/:")


class TempoTraceSource(HttpBackend, TraceSource):
    """Traces from Tempo's query frontend (or a monolithic Tempo) at ``cfg.url``."""

    kind = "tempo"

    def __init__(self, cfg: TracesConfig) -> None:
        super().__init__(cfg)
        self._v2_trace = True  # False once /api/v2/traces answered 404 for a route, not a trace

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        resp = await self.request("GET", path, params=params)
        self.raise_for_auth(resp)
        return resp

    async def _json(self, resp: httpx.Response) -> dict[str, Any]:
        """The answer's JSON object; Tempo's error as a ZetaError."""
        return await self._json_built(resp, _same)

    async def _json_built(self, resp: httpx.Response, build: Callable[[dict[str, Any]], T]) -> T:
        """``build`` of the answer's JSON object, decoded and built off the event loop when
        large (HttpBackend.read); Tempo's error as a ZetaError."""
        if resp.status_code >= 400:
            raise tempo_error(resp, where=self.where)
        return await self.read(resp, lambda data: build(self._object(resp, data)))

    def _object(self, resp: httpx.Response, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise BackendUnavailable(
                f"{resp.request.url.path} answered {type(data).__name__}, not an object",
                where=self.where,
                hint="check the url",
            )
        return data

    # --- the search form --------------------------------------------------------------------

    async def _tag_values(self, tag_v2: str, tag_v1: str, q: str = "") -> list[str]:
        resp = await self._get(f"/api/v2/search/tag/{quote(tag_v2, safe='.')}/values", {"q": q} if q else None)
        if resp.status_code == 404:
            resp = await self._get(f"/api/search/tag/{quote(tag_v1, safe='.')}/values")
        return await self._json_built(resp, _tag_values)

    async def services(self) -> list[str]:
        return await self._tag_values("resource.service.name", "service.name")

    async def operations(self, service: str) -> list[str]:
        q = f"{{ resource.service.name = {traceql_string(service)} }}" if service else ""
        return await self._tag_values("name", "name", q)

    # --- search and trace --------------------------------------------------------------------

    async def search(self, query: TraceQuery) -> TraceSearch:
        params = {
            "q": traceql(query),
            "start": str(int(query.time_range.start)),
            "end": str(int(-(-query.time_range.end // 1))),  # round up: keep the last second
            "limit": str(query.limit),
        }

        def newest(data: dict[str, Any]) -> list[TraceSummary]:
            try:
                summaries = summaries_from_search(data)
            except (TypeError, ValueError, AttributeError) as exc:
                raise BackendUnavailable(
                    f"the search answer is not Tempo's ({type(exc).__name__}: {exc})",
                    where=self.where,
                    hint="check the url",
                ) from None
            summaries.sort(key=lambda s: s.start_ns, reverse=True)
            return summaries[: query.limit]

        return TraceSearch(tuple(await self._json_built(await self._get("/api/search", params), newest)))

    def _traces(self, resp: httpx.Response) -> list[Trace]:
        """A trace answer's traces (blocking: run it in a thread): typed straight from the bytes
        when the answer is at most FAST_PATH_BYTES and the fast path takes it, else decoded in
        pieces to dicts, which also says what is wrong."""
        if resp.status_code >= 400:
            raise tempo_error(resp, where=self.where)
        body = resp.content
        if len(body) <= FAST_PATH_BYTES:
            traces = parse_otlp_fast(body)
            if traces is not None:
                return traces

        def read(data: Any) -> list[Trace]:
            data = self._object(resp, data)
            try:
                return traces_from_otlp(data)
            except (TypeError, ValueError, AttributeError) as exc:
                raise BackendUnavailable(
                    f"the answer is not OTLP trace JSON ({type(exc).__name__}: {exc})",
                    where=self.where,
                    hint="check the url",
                ) from None

        try:
            return decode_and_build(body, read)
        except orjson.JSONDecodeError:
            self.decode_json(resp)  # raises what says what came instead
            raise

    async def trace(self, trace_id: str) -> Trace:
        tid = normalise_id(trace_id)
        if not tid:
            raise QueryError("no trace id given", where=self.where)
        resp = None
        if self._v2_trace:
            resp = await self._get(f"/api/v2/traces/{tid}")
            if resp.status_code == 404:
                # Tempo's "no such trace" is a 404 with an empty body; a Tempo without the v2
                # route says "404 page not found". Either way, v1 has the last word.
                if _route_missing(resp):
                    self._v2_trace = False
                resp = None
        if resp is None:
            resp = await self._get(f"/api/traces/{tid}")
        if resp.status_code == 404:
            raise TraceNotFound(
                f"trace {tid} not found",
                where=self.where,
                hint="it may be older than Tempo's retention, or not sampled",
            )
        # A 50,000-span answer is tens of MB: decoded and read in a thread, the console stays live.
        traces = await run_off_loop(self._traces, resp)
        found = pick_trace(traces, tid)
        if found is None:
            raise TraceNotFound(
                f"trace {tid} not found",
                where=self.where,
                hint="it may be older than Tempo's retention, or not sampled",
            )
        return found

    async def check(self) -> tuple[BuildInfo, float]:
        """Build info, or /ready where the server has no build-info endpoint (404: an older Tempo).

        A build-info answer that is malformed, an error or without a version is DOWN, whatever
        /ready says: the API zeta reads is not answering as Tempo's does.
        """
        _ = self.client
        t0 = time.perf_counter()
        async with self.action():
            resp = await self._get("/api/status/buildinfo")
            if resp.status_code != 404:
                data = await self._json(resp)
                if not data.get("version"):
                    raise BackendUnavailable(
                        "/api/status/buildinfo answered without a version: not Tempo?",
                        where=self.where,
                        hint="check the url (Tempo's HTTP API, port 3200 by default)",
                    )
                return BuildInfo(str(data["version"]), str(data.get("revision", "")), "tempo"), time.perf_counter() - t0
            ready = await self._get("/ready")
        elapsed = time.perf_counter() - t0
        if ready.status_code != 200:
            raise BackendUnavailable(
                f"/ready answered HTTP {ready.status_code}: {' '.join(error_text(ready, 200).split())}",
                where=self.where,
                hint="Tempo is starting or unhealthy; check its logs",
            )
        return BuildInfo("unknown", "", "tempo"), elapsed


# --- TraceQL and response mapping (pure) -------------------------------------------------------


def traceql_string(value: str) -> str:
    """A TraceQL string literal: double quotes, with backslash, quote and control characters escaped."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def traceql_attribute(name: str) -> str:
    """An unscoped attribute reference: ``.http.method``, or ``."a b"`` for a name TraceQL
    cannot take bare (only ``\\"`` and ``\\\\`` escapes exist inside the quotes)."""
    if name and _PLAIN_NAME.issuperset(name):
        return f".{name}"
    return '."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def traceql(query: TraceQuery) -> str:
    """The TraceQL spanset filter for ``query``: every condition on one span, ``{ }`` for none."""
    parts = []
    if query.service:
        parts.append(f"resource.service.name = {traceql_string(query.service)}")
    if query.operation:
        parts.append(f"name = {traceql_string(query.operation)}")
    if query.min_duration_ns is not None:
        parts.append(f"duration >= {go_duration(query.min_duration_ns)}")
    if query.max_duration_ns is not None:
        parts.append(f"duration <= {go_duration(query.max_duration_ns)}")
    if query.errors_only:
        parts.append("status = error")
    for key, value in query.tags.items():
        parts.append(f"{traceql_attribute(key)} = {traceql_string(str(value))}")
    return "{ " + " && ".join(parts) + " }" if parts else "{ }"


def summaries_from_search(data: Mapping[str, Any]) -> list[TraceSummary]:
    """``/api/search`` results as summaries, in Tempo's order. ``span_count`` is the sum of
    ``serviceStats`` span counts when Tempo sends them, else 0 (unknown): the spans of the
    span sets are only the matching ones."""
    out = []
    for t in data.get("traces") or ():
        stats = t.get("serviceStats") if isinstance(t.get("serviceStats"), dict) else {}
        root = str(t.get("rootServiceName") or "")
        if root == "<root span not yet received>":
            root = ""
        services = tuple(dict.fromkeys(([root] if root and root in stats else []) + [str(k) for k in stats]))
        out.append(
            TraceSummary(
                trace_id=normalise_id(t.get("traceID")),
                root_service=root,
                root_name=str(t.get("rootTraceName") or ""),
                start_ns=int(t.get("startTimeUnixNano") or 0),
                duration_ns=int(t.get("durationMs") or 0) * 1_000_000,
                span_count=sum(int((s or {}).get("spanCount") or 0) for s in stats.values()),
                services=services,
                error_count=sum(int((s or {}).get("errorCount") or 0) for s in stats.values()),
            )
        )
    return out


def _route_missing(resp: httpx.Response) -> bool:
    """A 404 for a path the server does not have (Go's mux), not for a trace it lacks."""
    return "page not found" in resp.text.lower()


def tempo_error(resp: httpx.Response, *, where: str) -> ZetaError:
    """Tempo's plain-text error (or a JSON ``message``/``error``) in its own words."""
    text = error_text(resp)
    if resp.status_code == 429 or resp.status_code >= 500:
        return BackendUnavailable(
            f"HTTP {resp.status_code}: {text}", where=where, hint="Tempo is overloaded or failing; retry later"
        )
    if resp.status_code == 404:
        return QueryError(
            f"HTTP 404: {text}", where=where, hint="the API is not at this URL; check the path prefix in url"
        )
    return QueryError(text, where=where, error_type="bad_request", hint="the message is Tempo's own")
