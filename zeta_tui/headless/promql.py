"""`zeta promql EXPR`: an instant vector as a table, or a range as per-series summaries or samples.

Warnings from the server go to stderr as "warning: ..."; a rejected query raises QueryError,
which cli.main prints (Prometheus's own message) with exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import orjson

from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.loader import load_context
from zeta_tui.errors import ConfigError
from zeta_tui.headless.table import format_table
from zeta_tui.models.series import InstantSample, Series
from zeta_tui.models.timerange import TimeRange, parse_duration
from zeta_tui.widgets.sparkline_text import BLOCKS  # noqa: F401 - part of this module's interface
from zeta_tui.widgets.sparkline_text import sparkline as scaled_sparkline

SPARK_WIDTH = 30
SUMMARY_DIGITS = 6  # the summary is for reading; --samples and --json are exact


def format_value(v: float, digits: int | None = None) -> str:
    """A sample value as Prometheus writes it: NaN, +Inf, -Inf, integers without '.0';
    exact unless ``digits`` asks for that many significant digits."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}" if digits else repr(v)


def format_labels(labels: Mapping[str, str]) -> str:
    """name{a="x", b="y"} in PromQL selector syntax; {} for no labels."""
    name = labels.get("__name__", "")
    rest = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def format_time(t: float) -> str:
    """Unix seconds as RFC 3339 UTC, with milliseconds only when there are some."""
    dt = datetime.fromtimestamp(t, UTC)
    spec = "seconds" if float(t).is_integer() else "milliseconds"
    return dt.isoformat(timespec=spec).replace("+00:00", "Z")


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """Block characters from the series' min to max; NaN is a space; at most ``width`` cells."""
    return scaled_sparkline(values, min(width, len(values)))


def format_instant(samples: Sequence[InstantSample]) -> str:
    """Aligned table of labels and value."""
    rows = [[format_labels(s.labels), format_value(s.v)] for s in samples]
    return format_table(["SERIES", "VALUE"], rows, right=(1,))


def format_range_summary(series: Sequence[Series]) -> str:
    """One row per series: points, min, max, last (6 significant digits) and a sparkline."""
    rows = []
    for s in series:
        finite = [v for v in s.values if not math.isnan(v)]
        rows.append(
            [
                format_labels(s.labels),
                str(len(s.samples)),
                format_value(min(finite), SUMMARY_DIGITS) if finite else "-",
                format_value(max(finite), SUMMARY_DIGITS) if finite else "-",
                format_value(s.last, SUMMARY_DIGITS) if s.last is not None else "-",
                sparkline(s.values),
            ]
        )
    return format_table(["SERIES", "POINTS", "MIN", "MAX", "LAST", "TREND"], rows, right=(1, 2, 3, 4))


def format_range_samples(series: Sequence[Series]) -> str:
    """Each series' labels, then its samples as indented "time value" rows."""
    blocks = []
    for s in series:
        rows = [(format_time(p.t), format_value(p.v)) for p in s.samples]
        width = max((len(v) for _, v in rows), default=0)
        blocks.append("\n".join([format_labels(s.labels), *(f"  {t}  {v.rjust(width)}" for t, v in rows)]))
    return "\n\n".join(blocks)


def _duration_arg(flag: str, text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}", hint=f"e.g. {flag} 1h or {flag} 30s") from None
    if seconds <= 0:
        raise ConfigError(f"{flag}: must be longer than zero", hint=f"e.g. {flag} 1h")
    return seconds


def run_promql(args: argparse.Namespace) -> int:
    """`zeta promql EXPR [--range D] [--step D] [--at T] [--samples] [--json]`."""
    range_seconds = _duration_arg("--range", args.range_) if args.range_ else None
    step = _duration_arg("--step", args.step) if args.step else None
    if step is not None and range_seconds is None:
        raise ConfigError("--step needs --range", hint="e.g. --range 1h --step 30s")
    loaded = load_context(args.config, args.context)
    cfg = loaded.prometheus()
    at = args.at if args.at is not None else time.time()
    samples_mode = getattr(args, "samples", False)
    return asyncio.run(_run(PrometheusClient(cfg), args.expr, at, range_seconds, step, args.json, samples_mode))


async def _run(
    client: PrometheusClient,
    expr: str,
    at: float,
    range_seconds: float | None,
    step: float | None,
    as_json: bool,
    samples_mode: bool,
) -> int:
    instants: list[InstantSample] = []
    series: list[Series] = []
    try:
        if range_seconds is None:
            instant = await client.query(expr, at=at)
            warnings, instants = instant.warnings, instant.data
        else:
            window = TimeRange(at - range_seconds, at)
            matrix = await client.query_range(expr, window.start, window.end, step or window.step(points=60))
            warnings, series = matrix.warnings, matrix.data
    finally:
        await client.aclose()
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if as_json:
        if range_seconds is None:
            doc = {
                "resultType": "vector",
                "result": [{"labels": dict(s.labels), "time": s.t, "value": format_value(s.v)} for s in instants],
            }
        else:
            doc = {
                "resultType": "matrix",
                "result": [
                    {"labels": dict(s.labels), "values": [[p.t, format_value(p.v)] for p in s.samples]} for s in series
                ],
            }
        doc["warnings"] = list(warnings)
        print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    elif not instants and not series:
        print("(empty result: no series matched)", file=sys.stderr)
    elif range_seconds is None:
        print(format_instant(instants))
    elif samples_mode:
        print(format_range_samples(series))
    else:
        print(format_range_summary(series))
    return 0
