"""Jaeger as a trace source: the query service's HTTP API, v1 (``/api/...``, Jaeger JSON) or
v3 (``/api/v3/...``, OTLP JSON).

``api = "auto"`` asks ``/api/v3/services`` once and keeps v3 if it answers, else v1. Both
searches return whole traces, which are summarised here. Trace ids go to the server as
normalised hex. Errors are Jaeger's own words: v1's ``{"errors": [{"msg"}]}``, v3's
``{"error": {"message"}}``, or the text a proxy sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson

from zeta_tui.backends.http import HttpBackend
from zeta_tui.backends.json_pieces import decode_and_build
from zeta_tui.backends.off_loop import run_off_loop
from zeta_tui.backends.traces.base import TraceNotFound, TraceSource
from zeta_tui.backends.traces.jaeger_json import envelope_errors, parse_jaeger_fast, traces_from_jaeger
from zeta_tui.backends.traces.otlp_json import parse_otlp_fast, traces_from_otlp
from zeta_tui.config.models import TracesConfig
from zeta_tui.errors import BackendUnavailable, QueryError, ZetaError
from zeta_tui.models.bulk import let_go
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.traces import Trace, TraceQuery, TraceSearch, TraceSummary, normalise_id, same_id

T = TypeVar("T")

#: Answers up to this size are read by the typed fast path (msgspec, about twice as fast as
#: the dict path): its one decode call holds the GIL ~4 ms per MB (bench/README.md, "The
#: console answers while it parses"); a larger answer is decoded in pieces instead, so a key
#: never waits behind it.
FAST_PATH_BYTES = 8 * 1024 * 1024

__all__ = ["FAST_PATH_BYTES", "JaegerTraceSource", "go_duration", "jaeger_error", "pick_trace", "rfc3339"]


def _same(value: T) -> T:
    return value


class JaegerTraceSource(HttpBackend, TraceSource):
    """Traces from a Jaeger query service at ``cfg.url`` (the UI's base URL)."""

    kind = "jaeger"

    def __init__(self, cfg: TracesConfig) -> None:
        super().__init__(cfg)
        self._api: str | None = None if cfg.api == "auto" else cfg.api

    async def api(self) -> str:
        """ "v3" or "v1": as configured, or (auto) v3 when ``/api/v3/services`` answers; asked once."""
        if self._api is None:
            resp = await self.request("GET", "/api/v3/services")
            self.raise_for_auth(resp)
            ok = False
            if resp.status_code == 200:
                try:
                    ok = isinstance((await self.read_json(resp)).get("services"), list)
                except (ZetaError, AttributeError):
                    ok = False
            self._api = "v3" if ok else "v1"
        return self._api

    async def _response(
        self, path: str, params: Mapping[str, str] | None = None, *, trace_id: str = ""
    ) -> httpx.Response:
        resp = await self.request("GET", path, params=params)
        self.raise_for_auth(resp)
        if resp.status_code >= 400:
            raise jaeger_error(resp, where=self.where, trace_id=trace_id)
        return resp

    def _object(self, resp: httpx.Response, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise BackendUnavailable(
                f"{resp.url.path} answered {type(data).__name__}, not an object", where=self.where, hint="check the url"
            )
        return data

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The answer's JSON object."""
        return await self._get_built(path, params, _same)

    async def _get_built(
        self, path: str, params: Mapping[str, str] | None, build: Callable[[dict[str, Any]], T], *, trace_id: str = ""
    ) -> T:
        """``build`` of the answer's JSON object, decoded and built off the event loop when large
        (HttpBackend.read): a search answers whole traces, tens of MB."""
        resp = await self._response(path, params, trace_id=trace_id)
        return await self.read(resp, lambda data: build(self._object(resp, data)))

    def _decode_and_read(
        self,
        fast: Callable[[bytes], tuple[list[Trace], list[str]] | None],
        parse: Callable[[Any], list[Trace]],
        resp: httpx.Response,
    ) -> tuple[list[Trace], list[str]]:
        """Traces and the envelope's errors of an answer (blocking: run it in a thread): typed
        straight from the bytes by ``fast`` when the answer is at most FAST_PATH_BYTES and
        ``fast`` takes it, else decoded in pieces to dicts and read by ``parse``, which also
        says what is wrong (not JSON, not an object, not trace JSON)."""
        body = resp.content
        if len(body) <= FAST_PATH_BYTES:
            found = fast(body)
            if found is not None:
                return found
        try:
            return decode_and_build(
                body, lambda data: (self._read(parse, self._object(resp, data)), envelope_errors(data))
            )
        except orjson.JSONDecodeError:
            self.decode_json(resp)  # raises what says what came instead
            raise

    # --- the search form --------------------------------------------------------------------

    async def services(self) -> list[str]:
        if await self.api() == "v3":
            names = (await self._get("/api/v3/services")).get("services")
        else:
            names = (await self._get("/api/services")).get("data")
        return sorted({str(n) for n in names or ()})

    async def operations(self, service: str) -> list[str]:
        if await self.api() == "v3":
            ops = (await self._get("/api/v3/operations", {"service": service})).get("operations")
            return sorted({str(op.get("name", "")) if isinstance(op, dict) else str(op) for op in ops or ()})
        data = (await self._get(f"/api/services/{quote(service, safe='')}/operations")).get("data")
        return sorted({str(op.get("name", "")) if isinstance(op, dict) else str(op) for op in data or ()})

    # --- search and trace --------------------------------------------------------------------

    async def search(self, query: TraceQuery) -> TraceSearch:
        tags = dict(query.tags)
        if query.errors_only:
            tags["error"] = "true"
        warnings: list[str] = []
        if await self.api() == "v3":
            params = {
                "query.service_name": query.service,
                "query.start_time_min": rfc3339(query.time_range.start),
                "query.start_time_max": rfc3339(query.time_range.end),
                "query.search_depth": str(query.limit),
            }
            if query.operation:
                params["query.operation_name"] = query.operation
            if tags:
                params["query.attributes"] = json.dumps(tags, separators=(",", ":"))
            _add_durations(params, query, "query.duration_min", "query.duration_max")
            try:
                # Older v3 servers ignore query.attributes: keep only what was asked for.
                summaries = await self._get_built(
                    "/api/v3/traces",
                    params,
                    lambda data: _summaries(
                        self._read(traces_from_otlp, data),
                        query.limit,
                        lambda t: _matches(t, query.tags, query.errors_only),
                    ),
                )
            except TraceNotFound:
                return TraceSearch(())  # v3 answers 404 "No traces found" for an empty result
        else:
            params = {
                "service": query.service,
                "start": str(int(query.time_range.start * 1e6)),
                "end": str(int(query.time_range.end * 1e6)),
                "limit": str(query.limit),
            }
            if query.operation:
                params["operation"] = query.operation
            if tags:
                params["tags"] = json.dumps(tags, separators=(",", ":"))
            _add_durations(params, query, "minDuration", "maxDuration")
            # The envelope's errors: some storage shards failed, the results are partial.
            summaries, warnings = await self._get_built(
                "/api/traces",
                params,
                lambda data: (
                    _summaries(self._read(traces_from_jaeger, data), query.limit),
                    envelope_errors(data),
                ),
            )
        return TraceSearch(tuple(summaries), tuple(warnings))

    async def trace(self, trace_id: str) -> Trace:
        tid = normalise_id(trace_id)
        if not tid:
            raise QueryError("no trace id given", where=self.where)
        # A 50,000-span answer is tens of MB: decoded and read in a thread, the console stays live.
        if await self.api() == "v3":
            resp = await self._response(f"/api/v3/traces/{quote(tid, safe='')}", trace_id=tid)
            traces, errors = await run_off_loop(
                self._decode_and_read, lambda raw: _fast_v3(raw, tid), traces_from_otlp, resp
            )
        else:
            resp = await self._response(f"/api/traces/{quote(tid, safe='')}", trace_id=tid)
            traces, errors = await run_off_loop(self._decode_and_read, parse_jaeger_fast, traces_from_jaeger, resp)
        found = pick_trace(traces, tid)
        if found is None:
            if any("not found" in e.lower() for e in errors) or not errors:
                raise TraceNotFound(
                    f"trace {tid} not found",
                    where=self.where,
                    hint="it may be older than the storage keeps, or not sampled",
                )
            raise QueryError("; ".join(errors), where=self.where)
        return found

    def _read(self, parse: Callable[[Any], list[Trace]], data: Any) -> list[Trace]:
        try:
            return parse(data)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise BackendUnavailable(
                f"the answer is not Jaeger trace JSON ({type(exc).__name__}: {exc})",
                where=self.where,
                hint="check the url and the api setting",
            ) from None

    async def check(self) -> tuple[BuildInfo, float]:
        _ = self.client
        t0 = time.perf_counter()
        data = await self._get("/api/services")
        elapsed = time.perf_counter() - t0
        # Jaeger lists the service names (null when there are none).
        names = data.get("data", False)
        if not (names is None or isinstance(names, list)):
            raise BackendUnavailable(
                "/api/services answered without a list of services: not a Jaeger query service?",
                where=self.where,
                hint="check the url (the Jaeger UI's address)",
            )
        return BuildInfo("unknown", "", "jaeger"), elapsed


# --- helpers (pure) ------------------------------------------------------------------------------


def _summaries(traces: list[Trace], limit: int, keep: Callable[[Trace], bool] = lambda t: True) -> list[TraceSummary]:
    """Summaries of the traces kept that have spans, newest first, at most ``limit``. The
    traces are let go of a few spans at a time: a search answers whole traces, and 60,000
    spans freed at once hold the GIL for 80 ms."""
    summaries = sorted((t.summary() for t in traces if t.spans and keep(t)), key=lambda s: s.start_ns, reverse=True)[
        :limit
    ]
    spans = [s for t in traces for s in t.spans]
    traces.clear()
    let_go(spans)
    return summaries


def _fast_v3(raw: bytes, trace_id: str) -> tuple[list[Trace], list[str]] | None:
    """A v3 answer's traces from the typed OTLP path when they hold the trace asked for (the
    envelope's errors are read only when it is missing, on the dict path), else None."""
    traces = parse_otlp_fast(raw)
    if traces is None or pick_trace(traces, trace_id) is None:
        return None
    return traces, []


def pick_trace(traces: list[Trace], trace_id: str) -> Trace | None:
    """The trace with ``trace_id`` (leading zeros aside) that has spans, else None."""
    for t in traces:
        if t.spans and same_id(t.trace_id, trace_id):
            return t
    return None


def _matches(trace: Trace, tags: Mapping[str, str], errors_only: bool) -> bool:
    if errors_only and not any(s.is_error for s in trace.spans):
        return False
    if not tags:
        return True
    return any(all(_text(s.get(k)) == v for k, v in tags.items()) for s in trace.spans)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def _add_durations(params: dict[str, str], query: TraceQuery, lo: str, hi: str) -> None:
    if query.min_duration_ns is not None:
        params[lo] = go_duration(query.min_duration_ns)
    if query.max_duration_ns is not None:
        params[hi] = go_duration(query.max_duration_ns)


def go_duration(ns: int) -> str:
    """Nanoseconds as a Go duration: 500000000 -> "500ms", 1500000000 -> "1.5s", 2500 -> "2500ns"."""
    ns = int(ns)
    if ns % 1_000_000 == 0 and abs(ns) < 1_000_000_000:
        return f"{ns // 1_000_000}ms"
    if ns % 1_000_000 == 0:
        whole, frac = divmod(ns, 1_000_000_000)
        return f"{whole}.{frac:09d}".rstrip("0").rstrip(".") + "s"
    if ns % 1000 == 0:
        return f"{ns // 1000}us"
    return f"{ns}ns"


def rfc3339(seconds: float) -> str:
    """Unix seconds as RFC 3339 UTC with microseconds, as Go's time.RFC3339Nano reads it."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jaeger_error(resp: httpx.Response, *, where: str, trace_id: str = "") -> ZetaError:
    """A Jaeger error answer in Jaeger's words: TraceNotFound for a 404 on a trace id."""
    text = resp.text.strip()
    if text.startswith("{"):
        try:
            import orjson

            data = orjson.loads(text)
            err = data.get("error")
            if isinstance(err, dict):
                text = str(err.get("message") or text)
            elif isinstance(err, str):
                text = err
            elif data.get("errors"):
                text = "; ".join(envelope_errors(data)) or text
        except (ValueError, AttributeError):
            pass
    text = text[:1000] or f"HTTP {resp.status_code}"
    if resp.status_code == 404 and (trace_id or "no traces found" in text.lower()):
        return TraceNotFound(
            f"trace {trace_id} not found" if trace_id else text,
            where=where,
            hint="it may be older than the storage keeps, or not sampled" if trace_id else "",
        )
    if resp.status_code == 429 or resp.status_code >= 500:
        return BackendUnavailable(
            f"HTTP {resp.status_code}: {text}", where=where, hint="Jaeger or its storage is failing; retry later"
        )
    if resp.status_code == 404:
        return QueryError(
            f"HTTP 404: {text}", where=where, hint="the API is not at this URL; check the path prefix in url (and api)"
        )
    return QueryError(text, where=where, error_type="bad_request", hint="the message is Jaeger's own")
