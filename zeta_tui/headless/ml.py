"""`zeta ml [--at T] [--range 1h] [--json]`: the ML Engine screen's figures, for people and scripts.

Four blocks from the context's Prometheus (models/ml_engine.py says how each is computed):
training jobs per tenant (failed first), NDCG@10 per tenant against its 7-day median (worst
first, a drop over 10 % marked as ModelQualityDrop marks it), the embedding cache hit ratio and
the ANN search latency p50/p95/p99 over the range, and recommendations served per tenant (top
first). The range (default 1h) ends at --at (default now).

Exit status, as `zeta alerts`: 0 all well; 1 when a tenant's latest training job failed or a
tenant's quality dropped; 2 configuration error; 3 Prometheus could not be read (its URL and
message on stderr): whether anything is failing is then unknown, never reported as 0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from zeta_tui.errors import BackendError
from zeta_tui.headless.options import range_ending
from zeta_tui.headless.output import print_figures, utc_stamp
from zeta_tui.headless.table import format_table
from zeta_tui.models.ml_engine import MlEngine, TrainingJob
from zeta_tui.models.timerange import format_age

#: exit status when a tenant's training is failing or its quality dropped
EXIT_FAILING = 1
#: exit status when Prometheus could not be read
EXIT_BACKEND_DOWN = 3


def run_ml(args: argparse.Namespace) -> int:
    from zeta_tui.backends.ml_engine import fetch_ml_engine
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.config.loader import load_context
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    time_range = range_ending(args.at, args.range)
    loaded = load_context(args.config, args.context)
    cfg = loaded.prometheus()
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    catalog.validate()
    client = PrometheusClient(cfg)

    async def main() -> Any:
        try:
            return await fetch_ml_engine(client, catalog, time_range=time_range)
        finally:
            await client.aclose()

    try:
        result = asyncio.run(main())
    except BackendError as exc:
        print(exc.render(), file=sys.stderr)
        if cfg.url not in exc.render():
            print(f"  Prometheus: {cfg.url}", file=sys.stderr)
        return EXIT_BACKEND_DOWN
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    figures: MlEngine = result.data
    print_figures(args.json, lambda: to_json(figures), lambda: to_text(figures))
    return 0 if figures.healthy else EXIT_FAILING


def job_json(j: TrainingJob) -> dict[str, Any]:
    """A tenant's latest training job, as `zeta ml` and `zeta tenant` print it."""
    return {
        "status": j.status,
        "reason": j.reason or None,
        "started": utc_stamp(j.started),
        "duration_seconds": j.duration_s,
        "running_for_seconds": j.running_for_s,
        "last_success": utc_stamp(j.last_success),
        "failing_for_seconds": j.failing_for_s,
    }


def to_json(m: MlEngine) -> dict[str, Any]:
    """The figures as one JSON document (times as RFC 3339 UTC, durations in seconds, ratios 0-1)."""
    return {
        "at": utc_stamp(m.at),
        "range": m.range_label,
        "healthy": m.healthy,
        "training": [{"tenant_id": j.tenant_id, **job_json(j)} for j in m.training],
        "quality": [
            {
                "tenant_id": q.tenant_id,
                "metric": "ndcg_10",
                "value": q.ndcg,
                "model_version": q.model_version or None,
                "median_7d": q.median_7d,
                "drop": q.drop,
                "dropped": q.dropped,
            }
            for q in m.quality
        ],
        "cache_hit_ratio": m.cache_hit_ratio,
        "ann_latency_seconds": {f"p{round(q * 100)}": v for q, v in m.ann_latency_s.items()},
        "recommendations_served": [{"tenant_id": r.tenant_id, "per_second": r.per_second} for r in m.served],
    }


def _duration_text(j: TrainingJob) -> str:
    if j.running_for_s is not None:
        return f"{format_age(j.running_for_s)} so far"
    return "-" if j.duration_s is None else format_age(j.duration_s)


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.1f} ms"


def to_text(m: MlEngine) -> str:
    training = format_table(
        ["TENANT", "STATUS", "REASON", "STARTED", "DURATION", "FAILING FOR"],
        [
            [
                j.tenant_id,
                j.status,
                j.reason or "-",
                (utc_stamp(j.started) or "-"),
                _duration_text(j),
                "-" if j.failing_for_s is None else format_age(j.failing_for_s),
            ]
            for j in m.training
        ],
    )
    quality = format_table(
        ["TENANT", "NDCG@10", "MODEL", "7D MEDIAN", "CHANGE", "DROP"],
        [
            [
                q.tenant_id,
                _num(q.ndcg, ".3f"),
                q.model_version or "-",
                _num(q.median_7d, ".3f"),
                "-" if q.drop is None else f"{-q.drop * 100:+.1f} %",
                "DROP" if q.dropped else "",
            ]
            for q in m.quality
        ],
    )
    served = format_table(["TENANT", "RECS/S"], [[r.tenant_id, f"{r.per_second:.2f}"] for r in m.served], right=(1,))
    ratio = "-" if m.cache_hit_ratio is None else f"{m.cache_hit_ratio * 100:.1f} %"
    ann = "  ".join(f"p{round(q * 100)} {_ms(v)}" for q, v in m.ann_latency_s.items())
    failing, dropped = len(m.failing), len(m.dropped)
    return "\n\n".join(
        [
            f"ML engine at {utc_stamp(m.at)}, range {m.range_label}: {failing} tenant(s) failing training, "
            f"{dropped} with a quality drop",
            f"training jobs\n{training}",
            f"model quality (NDCG@10 against the 7-day median; DROP over 10 %)\n{quality}",
            f"embedding cache hit ratio over {m.range_label}: {ratio}\nANN search latency over {m.range_label}: {ann}",
            f"recommendations served over {m.range_label}\n{served}",
        ]
    )
