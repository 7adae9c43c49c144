"""Jaeger's v1 query API JSON (``/api/traces``, ``/api/traces/{id}``) into Trace models, without I/O.

The envelope is ``{"data": [trace, ...], "errors": [{"code", "msg", "traceID"}, ...]}``; a
trace is ``{"traceID", "spans", "processes", "warnings"}`` with times in microseconds. A bare
trace object (as the Jaeger UI stores one) or a list of traces is read too.

- parent: the first CHILD_OF reference into the same trace, else the first reference into the
  same trace; every other reference (FOLLOWS_FROM, or one into another trace) is a SpanLink;
- status: ``otel.status_code`` (ERROR/OK) or the ``error`` tag; kind: the ``span.kind`` tag;
- tags become attributes with their JSON types (an ``int64`` sent as text is made an int),
  process tags the resource, logs events (named by their ``event`` field);
- Jaeger's per-span and per-trace ``warnings`` and the envelope's ``errors`` become
  Trace.warnings, next to what :func:`span_warnings` finds odd.

Written for 50,000-span answers: one pass over the spans, no regexes, no copies of the input.
:func:`parse_jaeger_fast` decodes the bytes with msgspec straight into typed structs and
builds the same Traces about twice as fast; whatever it does not take as it is (ids as numbers,
odd shapes, values of other types, text that is not JSON) goes to the dict path, orjson then
:func:`traces_from_jaeger`, which reads anything and whose answer (or error) is the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson

from zeta_tui.backends.traces.otlp_json import fast_id
from zeta_tui.backends.traces.typed_decode import dict_of, fast_input, list_of, plain_json, slots_constructor
from zeta_tui.models.bulk import gc_paused
from zeta_tui.models.traces import Span, SpanEvent, SpanLink, Trace, span_warnings

__all__ = ["envelope_errors", "parse_jaeger", "parse_jaeger_fast", "tags", "traces_from_jaeger"]

_KIND_TAG = {
    "server": "server",
    "client": "client",
    "producer": "producer",
    "consumer": "consumer",
    "internal": "internal",
}


def tags(pairs: Any) -> dict[str, Any]:
    """Jaeger ``[{"key", "type", "value"}]`` tags as a dict of typed values."""
    if not pairs:
        return {}
    try:
        # The fast path: Jaeger sends values with their JSON types; text is converted only
        # when the tag says it is a number or a bool.
        return {
            t["key"]: v if type(v) is not str or t["type"] == "string" else _typed(t["type"], v)
            for t in pairs
            for v in (t["value"],)
        }
    except (KeyError, TypeError):
        return {t.get("key", ""): _typed(t.get("type"), t.get("value")) for t in pairs if isinstance(t, dict)}


def _typed(kind: Any, value: Any) -> Any:
    if type(value) is not str:
        return value
    try:
        if kind == "int64":
            return int(value)
        if kind == "float64":
            return float(value)
    except ValueError:
        return value
    if kind == "bool":
        return value.lower() == "true"
    return value


def envelope_errors(doc: Any) -> list[str]:
    """The envelope's ``errors`` as text: "msg (trace <id>)"."""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    out = []
    for err in errors or ():
        if isinstance(err, dict):
            msg = str(err.get("msg") or err.get("message") or err.get("code") or "error")
            out.append(f"{msg} (trace {err['traceID']})" if err.get("traceID") else msg)
        else:
            out.append(str(err))
    return out


