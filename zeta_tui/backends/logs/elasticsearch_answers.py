"""Elasticsearch's and OpenSearch's answers read: hits into records, shard failures and
timeouts into warnings, refusals into ZetaErrors (pure; tests read captured answers with these).
The source itself (PIT, paging, the tail) is elasticsearch.py.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from zeta_tui.backends.logs.records import parse_timestamp_ns, record_from_document
from zeta_tui.errors import BackendUnavailable, QueryError, ZetaError
from zeta_tui.models.logs import LogRecord

#: how long a point-in-time is kept open between pages
PIT_KEEP_ALIVE = "1m"


def hits_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    hits = data.get("hits")
    inner = hits.get("hits") if isinstance(hits, dict) else None
    return inner if isinstance(inner, list) else []


def records_from_hits(hits: list[dict[str, Any]], timestamp_field: str) -> list[LogRecord]:
    """Each hit's ``_source`` as a LogRecord, in the order given; record_id = index/_id."""
    out = []
    for hit in hits:
        source = hit.get("_source")
        if not isinstance(source, dict):
            source = {}
        record = record_from_document(
            source, timestamp_field=timestamp_field, record_id=f"{hit.get('_index', '')}/{hit.get('_id', '')}"
        )
        if record.timestamp_ns == 0 and hit.get("sort"):
            # No parseable time in _source (e.g. excluded): the sort value is the time.
            ts = parse_timestamp_ns(hit["sort"][0])
            if ts:
                record = with_timestamp(record, ts)
        out.append(record)
    return out


def with_timestamp(record: LogRecord, ts: int) -> LogRecord:
    from dataclasses import replace

    return replace(record, timestamp_ns=ts)


def response_warnings(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Partial shard failures and time-outs, worded for the user; the hits are still shown."""
    warnings = []
    shards = data.get("_shards")
    if not isinstance(shards, dict):
        shards = {}
    failed = shards.get("failed") or 0
    if failed:
        reasons = []
        for failure in shards.get("failures") or []:
            reason = failure.get("reason") if isinstance(failure, dict) else None
            text = reason.get("reason") or reason.get("type") if isinstance(reason, dict) else reason
            where = failure.get("index") if isinstance(failure, dict) else None
            if text:
                reasons.append(f"{where}: {text}" if where else str(text))
        detail = f": {'; '.join(dict.fromkeys(reasons))}" if reasons else ""
        warnings.append(f"{failed} of {shards.get('total', '?')} shards failed; results are partial{detail}")
    if data.get("timed_out"):
        warnings.append("the search timed out on some shards; results may be incomplete")
    return tuple(warnings)


def es_error(data: Any, status: int, *, where: str, index: str) -> ZetaError:
    """An Elasticsearch/OpenSearch error body -> QueryError with the server's own reason."""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):
        return QueryError(error, where=where, error_type="error")
    if not isinstance(error, dict):
        return BackendUnavailable(
            f"HTTP {status} without an error body", where=where, hint="check the url; a proxy may be answering"
        )
    root = (error.get("root_cause") or [None])[0]
    main = root if isinstance(root, dict) and root.get("reason") else error
    etype = str(main.get("type") or error.get("type") or "error")
    reason = _clip(str(main.get("reason") or ""))
    caused = error.get("caused_by")
    because = caused.get("reason") if isinstance(caused, dict) else None
    if because and because not in reason:
        reason = f"{reason}: {_clip(str(because))}" if reason else _clip(str(because))
    if "line" in main and "col" in main:
        reason += f" (line {main['line']}, col {main['col']})"
    message = f"{etype}: {reason}"
    for ctype, creason in _shard_causes(error):
        if creason not in message:
            message += f"; caused by {ctype}: {creason}"
    if etype == "index_not_found_exception":
        return QueryError(
            message,
            where=where,
            error_type=etype,
            hint=(
                f"no index matches the index setting ({index!r}) of [contexts.NAME.logs]; set index to a pattern "
                'that exists, e.g. "logs-*"'
            ),
        )
    if etype == "search_context_missing_exception" or "No search context found" in reason:
        return QueryError(
            message,
            where=where,
            error_type=etype,
            hint=f"the point-in-time for paging expired ({PIT_KEEP_ALIVE} after the last page); run the search again",
        )
    if status >= 500 and etype not in ("search_phase_execution_exception",):
        return BackendUnavailable(
            message, where=where, hint="the cluster failed to answer; retry later or check its health"
        )
    if status == 429:
        return BackendUnavailable(
            message, where=where, hint="the cluster is rejecting requests (too many); retry later"
        )
    return QueryError(message, where=where, error_type=etype, hint="fix the query; the message is the server's own")


_REASON_CHARS = 300  # a reason longer than this (a whole query echoed back) is cut


def _clip(text: str) -> str:
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


def _shard_causes(error: Mapping[str, Any], most: int = 2) -> list[tuple[str, str]]:
    """The deepest ``caused_by`` of each failed shard (``error.failed_shards[].reason``) as
    (type, reason), distinct, at most ``most``: a search_phase_execution_exception's root
    cause often says only "compile error" or "failed to create query", and the shard's own
    cause says which symbol, value or field was wrong."""
    out: list[tuple[str, str]] = []
    for failure in error.get("failed_shards") or ():
        cause = failure.get("reason") if isinstance(failure, dict) else None
        deepest = None
        for _ in range(10):  # a chain of caused_by, innermost last; bounded against odd bodies
            if not isinstance(cause, dict):
                break
            if cause.get("reason"):
                deepest = cause
            cause = cause.get("caused_by")
        if deepest is None:
            continue
        text = (str(deepest.get("type") or "error"), _clip(str(deepest["reason"])))
        if text not in out:
            out.append(text)
        if len(out) >= most:
            break
    return out


def quote_index(index: str) -> str:
    return urllib.parse.quote(index, safe="*,-_.:+")
