"""One JSON document (an ES ``_source``, a Loki JSON line) -> one LogRecord.

Log shippers name the same thing differently (``level`` / ``log.level`` / ``severity``,
``service`` / ``service.name`` / ``kubernetes.container.name``), so the well-known fields are
looked up under each of their usual names after flattening; whatever is left goes to
``fields`` with dotted names, values as the document typed them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from zeta_tui.models.logs import LogRecord, normalise_level

LEVEL_KEYS = ("level", "log.level", "severity", "severity_text", "lvl", "loglevel", "levelname")
SERVICE_KEYS = ("service", "service.name", "kubernetes.container.name", "service_name")
MESSAGE_KEYS = ("message", "msg", "log", "line", "text")
TRACE_KEYS = ("trace_id", "trace.id", "traceId", "traceID", "TraceId")
SPAN_KEYS = ("span_id", "span.id", "spanId", "spanID", "SpanId")
TIMESTAMP_KEYS = ("timestamp", "@timestamp", "time", "ts")

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}, "c": [1]} -> {"a.b": 1, "c": [1]}; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = prefix + key if prefix else key
        if type(value) is dict and value:  # decoded JSON: exact dicts (isinstance on Mapping is slow)
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def parse_timestamp_ns(value: Any) -> int | None:
    """An RFC 3339 / ISO 8601 string (any fraction precision, zone optional = UTC) or an epoch
    number (seconds, millis, micros or nanos, told apart by magnitude) -> unix nanoseconds."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _epoch_ns(value)
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return _epoch_ns(int(text) if text.lstrip("-").isdigit() else float(text))
    m = _ISO.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        base = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC)
    except ValueError:
        return None
    # Integer seconds plus the fraction as written: float seconds would lose the nanoseconds.
    ns = int(base.timestamp()) * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
        ns -= sign * offset * 1_000_000_000
    return ns


def format_ns(ns: int) -> str:
    """Unix nanoseconds -> RFC 3339 in UTC with all nine fraction digits."""
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def _epoch_ns(number: float | int) -> int:
    magnitude = abs(number)
    if magnitude >= 1e17:
        return int(number)
    if magnitude >= 1e14:
        return int(number * 1_000)
    if magnitude >= 1e11:
        return round(number * 1_000_000)
    return round(number * 1_000_000_000)


def _pop_first(flat: dict[str, Any], keys: Iterable[str]) -> Any:
    """The first non-empty value under ``keys`` (removed from ``flat``); other aliases stay
    as fields, so a document with both ``message`` and ``log`` loses neither."""
    for key in keys:
        value = flat.get(key)
        if value is not None and value != "":
            return flat.pop(key)
    return None


def record_from_document(
    doc: Mapping[str, Any],
    *,
    timestamp_ns: int | None = None,
    timestamp_field: str | None = None,
    record_id: str = "",
    extra_fields: Mapping[str, Any] | None = None,
) -> LogRecord:
    """A LogRecord from one JSON object.

    ``timestamp_ns`` (when the store knows the time, as Loki does) wins over the document's
    own; otherwise ``timestamp_field`` (then the usual names) is read. ``extra_fields`` (Loki
    stream labels) fill in names the document does not have; they can supply the level and
    service too.
    """
    flat = flatten(doc)
    time_keys = (timestamp_field, *TIMESTAMP_KEYS) if timestamp_field else TIMESTAMP_KEYS
    # The document's own time is read (or, when the store's time wins, dropped: to_dict()
    # writes the one timestamp) from the first of its names that parses.
    doc_ts = None
    for key in time_keys:
        if key in flat and (doc_ts := parse_timestamp_ns(flat[key])) is not None:
            del flat[key]
            break
    if doc_ts is not None:
        # Logstash's date filter copies ``timestamp`` into ``@timestamp`` (to the millisecond)
        # and keeps the source: the same instant under another name is not a field of its own.
        for key in TIMESTAMP_KEYS:
            other = parse_timestamp_ns(flat[key]) if key in flat else None
            if other is not None and other // 1_000_000 == doc_ts // 1_000_000:
                del flat[key]
    level = _pop_first(flat, LEVEL_KEYS)
    service = _pop_first(flat, SERVICE_KEYS)
    message = _pop_first(flat, MESSAGE_KEYS)
    trace_id = _pop_first(flat, TRACE_KEYS)
    span_id = _pop_first(flat, SPAN_KEYS)
    if extra_fields:
        # Labels stay in fields too, so a query on a label name still finds them.
        labels = dict(extra_fields)
        if level is None:
            level = _pop_first(dict(labels), ("level", "detected_level", "severity", "severity_text"))
        if service is None:
            service = _pop_first(dict(labels), ("service", "service_name", "app", "container", "job"))
        if trace_id is None:  # Loki structured metadata often carries the OTel ids
            trace_id = _pop_first(dict(labels), TRACE_KEYS)
        if span_id is None:
            span_id = _pop_first(dict(labels), SPAN_KEYS)
        for key, value in labels.items():
            flat.setdefault(key, value)
    return LogRecord(
        timestamp_ns=timestamp_ns if timestamp_ns is not None else (doc_ts or 0),
        level=normalise_level(str(level)) if level is not None else "",
        service=str(service) if service is not None else "",
        message=message if isinstance(message, str) else ("" if message is None else str(message)),
        fields=flat,
        trace_id=str(trace_id) if trace_id is not None else "",
        span_id=str(span_id) if span_id is not None else "",
        record_id=record_id,
    )


def record_from_line(
    line: str, *, timestamp_ns: int, record_id: str = "", labels: Mapping[str, Any] | None = None
) -> LogRecord:
    """A log line that is a JSON object is parsed as one; any other line is the message."""
    stripped = line.lstrip()
    if stripped.startswith("{"):
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            return record_from_document(doc, timestamp_ns=timestamp_ns, record_id=record_id, extra_fields=labels)
    return record_from_document({"message": line}, timestamp_ns=timestamp_ns, record_id=record_id, extra_fields=labels)