def _processes(raw: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    out = {}
    for pid, process in (raw or {}).items():
        if isinstance(process, dict):
            out[pid] = (process.get("serviceName") or "", tags(process.get("tags")))
    return out


def _trace(raw: dict[str, Any], extra_warnings: list[str]) -> list[Trace]:
    """One Jaeger trace object -> Traces (one, unless its spans carry other trace ids)."""
    processes = _processes(raw.get("processes"))
    no_process: tuple[str, dict[str, Any]] = ("", {})
    default_tid = raw.get("traceID")
    ids: dict[Any, str] = {}
    by_trace: dict[str, list[Span]] = {}
    warnings = [str(w) for w in raw.get("warnings") or ()]
    for s in raw.get("spans") or ():
        tid_raw = s.get("traceID") or default_tid
        trace_id = ids.get(tid_raw)
        if trace_id is None:
            trace_id = ids[tid_raw] = fast_id(tid_raw)
        span_id = fast_id(s.get("spanID"))
        attrs = tags(s.get("tags"))
        # parent and links
        parent_id = ""
        links: tuple[SpanLink, ...] = ()
        refs = s.get("references")
        if refs:
            chosen = -1
            for i, ref in enumerate(refs):
                if ref.get("refType", "CHILD_OF") == "CHILD_OF" and (ref.get("traceID") or tid_raw) == tid_raw:
                    chosen = i
                    break
            if chosen < 0:
                for i, ref in enumerate(refs):
                    if (ref.get("traceID") or tid_raw) == tid_raw:
                        chosen = i
                        break
            if chosen >= 0:
                parent_id = fast_id(refs[chosen].get("spanID"))
            if len(refs) > 1 or chosen < 0:
                links = tuple(
                    SpanLink(
                        fast_id(ref.get("traceID") or tid_raw),
                        fast_id(ref.get("spanID")),
                        str(ref.get("refType") or "child_of").lower(),
                    )
                    for i, ref in enumerate(refs)
                    if i != chosen
                )
        # status and kind from the tags
        status = "unset"
        code = attrs.get("otel.status_code")
        if code is not None:
            status = "error" if str(code).upper() == "ERROR" else "ok" if str(code).upper() == "OK" else "unset"
        err = attrs.get("error")
        if err is True or (type(err) is str and err.lower() == "true"):
            status = "error"
        kind = attrs.get("span.kind")
        # the process: by id, or embedded in the span
        process = s.get("process")
        if isinstance(process, dict):
            service, resource = process.get("serviceName") or "", tags(process.get("tags"))
        else:
            service, resource = processes.get(s.get("processID"), no_process)
        logs = s.get("logs")
        events: tuple[SpanEvent, ...] = ()
        if logs:
            evs = []
            for log in logs:
                fields = tags(log.get("fields"))
                name = fields.pop("event", "")
                evs.append(SpanEvent(int(log.get("timestamp") or 0) * 1000, str(name), fields))
            events = tuple(evs)
        span_warns = s.get("warnings")
        if span_warns:
            warnings.extend(f"span {span_id}: {w}" for w in span_warns)
        # Positional, in the order of Span's fields (a third faster than keywords on 50,000 spans).
        span = Span(
            trace_id,
            span_id,
            parent_id,
            s.get("operationName") or "",
            service,
            int(s.get("startTime") or 0) * 1000,
            int(s.get("duration") or 0) * 1000,
            _KIND_TAG.get(kind.lower(), "") if type(kind) is str else "",
            status,
            str(attrs.get("otel.status_description") or ""),
            attrs,
            resource,
            events,
            links,
        )
        by_trace.setdefault(trace_id, []).append(span)
    return _traces(by_trace, default_tid, warnings + extra_warnings)


def _traces(by_trace: dict[str, list[Span]], default_tid: Any, warnings: list[str]) -> list[Trace]:
    """One Trace per trace id met (the trace's own id when it has no spans), with the warnings
    and what is odd about its spans."""
    if not by_trace and default_tid:
        by_trace[fast_id(default_tid)] = []
    return [Trace(tid, tuple(spans), tuple(warnings + span_warnings(spans))) for tid, spans in by_trace.items()]


def traces_from_jaeger(doc: Any) -> list[Trace]:
    """Every trace in a decoded v1 answer (envelope, bare trace or list), in the answer's order.
    The envelope's errors are warnings of every trace returned (of none when there is none:
    read them with :func:`envelope_errors`)."""
    if isinstance(doc, dict) and "spans" in doc:
        items: Any = [doc]
    elif isinstance(doc, dict):
        items = doc.get("data") or []
    else:
        items = doc or []
    errors = envelope_errors(doc)
    out: list[Trace] = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            out.extend(_trace(item, errors))
    return out


def parse_jaeger(raw: bytes | str) -> list[Trace]:
    """v1 JSON text's traces: the typed fast path, else orjson and the dict path (ValueError for
    text that is not JSON)."""
    fast = parse_jaeger_fast(raw)
    if fast is not None:
        return fast[0]
    with gc_paused():
        return traces_from_jaeger(orjson.loads(raw))


# --- the typed fast path (msgspec) ----------------------------------------------------------------

_DECODER: Any = None
_ABSENT: Any = None  # msgspec.UNSET once the decoder is built
_new_span: Callable[..., Span] = Span  # Span(...) positionally; slots_constructor(Span) once the decoder is built


def _decoder() -> Any:
    """The msgspec decoder of a v1 answer (an envelope or a bare trace object) into structs, built
    at first use (msgspec is imported here, not at start-up)."""
    global _DECODER, _ABSENT, _new_span
    if _DECODER is None:
        import msgspec
        from msgspec import UNSET, UnsetType

        # Integers as orjson reads them (larger ones are floats there): others take the dict path.
        i64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]

        def struct(name: str, *fields: tuple[Any, ...]) -> Any:
            return msgspec.defstruct(name, fields, gc=False, module=__name__)

        # Defaults are what the dict path reads for an absent member ("" for a tag's key, as tags() does).
        tag_list = (
            list_of(
                struct(
                    "JaegerTag",
                    ("key", str | None, ""),
                    ("type", str | None, None),
                    ("value", str | i64 | float | bool | None, None),
                )
            )
            | None
        )
        process = struct("JaegerProcess", ("serviceName", str | None, None), ("tags", tag_list, None))
        ref = struct(
            "JaegerReference",
            ("refType", str | None, "CHILD_OF"),
            ("traceID", str | None, None),
            ("spanID", str | None, None),
        )
        log = struct("JaegerLog", ("timestamp", i64 | None, None), ("fields", tag_list, None))
        span = struct(
            "JaegerSpan",
            ("traceID", str | None, None),
            ("spanID", str | None, None),
            ("operationName", str | None, None),
            ("references", list_of(ref) | None, None),
            ("startTime", i64 | None, None),
            ("duration", i64 | None, None),
            ("tags", tag_list, None),
            ("logs", list_of(log) | None, None),
            ("processID", str | None, None),
            ("process", process | None, None),
            ("warnings", list[str] | None, None),
        )
        trace_fields = (
            ("traceID", str | None, None),
            ("spans", list_of(span) | None | UnsetType, UNSET),  # UNSET: no "spans" member (not a bare trace)
            ("processes", dict_of(str, process) | None, None),
            ("warnings", list[str] | None, None),
        )
        trace = struct("JaegerTrace", *trace_fields)
        answer = struct("JaegerAnswer", *trace_fields, ("data", list_of(trace) | None, None), ("errors", Any, None))
        _ABSENT, _new_span = UNSET, slots_constructor(Span)
        _DECODER = msgspec.json.Decoder(answer)
    return _DECODER


