"""`zeta slo [--json] [--at T] [--services a,b]`: each service against the seed's objectives.

Per service a table (objective, SLI, target, budget remaining over 30 days, burn rates over
5m/30m/1h/6h) and one plain-words line per objective. Exit 0, or 1 when any objective's
budget is spent, so a script can page on it; a config error is exit 2 (cli.main prints
every ZetaError and exits with its code).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Sequence

import orjson

from zeta_tui.errors import ConfigError
from zeta_tui.headless.table import format_table
from zeta_tui.models.slo import BURN_WINDOWS, PERIOD_DAYS, ObjectiveKind, SloStatus, burn_text, format_span, plain_words, remaining_text, sli_text


def _services(text: str | None, default: Sequence[str]) -> list[str]:
    if text is None:
        return list(default)
    names = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not names:
        raise ConfigError("--services names no service", hint="e.g. --services backend-api,auth")
    return names


def run_slo(args: argparse.Namespace) -> int:
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.config.loader import load_context
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    loaded = load_context(args.config, args.context)
    cfg = loaded.context.prometheus
    if cfg is None:
        raise ConfigError(
            f"context {loaded.name!r} has no prometheus section",
            where=str(loaded.path),
            hint=f"add [contexts.{loaded.name}.prometheus] with url = \"http://host:9090\", or pass --context",
        )
    services = _services(args.services, loaded.context.services)
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    catalog.validate()
    return asyncio.run(_run(PrometheusClient(cfg), catalog, services, args.at, args.json))


async def _run(client: Any, catalog: Any, services: list[str], at: float | None, as_json: bool) -> int:
    from zeta_tui.backends.slo import fetch_slo

    try:
        result = await fetch_slo(client, catalog, services, at=at)
    finally:
        await client.aclose()
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    statuses = result.data
    if as_json:
        doc = {"period_days": PERIOD_DAYS, "at": at, "services": to_json(statuses), "warnings": list(result.warnings)}
        print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    else:
        print(format_report(statuses))
    return 1 if any(s.exhausted for s in statuses) else 0


# --- JSON ----------------------------------------------------------------------------------


def status_json(s: SloStatus) -> dict[str, Any]:
    """One objective of one service; shares as fractions (0.999), None where there is no data."""
    return {
        "objective": s.objective.name,
        "kind": s.objective.kind.value,
        "target": s.target,
        "error_budget": s.error_budget,
        "has_data": s.has_data,
        "sli": s.sli if s.has_data else None,
        "error_ratio": s.error_ratio,
        "good": s.good,
        "total": s.total,
        "budget_consumed": s.budget_consumed,
        "budget_remaining": s.budget_remaining,
        "exhausted": s.exhausted,
        "burn_rates": s.burn_rates,
        "error_ratios": {w: s.error_ratios.get(w) for w in BURN_WINDOWS},
        "time_to_exhaustion_seconds": s.time_to_exhaustion(),
        "p95_seconds": s.p95_seconds,
        "history_seconds": s.history_seconds,
        "summary": plain_words(s),
    }


def to_json(statuses: Sequence[SloStatus]) -> list[dict[str, Any]]:
    """[{"service": ..., "objectives": [...]}] in the order the services were asked for."""
    out: dict[str, list[dict[str, Any]]] = {}
    for s in statuses:
        out.setdefault(s.service, []).append(status_json(s))
    return [{"service": name, "objectives": objectives} for name, objectives in out.items()]


# --- text ----------------------------------------------------------------------------------


def format_service(service: str, statuses: Sequence[SloStatus]) -> str:
    """A heading, the objectives table, then one plain-words line per objective."""
    history = next((s.history_seconds for s in statuses if s.history_seconds is not None), None)
    heading = service
    if history is not None and history < PERIOD_DAYS * 86400 - 3600:
        heading += f"  (over the {format_span(history)} of data available of the {PERIOD_DAYS}-day period)"
    rows = []
    for s in statuses:
        burns = s.burn_rates
        sli = sli_text(s)
        if s.objective.kind is ObjectiveKind.LATENCY and s.p95_seconds is not None:
            sli += f" (p95 {s.p95_seconds * 1000:.0f} ms)"
        rows.append([s.objective.name, sli, s.objective.describe_target(), remaining_text(s), *(burn_text(burns[w]) for w in BURN_WINDOWS)])
    table = format_table(
        ["OBJECTIVE", "SLI", "TARGET", "BUDGET LEFT", *(f"BURN {w}" for w in BURN_WINDOWS)],
        rows,
        right=(1, 3, 4, 5, 6, 7),
    )
    words = [f"  {s.objective.name}: {plain_words(s)}" for s in statuses]
    return "\n".join([heading, table, *words])


def format_report(statuses: Sequence[SloStatus]) -> str:
    by_service: dict[str, list[SloStatus]] = {}
    for s in statuses:
        by_service.setdefault(s.service, []).append(s)
    return "\n\n".join(format_service(name, rows) for name, rows in by_service.items())
