"""RFC 3339 timestamps as the alerting backends write them, read exactly (pure).

Prometheus (``activeAt``, up to nanoseconds, in the server's own zone:
``2018-07-04T20:27:12.60602144+02:00``) and Alertmanager (``startsAt``, ``endsAt``,
``updatedAt``, milliseconds, ``Z``) marshal Go ``time.Time`` values. What is read here is the
grammar of RFC 3339 section 5.6::

    full-date "T" full-time        2026-03-11T12:48:38.413Z
    time-offset = "Z" / ("+" / "-") HH ":" MM

- ``T`` and ``Z`` in either case (the RFC allows ``t`` and ``z``), or a space between date and
  time (the RFC's note on readability allows it; nothing is ambiguous about it).
- A fraction of any length: microseconds are kept, finer digits are truncated (Python's
  datetime holds microseconds; the alert paths compare moments to the millisecond).
- ``-00:00`` ("offset unknown", RFC 3339 4.3) is the same instant as ``Z``.
- A leap second (``23:59:60``) is the first moment of the next minute, as POSIX time counts it.

Anything else is *unknown*, never guessed and never an exception: a time without an offset
(its zone is not known), ISO 8601 forms RFC 3339 leaves out (``20260311T124838Z``, ``+0200``,
``,5`` fractions), impossible dates, and Go's zero time ``0001-01-01T00:00:00Z``, which
Alertmanager writes for "no time" (an alert with no end). Callers show unknown as "?".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = ["parse_rfc3339", "rfc3339_seconds"]

_RFC3339 = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_hour>\d{2}):(?P<off_minute>\d{2}))",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Go's zero time.Time, Alertmanager's "no time"
GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def parse_rfc3339(value: Any) -> datetime | None:
    """The instant ``value`` names, as an aware datetime in UTC; None when it is unknown (not a
    string, not RFC 3339, an impossible date or offset, Go's zero time)."""
    if not isinstance(value, str):
        return None
    m = _RFC3339.fullmatch(value.strip())
    if m is None:
        return None
    f = {k: int(v) for k, v in m.groupdict().items() if v and k not in ("utc", "sign", "fraction")}
    if f["hour"] > 23 or f["minute"] > 59 or f["second"] > 60:
        return None
    offset = timedelta(0)
    if m["sign"]:
        if f["off_hour"] > 23 or f["off_minute"] > 59:
            return None
        offset = timedelta(hours=f["off_hour"], minutes=f["off_minute"]) * (-1 if m["sign"] == "-" else 1)
    micro = int((m["fraction"] or "")[:6].ljust(6, "0"))
    leap = f["second"] == 60
    try:
        local = datetime(
            f["year"],
            f["month"],
            f["day"],
            f["hour"],
            f["minute"],
            59 if leap else f["second"],
            micro,
            tzinfo=timezone(offset),
        )
        moment = (local + timedelta(seconds=1) if leap else local).astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30, year 0, a moment before year 1 in UTC
        return None
    return None if moment == GO_ZERO_TIME else moment


def rfc3339_seconds(value: Any) -> float:
    """``value`` (see parse_rfc3339) as unix seconds; 0.0 when it is unknown, the alert models'
    "unknown time"."""
    moment = parse_rfc3339(value)
    return 0.0 if moment is None else (moment - _EPOCH) / timedelta(seconds=1)