def _fast_tags(pairs: Any) -> dict[str, Any]:
    if not pairs:
        return {}
    return {
        t.key: v if type(v) is not str or t.type == "string" else _typed(t.type, v) for t in pairs for v in (t.value,)
    }


def _fast_trace(raw: Any, extra_warnings: list[str]) -> list[Trace]:
    """_trace over a typed trace: the same reads, in the same order."""
    processes = {pid: (p.serviceName or "", _fast_tags(p.tags)) for pid, p in (raw.processes or {}).items()}
    no_process: tuple[str, dict[str, Any]] = ("", {})
    default_tid = raw.traceID
    ids: dict[Any, str] = {}
    by_trace: dict[str, list[Span]] = {}
    warnings = list(raw.warnings or ())
    for s in raw.spans or ():
        tid_raw = s.traceID or default_tid
        trace_id = ids.get(tid_raw)
        if trace_id is None:
            trace_id = ids[tid_raw] = fast_id(tid_raw)
        span_id = fast_id(s.spanID)
        attrs = _fast_tags(s.tags)
        parent_id = ""
        links: tuple[SpanLink, ...] = ()
        refs = s.references
        if refs and len(refs) == 1:  # the common case, as the loops below decide it
            ref = refs[0]
            if (ref.traceID or tid_raw) == tid_raw:
                parent_id = fast_id(ref.spanID)
            else:
                links = (SpanLink(fast_id(ref.traceID), fast_id(ref.spanID), (ref.refType or "child_of").lower()),)
        elif refs:
            chosen = -1
            for i, ref in enumerate(refs):
                if ref.refType == "CHILD_OF" and (ref.traceID or tid_raw) == tid_raw:
                    chosen = i
                    break
            if chosen < 0:
                for i, ref in enumerate(refs):
                    if (ref.traceID or tid_raw) == tid_raw:
                        chosen = i
                        break
            if chosen >= 0:
                parent_id = fast_id(refs[chosen].spanID)
            if len(refs) > 1 or chosen < 0:
                links = tuple(
                    SpanLink(fast_id(ref.traceID or tid_raw), fast_id(ref.spanID), (ref.refType or "child_of").lower())
                    for i, ref in enumerate(refs)
                    if i != chosen
                )
        status = "unset"
        code = attrs.get("otel.status_code")
        if code is not None:
            status = "error" if str(code).upper() == "ERROR" else "ok" if str(code).upper() == "OK" else "unset"
        err = attrs.get("error")
        if err is True or (type(err) is str and err.lower() == "true"):
            status = "error"
        kind = attrs.get("span.kind")
        process = s.process
        if process is not None:
            service, resource = process.serviceName or "", _fast_tags(process.tags)
        else:
            service, resource = processes.get(s.processID, no_process)
        logs = s.logs
        events: tuple[SpanEvent, ...] = ()
        if logs:
            evs = []
            for log in logs:
                fields = _fast_tags(log.fields)
                name = fields.pop("event", "")
                evs.append(SpanEvent((log.timestamp or 0) * 1000, str(name), fields))
            events = tuple(evs)
        span_warns = s.warnings
        if span_warns:
            warnings.extend(f"span {span_id}: {w}" for w in span_warns)
        span = _new_span(
            trace_id,
            span_id,
            parent_id,
            s.operationName or "",
            service,
            (s.startTime or 0) * 1000,
            (s.duration or 0) * 1000,
            _KIND_TAG.get(kind.lower(), "") if type(kind) is str else "",
            status,
            str(attrs.get("otel.status_description") or ""),
            attrs,
            resource,
            events,
            links,
        )
        by_trace.setdefault(trace_id, []).append(span)
    return _traces(by_trace, default_tid, warnings + extra_warnings)


def parse_jaeger_fast(raw: bytes | str) -> tuple[list[Trace], list[str]] | None:
    """The traces and the envelope's errors (:func:`envelope_errors`) of v1 JSON text whose top
    is an object, decoded by msgspec into structs; None when the input needs the dict path
    (anything the typed decode refuses, or might read otherwise)."""
    data = fast_input(raw)
    if data is None:
        return None
    with gc_paused():
        try:
            doc = _decoder().decode(data)
            if not plain_json(doc.errors):
                return None
            errors = envelope_errors({"errors": doc.errors})
            items = [doc] if doc.spans is not _ABSENT else doc.data or ()  # a bare trace, else the envelope
            out: list[Trace] = []
            for item in items:
                out.extend(_fast_trace(item, errors))
            return out, errors
        except Exception:
            return None
