"""`zeta logs [QUERY]`: matching records oldest first, as text or JSON lines; --follow keeps going.

PII fields of the context's [logs] section are masked unless --reveal-pii is given. A query
the backend rejects raises QueryError, printed by cli.main with the backend's own message
(exit status 1). When nothing matches, stdout stays empty and stderr says "no records ..." with
the query, the source and the window; the exit status is still 0, as for any search that ran
(a script tells "none" from "failed" by the status, and "none" from "some" by the output).
A note of the source (Loki's fallback selector) goes to stderr as "note: ...".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from zeta_tui.errors import ConfigError
from zeta_tui.models.logs import LogRecord
from zeta_tui.models.pii import masked
from zeta_tui.models.timerange import TimeRange

#: fields shown after the message in text output, when a record has them
TEXT_FIELDS = ("tenant_id", "method", "endpoint", "status_code", "latency_ms", "user_id", "trace_id")


def format_record(record: LogRecord) -> str:
    """One line: time, level, service, message, then the useful fields as key=value."""
    stamp = datetime.fromtimestamp(record.timestamp_ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    stamp += f".{(record.timestamp_ns // 1_000_000) % 1000:03d}Z"
    extras = []
    for name in TEXT_FIELDS:
        value = record.get(name)
        if value not in (None, ""):
            extras.append(f"{name}={value}")
    line = f"{stamp} {record.level or '-':5} {record.service or '-'} {record.message}"
    return line + ("  " + " ".join(extras) if extras else "")


def time_window(args: argparse.Namespace, now: float) -> TimeRange:
    """--since DURATION (default 1h), or --from/--to (ISO 8601 or unix seconds; --to defaults to now)."""
    if args.from_ or args.to:
        if args.since:
            raise ConfigError(
                "give --since or --from/--to, not both",
                hint="e.g. --since 30m, or --from 2026-11-27T10:00 --to 2026-11-27T11:00",
            )
        start = _instant(args.from_, "--from") if args.from_ else now - 3600
        end = _instant(args.to, "--to") if args.to else now
        if end <= start:
            raise ConfigError("--to must be after --from", hint="swap them")
        return TimeRange(start, end, "custom")
    try:
        return TimeRange.last(args.since or "1h", now)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from None


def _instant(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{flag} {text!r} is not a time",
            hint="write it as 2026-11-27T10:00 (UTC unless an offset is given) or unix seconds",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _write(out: TextIO, record: LogRecord, as_json: bool) -> None:
    if as_json:
        out.write(orjson.dumps(record.to_dict(), default=str).decode() + "\n")
    else:
        out.write(format_record(record) + "\n")


async def print_logs(
    source: Any,
    query: Any,
    window: TimeRange,
    *,
    limit: int,
    follow: bool,
    as_json: bool,
    pii_fields: list[str],
    reveal: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print the newest ``limit`` matches in ``window`` oldest first; with ``follow``, then new ones."""
    out = out or sys.stdout  # looked up now: tests and pipes may have replaced them
    err = err or sys.stderr
    hide = [] if reveal else pii_fields
    page = await source.search(query, window, limit=limit, newest_first=True)
    if source.note:
        err.write(f"note: {source.note}\n")
    for warning in page.warnings:
        err.write(f"warning: {warning}\n")
    if not page.records:
        # Silence would read as "the command did nothing"; say what was asked of what.
        err.write(no_records(query, source.describe(), window) + ("; following for new ones" if follow else "") + "\n")
    newest = int(window.end * 1e9) if not page.records else max(r.timestamp_ns for r in page.records)
    for record in page.records:
        _write(out, masked(record, hide), as_json)
    out.flush()
    if not follow:
        return 0
    async for update in source.tail(query, newest + 1):
        for warning in update.warnings:
            err.write(f"warning: {warning}\n")
        if update.dropped:
            err.write(f"warning: the source dropped {update.dropped} records\n")
        for record in update.records:
            _write(out, masked(record, hide), as_json)
        out.flush()
    return 0


def no_records(query: Any, source: str, window: TimeRange) -> str:
    """The line `zeta logs` writes on stderr when nothing matched: the query, the source, the window."""
    text = str(getattr(query, "text", query) or "").strip()
    asked = f"match {text}" if text else "at all"
    return f"no records {asked} in {source}, from {_stamp(window.start)} to {_stamp(window.end)}"


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_logs(args: argparse.Namespace) -> int:
    from zeta_tui.backends.logs.factory import log_source_for
    from zeta_tui.config.loader import load_context
    from zeta_tui.querying.logquery import parse_log_query

    loaded = load_context(args.config, args.context)
    cfg = loaded.context.logs
    if cfg is None:
        raise ConfigError(
            f"context {loaded.name!r} has no [logs] section",
            where=str(loaded.path),
            hint=(
                f'add [contexts.{loaded.name}.logs] with kind = "elasticsearch" | "opensearch" | "loki" | "clickhouse"'
            ),
        )
    if args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    window = time_window(args, time.time())
    query = parse_log_query(args.query or "")
    source = log_source_for(cfg, namespace=loaded.context.namespace)

    async def main() -> int:
        try:
            return await print_logs(
                source,
                query,
                window,
                limit=args.limit,
                follow=args.follow,
                as_json=args.json,
                pii_fields=list(cfg.pii_fields),
                reveal=args.reveal_pii,
            )
        finally:
            await source.aclose()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 0  # --follow ends with Ctrl+C; that is the normal way out
    except BrokenPipeError:
        return 0  # `zeta logs ... | head`
