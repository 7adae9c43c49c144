"""Loki's answers read: stream results and tail frames into records, its refusals into ZetaErrors.

Pure where it can be (tests read captured answers with these), plus the small pieces the
source's tail needs: the ids already yielded, a tail frame decoded off the loop when large,
the upgrade refusal's body kept. The source itself (queries, paging, the tail) is loki.py.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx

from zeta_tui.backends.http import error_text
from zeta_tui.backends.logs.records import record_from_line
from zeta_tui.errors import BackendUnavailable, QueryError, ZetaError
from zeta_tui.models.logs import LogRecord
from zeta_tui.models.timerange import TimeRange

# Loki's messages when a query hits a server limit: shown as the server wrote them.
_LIMIT_PHRASES = (
    "exceeds the limit",
    "limit exceeded",
    "max entries limit",
    "too many",
    "max_query_length",
    "maximum of series",
    "query length",
    "max concurrent tail",
    "tail duration",
    "max_query_series",
)


class RecentIds:
    """Ids of the records already yielded, the newest 100,000 of them."""

    def __init__(self, cap: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._cap = cap

    def fresh(self, records: Iterable[LogRecord]) -> list[LogRecord]:
        """The records not yielded before, now remembered as yielded."""
        out = [r for r in records if r.record_id not in self._ids]
        for r in out:
            self._ids[r.record_id] = None
        while len(self._ids) > self._cap:
            self._ids.popitem(last=False)
        return out


class TailClosed(Exception):
    """The tail websocket ended; the message says how."""


# --- response mapping (pure; also used by tests on captured responses) ----------------------


def records_from_streams(result: list[dict[str, Any]]) -> list[LogRecord]:
    """Entries of a ``streams`` result (2-tuples, or 3-tuples with categorize-labels) as
    records. An entry repeated byte for byte keeps one record per occurrence (#n ids)."""
    out = []
    counts: dict[str, int] = {}
    for stream in result:
        labels = stream.get("stream") or {}
        label_key = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        for value in stream.get("values") or []:
            ns, line = int(value[0]), str(value[1])
            extra = dict(labels)
            if len(value) > 2 and isinstance(value[2], dict):
                for group in ("structuredMetadata", "parsed"):
                    extra.update(value[2].get(group) or {})
            _unrename_extracted(extra)
            rid = hashlib.blake2b(f"{label_key}\x00{ns}\x00{line}".encode(), digest_size=12).hexdigest()
            n = counts.get(rid, 0)
            counts[rid] = n + 1
            out.append(record_from_line(line, timestamp_ns=ns, record_id=rid if n == 0 else f"{rid}#{n}", labels=extra))
    return out


def _unrename_extracted(labels: dict[str, Any]) -> None:
    """A parser's ``level_extracted`` (Loki's name for a parsed ``level`` when the stream has a
    ``level`` label) is the line's own value: it takes the plain name, as the line has it."""
    for key in [k for k in labels if k.endswith("_extracted") and k[: -len("_extracted")] in labels]:
        labels[key[: -len("_extracted")]] = labels.pop(key)


async def read_frame(text: str) -> tuple[list[LogRecord], int]:
    """A tail frame's records, oldest first, and its dropped count; a large frame (one holds
    many lines, some of them 1 MB) is decoded and built off the event loop, in pieces."""
    from zeta_tui.backends.http import THREAD_BYTES
    from zeta_tui.backends.json_pieces import decode_and_build

    if len(text) < THREAD_BYTES:
        import orjson

        return _sorted_frame(orjson.loads(text))
    from zeta_tui.backends.off_loop import run_off_loop

    return await run_off_loop(lambda: decode_and_build(text.encode(), _sorted_frame))


def _sorted_frame(frame: Any) -> tuple[list[LogRecord], int]:
    records, dropped = tail_frame(frame)
    records.sort(key=lambda r: r.timestamp_ns)
    return records, dropped


def tail_frame(frame: Any) -> tuple[list[LogRecord], int]:
    """A /tail websocket frame -> records and how many entries Loki says it dropped."""
    if not isinstance(frame, dict):
        return [], 0
    return records_from_streams(frame.get("streams") or []), len(frame.get("dropped_entries") or [])


def loki_error(resp: httpx.Response, *, where: str) -> ZetaError:
    """Loki's error (plain text, or JSON with ``message``/``error``) in its own words."""
    text = error_text(resp)
    lower = text.lower()
    if any(p in lower for p in _LIMIT_PHRASES):
        return QueryError(
            f"Loki refused the query: {text}",
            where=where,
            error_type="limit",
            hint="a server limit: narrow the time range, lower the limit, or ask the Loki operators to raise it",
        )
    if resp.status_code == 429 or resp.status_code >= 500:
        return BackendUnavailable(
            f"HTTP {resp.status_code}: {text}", where=where, hint="Loki is overloaded or failing; retry later"
        )
    return QueryError(text, where=where, error_type="bad_request", hint="fix the query; the message is Loki's own")


async def keep_refusal_body(resp: httpx.Response) -> None:
    """Read the body of a refused tail upgrade (Loki's or the proxy's reason) before
    httpx-ws closes the response."""
    if resp.status_code != 101 and resp.request.url.path.endswith("/loki/api/v1/tail"):
        await resp.aread()


def first_leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def range_params(time_range: TimeRange | None) -> dict[str, str]:
    if time_range is None:
        return {}
    return {"start": str(int(time_range.start * 1e9)), "end": str(int(time_range.end * 1e9))}


def dt_ns(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
