"""`zeta trace ID` (a text waterfall) and `zeta traces` (search results), as text or JSON.

The waterfall is plain text for pipes and tickets: the tree, each span's offset from the start
and its duration, a bar sized to the terminal width, ``ERR`` on error spans and ``◆`` on the
critical path. A trace that is not there, or a search the backend rejects, is a ZetaError
printed by cli.main with the backend's own words (exit status 1).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import shutil
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from zeta_tui.errors import ConfigError
from zeta_tui.models.critical_path import critical_path, on_path
from zeta_tui.models.trace_tree import TraceTree, build_tree
from zeta_tui.models.traces import Trace, TraceQuery, TraceSummary, format_duration_ns, normalise_id
from zeta_tui.models.waterfall import bar_columns

OFFSET_WIDTH = 10
DURATION_WIDTH = 9


def text_waterfall(tree: TraceTree, width: int) -> list[str]:
    """The trace as lines of at most ``width`` characters (the bar takes what the tree leaves)."""
    width = max(60, width)
    path = on_path(critical_path(tree))
    t0, t1 = tree.start_ns, tree.end_ns
    tree_width = min(60, max(30, width * 2 // 5))
    bar_width = max(10, width - tree_width - OFFSET_WIDTH - DURATION_WIDTH - 4)
    head = (
        "span".ljust(tree_width)
        + " "
        + "offset".rjust(OFFSET_WIDTH)
        + " "
        + "duration".rjust(DURATION_WIDTH)
        + "  "
        + "0".ljust(bar_width - len(format_duration_ns(t1 - t0)))
        + format_duration_ns(t1 - t0)
    )
    lines = [head.rstrip()]
    for i in tree.order:
        span = tree.spans[i]
        depth = tree.depth[i]
        marks = ("◆" if i in path else " ") + ("⚠" if i in tree.flags else " ")
        label = f"{'  ' * min(depth, 20)}{span.service or '?'} {span.name}" + (" ERR" if span.is_error else "")
        first, last = bar_columns(span.start_ns, span.end_ns, t0, t1, bar_width)
        bar = " " * first + ("█" if i in path else "━") * (last - first)
        text = marks + label
        text = text[: tree_width - 1] + "…" if len(text) > tree_width else text.ljust(tree_width)
        offset = "+" + format_duration_ns(span.start_ns - t0) if span.start_ns > t0 else "0"
        lines.append(
            (
                f"{text} {offset.rjust(OFFSET_WIDTH)} {format_duration_ns(span.duration_ns).rjust(DURATION_WIDTH)}  "
                f"{bar}"
            ).rstrip()
        )
    for i, flags in sorted(tree.flags.items(), key=lambda item: tree.position[item[0]]):
        span = tree.spans[i]
        for flag in flags:
            lines.append(f"⚠ {span.service or '?'} {span.name} ({span.span_id}): {flag}")
    return lines


def _stamp(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


def trace_document(trace: Trace, tree: TraceTree) -> dict[str, Any]:
    """The trace as one JSON object: spans in tree order with depth, and the critical path."""
    segments = critical_path(tree)
    spans = []
    for i in tree.order:
        s = tree.spans[i]
        if tree.is_placeholder(i):
            continue
        spans.append(
            {
                "span_id": s.span_id,
                "parent_id": s.parent_id,
                "depth": tree.depth[i],
                "service": s.service,
                "name": s.name,
                "start": _stamp(s.start_ns),
                "offset_ns": s.start_ns - tree.start_ns,
                "duration_ns": s.duration_ns,
                "self_ns": tree.self_ns[i],
                "kind": s.kind,
                "status": "error" if s.is_error else s.status,
                "status_message": s.status_message,
                "flags": list(tree.flags.get(i, ())),
                "attributes": dict(s.attributes),
                "resource": dict(s.resource),
                "events": [
                    {"time": _stamp(e.timestamp_ns), "name": e.name, "attributes": dict(e.attributes)} for e in s.events
                ],
                "links": [{"trace_id": link.trace_id, "span_id": link.span_id, "kind": link.kind} for link in s.links],
            }
        )
    return {
        "trace_id": trace.trace_id,
        "start": _stamp(tree.start_ns),
        "duration_ns": tree.end_ns - tree.start_ns,
        "span_count": len(trace.spans),
        "services": list(trace.services),
        "warnings": list(trace.warnings),
        "spans": spans,
        "critical_path": [
            {
                "span_id": tree.spans[s.index].span_id,
                "start_offset_ns": s.start_ns - tree.start_ns,
                "duration_ns": s.duration_ns,
            }
            for s in segments
        ],
    }


def summary_document(s: TraceSummary) -> dict[str, Any]:
    return {
        "trace_id": s.trace_id,
        "root_service": s.root_service,
        "root_name": s.root_name,
        "start": _stamp(s.start_ns),
        "duration_ns": s.duration_ns,
        "span_count": s.span_count,
        "services": list(s.services),
        "error_count": s.error_count,
    }


def summaries_table(summaries: list[TraceSummary]) -> str:
    from zeta_tui.headless.table import format_table

    rows = [
        (
            _stamp(s.start_ns)[:23] + "Z",
            s.trace_id,
            format_duration_ns(s.duration_ns),
            str(s.span_count or "?"),
            f"ERR {s.error_count}" if s.error_count else "0",
            f"{s.root_service or '?'} {s.root_name}",
        )
        for s in summaries
    ]
    return format_table(("start", "trace id", "duration", "spans", "errors", "root"), rows, right=(2, 3))


def _source(args: argparse.Namespace):
    from zeta_tui.backends.traces.factory import trace_source_for
    from zeta_tui.config.loader import load_context

    loaded = load_context(args.config, args.context)
    cfg = loaded.context.traces
    if cfg is None:
        raise ConfigError(
            f"context {loaded.name!r} has no [traces] section",
            where=str(loaded.path),
            hint=f'add [contexts.{loaded.name}.traces] with kind = "jaeger" | "tempo" | "clickhouse"',
        )
    return trace_source_for(cfg)


def _run(coro_factory) -> int:
    try:
        return asyncio.run(coro_factory())
    except BrokenPipeError:
        return 0  # `zeta trace ... | head`


def run_trace(args: argparse.Namespace) -> int:
    trace_id = normalise_id(args.trace_id)
    if not trace_id:
        raise ConfigError("give a trace id", hint="e.g. zeta trace 4bf92f3577b34da6a3ce929d0e0e4736")
    source = _source(args)

    async def main() -> int:
        try:
            trace = await source.trace(trace_id)
        finally:
            await source.aclose()
        tree = build_tree(trace)
        for warning in trace.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if args.json:
            sys.stdout.write(orjson.dumps(trace_document(trace, tree), default=str).decode() + "\n")
        else:
            width = shutil.get_terminal_size((120, 40)).columns
            sys.stdout.write("\n".join(text_waterfall(tree, width)) + "\n")
        return 0

    return _run(main)


def run_traces(args: argparse.Namespace) -> int:
    from zeta_tui.headless.logs import time_window
    from zeta_tui.querying.trace_search import parse_form

    if args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    window = time_window(args, time.time())
    form = {
        "service": args.service or "",
        "operation": args.operation or "",
        "tags": " ".join(shlex.quote(t) for t in args.tag or ()),
        "min": args.min_duration or "",
        "max": args.max_duration or "",
        "limit": str(args.limit),
    }
    query: TraceQuery = parse_form(form, window)
    if args.errors:
        from dataclasses import replace

        query = replace(query, errors_only=True)
    source = _source(args)

    async def main() -> int:
        try:
            result = await source.search(query)
        finally:
            await source.aclose()
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if args.json:
            for s in result.summaries:
                sys.stdout.write(orjson.dumps(summary_document(s)).decode() + "\n")
        elif result.summaries:
            sys.stdout.write(summaries_table(list(result.summaries)) + "\n")
        else:
            print("no traces match", file=sys.stderr)
        return 0

    return _run(main)
