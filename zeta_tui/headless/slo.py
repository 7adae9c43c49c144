"""`zeta slo [--json] [--at T] [--services a,b]`: each service against the seed's objectives.

Per service a table (objective, SLI, target, budget remaining over 30 days, burn rates over
5m/30m/1h/6h) and one plain-words line per objective. When the context has a ClickHouse
section, each tenant's SLA over 30 days from its usage follows (the catalog's
``sla_compliance``: non-5xx share against its plan's target). Exit 0, or 1 when any
objective's budget is spent or any tenant's SLA is missed, so a script can page on it; a
ClickHouse failure is a warning (the SLOs still print); a config error is exit 2 (cli.main
prints every ZetaError and exits with its code).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import orjson

from zeta_tui.errors import BackendError, ConfigError, ZetaError
from zeta_tui.headless.table import format_table
from zeta_tui.models.slo import (
    BURN_WINDOWS,
    PERIOD_DAYS,
    ObjectiveKind,
    SloStatus,
    burn_text,
    format_span,
    plain_words,
    remaining_text,
    sli_text,
)


def _services(text: str | None) -> list[str] | None:
    """The services --services names, or None (the context's, else every one with HTTP metrics)."""
    if text is None:
        return None
    names = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not names:
        raise ConfigError("--services names no service", hint="e.g. --services backend-api,auth")
    return names


#: exit status when a budget is spent or a tenant's SLA missed
EXIT_SPENT = 1
#: exit status when Prometheus could not be read (nothing is printed on stdout)
EXIT_BACKEND_DOWN = 3


def run_slo(args: argparse.Namespace) -> int:
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.config.loader import load_context
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    loaded = load_context(args.config, args.context)
    cfg = loaded.prometheus()
    services = _services(args.services)
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    catalog.validate()
    analytics = None
    if loaded.context.clickhouse is not None:
        from zeta_tui.backends.analytics import AnalyticsSource

        analytics = AnalyticsSource(loaded.context.clickhouse)
    context = loaded.context if services is None else loaded.context.model_copy(update={"services": services})
    try:
        return asyncio.run(_run(PrometheusClient(cfg), catalog, (context, loaded.name), args.at, args.json, analytics))
    except BackendError as exc:
        # Not 1: "a budget is spent" and "Prometheus could not be read" must differ for a check.
        print(exc.render(), file=sys.stderr)
        return EXIT_BACKEND_DOWN


async def _tenant_slas(analytics: Any, at: float | None) -> tuple[list[dict[str, Any]], str]:
    """Each tenant's SLA record, and where the figures came from when not zeta's rollup (the answer's note)."""
    import time
    from datetime import datetime

    until = datetime.fromtimestamp(at if at is not None else time.time(), tz=UTC).date()
    try:
        answer = await analytics.named("sla_compliance", {"days": PERIOD_DAYS, "until": until}, today=until)
    finally:
        await analytics.close()
    return answer.records(), answer.note


async def _slo(client: Any, catalog: Any, scope: tuple[Any, str], at: float | None):
    from zeta_tui.backends.discovery import discover
    from zeta_tui.backends.slo import fetch_slo, slo_services

    context, name = scope
    inventory = await discover(client, context, name, at=at)
    result = await fetch_slo(client, catalog, inventory, slo_services(inventory, context.services), at=at)
    return type(result)(result.data, (*inventory.notes, *result.warnings))


async def _run(
    client: Any, catalog: Any, scope: tuple[Any, str], at: float | None, as_json: bool, analytics: Any = None
) -> int:
    slas: list[dict[str, Any]] | None = None
    sla_error: str | None = None
    sla_note = ""
    try:
        if analytics is None:
            result = await _slo(client, catalog, scope, at)
        else:
            result, answer = await asyncio.gather(
                _slo(client, catalog, scope, at), _tenant_slas(analytics, at), return_exceptions=True
            )
            if isinstance(result, BaseException):
                raise result
            if isinstance(answer, ZetaError):
                sla_error = answer.render()
            elif isinstance(answer, BaseException):
                raise answer
            else:
                slas, sla_note = answer
    finally:
        await client.aclose()
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if sla_error is not None:
        print(f"warning: tenant SLAs: {sla_error}", file=sys.stderr)
    statuses = result.data
    if as_json:
        doc: dict[str, Any] = {
            "period_days": PERIOD_DAYS,
            "at": at,
            "services": to_json(statuses),
            "warnings": list(result.warnings),
        }
        if analytics is not None:
            doc["tenant_slas"] = [sla_json(r) for r in slas] if slas is not None else None
            doc["tenant_sla_error"] = sla_error
            doc["tenant_sla_note"] = sla_note or None
        print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    else:
        print(format_report(statuses))
        if slas is not None:
            print("\n" + format_slas(slas, sla_note))
    missed = any(not int(r["met"]) for r in slas or ())
    return EXIT_SPENT if any(s.exhausted for s in statuses) or missed else 0


# --- tenant SLAs -------------------------------------------------------------------------------


def sla_json(r: dict[str, Any]) -> dict[str, Any]:
    """One tenant's SLA; shares as percentages, as the catalog query returns them."""
    return {
        "tenant_id": r["tenant_id"],
        "name": r["name"],
        "plan": r["plan"],
        "requests": int(r["requests"]),
        "server_errors": int(r["server_errors"]),
        "availability_pct": float(r["availability_pct"]),
        "target_pct": float(r["target_pct"]),
        "met": bool(int(r["met"])),
    }


def format_slas(slas: Sequence[dict[str, Any]], note: str = "") -> str:
    """A heading and one row per tenant, missed first (the query's order); ``note``: where the figures came from."""
    missed = sum(1 for r in slas if not int(r["met"]))
    rows = [
        [
            str(r["tenant_id"]),
            str(r["plan"]),
            f"{float(r['availability_pct']):.3f} %",
            f"{float(r['target_pct']):g} %",
            "met" if int(r["met"]) else "MISSED",
            f"{int(r['requests']):,}",
            f"{int(r['server_errors']):,}",
        ]
        for r in slas
    ]
    table = format_table(["TENANT", "PLAN", "AVAILABLE", "SLA", "", "REQUESTS", "5XX"], rows, right=(2, 3, 5, 6))
    source = f"ClickHouse usage, {note}" if note else "ClickHouse usage"
    return f"tenant SLAs over {PERIOD_DAYS} days ({source}): {missed} of {len(slas)} missed\n{table}"


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
        rows.append(
            [
                s.objective.name,
                sli,
                s.objective.describe_target(),
                remaining_text(s),
                *(burn_text(burns[w]) for w in BURN_WINDOWS),
            ]
        )
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
