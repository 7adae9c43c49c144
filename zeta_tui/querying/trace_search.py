"""The trace search form's text -> a TraceQuery (shared by the Traces screen and `zeta traces`).

Fields: service, operation, tags (``key=value`` words, values with spaces quoted; ``error=true``
asks for traces with errors), min and max duration (``250ms``, ``1.5s``, ``2m``), limit. A
wrong field is a QueryError naming it.
"""

from __future__ import annotations

from zeta_tui.errors import QueryError
from zeta_tui.models.timerange import TimeRange, parse_duration
from zeta_tui.models.traces import TraceQuery

FIELDS = ("service", "operation", "tags", "min", "max", "limit")


def parse_tags(text: str) -> dict[str, str]:
    """``key=value key2="two words"`` -> {key: value, key2: two words}; QueryError otherwise."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise QueryError(
            f"tags: {exc}",
            where="search form",
            hint='write tags as key=value, quoting values with spaces: tenant_id=t1 note="a b"',
        ) from None
    out = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise QueryError(
                f"tags: {word!r} is not key=value",
                where="search form",
                hint="e.g. tenant_id=tenant_001 http.status_code=500",
            )
        out[key] = value
    return out


def parse_form(values: dict[str, str], time_range: TimeRange) -> TraceQuery:
    """The search form's text as a TraceQuery; QueryError naming the field that is wrong."""

    def duration(name: str) -> int | None:
        text = values.get(name, "").strip()
        if not text:
            return None
        try:
            return int(parse_duration(text) * 1e9)
        except ValueError:
            raise QueryError(
                f"{name} duration {text!r} is not a duration", where="search form", hint="e.g. 250ms, 1.5s, 2m"
            ) from None

    limit_text = values.get("limit", "").strip() or "50"
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 1000:
        raise QueryError(f"limit {limit_text!r} is not a number from 1 to 1000", where="search form")
    tags = parse_tags(values.get("tags", ""))
    errors_only = tags.pop("error", "").lower() in ("true", "1", "yes")
    low, high = duration("min"), duration("max")
    if low is not None and high is not None and low > high:
        raise QueryError("min duration is above max duration", where="search form")
    return TraceQuery(
        time_range=time_range,
        service=values.get("service", "").strip(),
        operation=values.get("operation", "").strip(),
        tags=tags,
        min_duration_ns=low,
        max_duration_ns=high,
        errors_only=errors_only,
        limit=int(limit_text),
    )
