"""Traces as every trace source returns them: spans, a trace, a search query and its results.

Ids are normalised once, when a source builds the model (``normalise_id``): lower-case hex, a
64-bit id as 16 digits and a 128-bit id as 32, whatever the source sent (hex in any case,
base64 as Tempo sends it, a decimal number). A 128-bit id whose high half is zero is the same
trace as its 64-bit form (``same_id``), so a log record's 32-digit trace_id finds a trace that
Jaeger reports with 16 digits.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeta_tui.models.timerange import TimeRange

_HEX = re.compile(r"[0-9a-fA-F]+")

#: span kinds as the model spells them (OTLP's SPAN_KIND_SERVER / 2 / Jaeger's span.kind tag)
KINDS = ("internal", "server", "client", "producer", "consumer")


def normalise_id(value: Any) -> str:
    """A trace or span id as lower-case hex: 16 digits for 64 bits, 32 for 128; "" for none.

    Accepts hex (any case, with or without leading zeros), base64 (Tempo, protobuf JSON) and
    integers (ids as numbers). Text that is neither is kept, lower-cased, so that nothing is lost.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        digits = f"{value & (2**128 - 1):x}"
    else:
        text = str(value).strip()
        if not text:
            return ""
        # Hex first: base64 of 8 or 16 random bytes is almost never made of hex digits only
        # (under 1 in 10^10), while Jaeger writes 128-bit ids without the high half's zeros.
        if _HEX.fullmatch(text) and len(text) <= 32:
            digits = text.lower()
        else:
            try:
                raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
            except (binascii.Error, ValueError):
                return text.lower()
            if not 1 <= len(raw) <= 16:
                return text.lower()
            digits = raw.hex()
    digits = digits.lstrip("0") or "0"
    return digits.rjust(16 if len(digits) <= 16 else 32, "0")


def format_duration_ns(ns: int) -> str:
    """A span duration as people read it: 12 ns, 850 µs, 150 ms, 1.25 s, 2 m 05 s."""
    ns = int(ns)
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000:
        return f"{sign}{ns} ns"
    for unit, size in (("µs", 1e3), ("ms", 1e6), ("s", 1e9)):
        value = ns / size
        if value < 999.5:
            digits = 0 if value >= 99.95 else 1 if value >= 9.995 else 2
            text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
            if unit != "s" or value < 59.95:
                return f"{sign}{text} {unit}"
            break
    minutes, seconds = divmod(round(ns / 1e9), 60)
    text = f"{minutes} m {seconds:02d} s"
    return sign + text


def same_id(a: str, b: str) -> bool:
    """The same id, ignoring leading zeros (a 64-bit id and its 128-bit form)."""
    return (a.lstrip("0") or "0") == (b.lstrip("0") or "0") if a and b else a == b


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """A timestamped event in a span (OTLP event, Jaeger log)."""

    timestamp_ns: int
    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpanLink:
    """A reference to another span: an OTLP link, or a Jaeger reference other than the parent
    (FOLLOWS_FROM, or CHILD_OF into another trace)."""

    trace_id: str
    span_id: str
    kind: str = "link"  # link, follows_from, child_of
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Span:
    """One span. ``parent_id`` is "" for a root; a parent not in the trace is still named here."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    service: str
    start_ns: int
    duration_ns: int
    kind: str = ""  # one of KINDS, or "" when the source does not say
    status: str = "unset"  # unset, ok, error
    status_message: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    resource: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    links: tuple[SpanLink, ...] = ()

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    @property
    def is_error(self) -> bool:
        """An error span: OTLP status ERROR, or the ``error`` tag Jaeger clients set."""
        if self.status == "error":
            return True
        flag = self.attributes.get("error")
        return flag is True or (isinstance(flag, str) and flag.lower() == "true")

    def get(self, name: str, default: Any = None) -> Any:
        """An attribute by name: the span's own, then its resource's."""
        if name in self.attributes:
            return self.attributes[name]
        return self.resource.get(name, default)


@dataclass(frozen=True, slots=True)
class Trace:
    """All the spans a source returned for one trace id, in the source's order, and what the
    source warned about (or what was odd in its answer)."""

    trace_id: str
    spans: tuple[Span, ...]
    warnings: tuple[str, ...] = ()

    @property
    def start_ns(self) -> int:
        return min((s.start_ns for s in self.spans), default=0)

    @property
    def end_ns(self) -> int:
        return max((s.end_ns for s in self.spans), default=0)

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def services(self) -> tuple[str, ...]:
        """Service names in order of first appearance ("" for spans without one left out)."""
        return tuple(dict.fromkeys(s.service for s in self.spans if s.service))

    def summary(self) -> TraceSummary:
        """The search-result line for this trace (root = earliest span without a parent here)."""
        ids = {s.span_id for s in self.spans}
        roots = [s for s in self.spans if not s.parent_id or s.parent_id not in ids]
        root = min(roots or self.spans, key=lambda s: (s.parent_id != "", s.start_ns)) if self.spans else None
        return TraceSummary(
            trace_id=self.trace_id,
            root_service=root.service if root else "",
            root_name=root.name if root else "",
            start_ns=self.start_ns,
            duration_ns=self.duration_ns,
            span_count=len(self.spans),
            services=self.services,
            error_count=sum(1 for s in self.spans if s.is_error),
        )


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One search result: what a results list shows before the whole trace is fetched."""

    trace_id: str
    root_service: str
    root_name: str
    start_ns: int
    duration_ns: int
    span_count: int
    services: tuple[str, ...] = ()
    error_count: int = 0


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """A trace search: every field but the time range is optional.

    ``tags`` are span (or resource) attributes that must equal the given text, as Jaeger's
    ``tags`` parameter and TraceQL's ``.key = "value"``. Durations are nanoseconds.
    """

    time_range: TimeRange
    service: str = ""
    operation: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    errors_only: bool = False
    limit: int = 20


@dataclass(frozen=True, slots=True)
class TraceSearch:
    """The results of a search, newest first, and the source's warnings."""

    summaries: tuple[TraceSummary, ...]
    warnings: tuple[str, ...] = ()


def span_warnings(spans: list[Span]) -> list[str]:
    """What a viewer should know about a trace's spans: span ids that repeat, and parents named
    but not in the trace (the trace is incomplete, or a clock or exporter dropped spans)."""
    ids: set[str] = set()
    repeated: dict[str, int] = {}
    for s in spans:
        if s.span_id in ids:
            repeated[s.span_id] = repeated.get(s.span_id, 1) + 1
        else:
            ids.add(s.span_id)
    out = [f"span id {sid} appears {n} times" for sid, n in list(repeated.items())[:5]]
    if len(repeated) > 5:
        out.append(f"{len(repeated) - 5} more span ids appear more than once")
    missing = list(dict.fromkeys(s.parent_id for s in spans if s.parent_id and s.parent_id not in ids))
    if missing:
        orphans = sum(1 for s in spans if s.parent_id and s.parent_id not in ids)
        named = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
        out.append(f"{orphans} span(s) have a parent that is not in the trace ({named})")
    return out
