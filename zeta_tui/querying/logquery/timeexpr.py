"""Times in log queries: ``now``, ``now-1h``, ``now-15m``, ``now-1d/d``, ISO dates.

Relative times are resolved against a ``now`` the caller passes at translation time, never the
wall clock, so a translation is a pure function of (query, now) and tests are exact.
Also: the top-level time window of a query, for backends (Loki) whose time range is a request
parameter rather than part of the query text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from zeta_tui.errors import QueryError

from .ast import TIME_FIELD, And, LogQuery, MatchAll, Node, Range

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_NOW = re.compile(r"now(?P<steps>(?:[+-]\d+[smhdw])*)(?:/(?P<round>[smhd]))?")
_STEP = re.compile(r"([+-])(\d+)([smhdw])")
_HINT = "write now, now-15m, now-1h, now-7d (units s m h d w), or an ISO date such as 2026-11-27T06:00:00Z"


def is_time_expression(value: str) -> bool:
    """True if ``value`` is a time this module can resolve (checked at parse time)."""
    try:
        resolve_time(value, datetime(2000, 1, 1, tzinfo=UTC))
    except QueryError:
        return False
    return True


def resolve_time(value: str, now: datetime) -> datetime:
    """The UTC datetime ``value`` names, relative to ``now``; QueryError if it names none."""
    now = _as_utc(now)
    text = value.strip()
    match = _NOW.fullmatch(text)
    if match:
        moment = now
        for sign, amount, unit in _STEP.findall(match["steps"]):
            delta = timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])
            moment = moment - delta if sign == "-" else moment + delta
        if match["round"]:
            step = _UNIT_SECONDS[match["round"]]
            epoch = int(moment.timestamp()) // step * step
            moment = datetime.fromtimestamp(epoch, tz=UTC)
        return moment
    try:
        # fromisoformat reads "Z" since Python 3.11; a date alone means its midnight.
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{value!r} is not a time", hint=_HINT, where="log query") from None
    return _as_utc(moment)


def _as_utc(moment: datetime) -> datetime:
    # A time without a zone is UTC: logs are stored in UTC and servers differ in local zones.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def split_time_window(query: LogQuery) -> tuple[tuple[Range, ...], Node]:
    """The timestamp ranges ANDed at the top of the query, and the rest of the query.

    ``level:ERROR AND timestamp:[now-1h TO now]`` gives ``((Range(timestamp...),), Term(level))``.
    A timestamp range under OR or NOT stays in the rest.
    """
    root = query.root
    items = root.items if isinstance(root, And) else (root,)
    window = tuple(i for i in items if isinstance(i, Range) and i.field == TIME_FIELD)
    rest = tuple(i for i in items if not (isinstance(i, Range) and i.field == TIME_FIELD))
    if not rest:
        return window, MatchAll()
    return window, rest[0] if len(rest) == 1 else And(rest)


def time_window(query: LogQuery, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(start, end) the query's top-level timestamp ranges allow; None where unbounded.

    Backends whose time range is a request parameter (Loki's query_range start/end) intersect
    their own range with this one. Exclusive bounds are treated as inclusive: log timestamps
    are nanoseconds apart, so the difference is one record at most, at the edge.
    """
    start: datetime | None = None
    end: datetime | None = None
    for item in split_time_window(query)[0]:
        if item.low is not None:
            low = resolve_time(item.low, now)
            start = low if start is None else max(start, low)
        if item.high is not None:
            high = resolve_time(item.high, now)
            end = high if end is None else min(end, high)
    return start, end
