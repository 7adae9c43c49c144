"""Ask the Product screen's queries for one tenant and fold them (models/product.py).

Two round trips at most, each a gather of named queries (queries/clickhouse/catalog):

1. ``ctr`` for every tenant over the window: the tenants with events (the picker's list, and the
   default tenant, the one with the most served), and the tenant's versions per day. With the
   tenant given, its ``funnel`` and ``retention`` go in the same gather.
2. ``ab_test`` of the two newest versions (they come from the ctr answer), and, when the tenant
   was not given, its ``funnel`` and ``retention``.

Any query failing fails the whole fetch with its ZetaError: the screen and `zeta product` show
one error, never half a product.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, timedelta
from typing import Any

from zeta_tui.backends.analytics import AnalyticsSource
from zeta_tui.models.product import (
    DAYS,
    WEEKS,
    Product,
    ab_test,
    cohorts,
    funnel_steps,
    newest_two,
    tenants_by_served,
    verdict,
    version_ctr,
)
from zeta_tui.querying.usage_sources import merged_note


async def fetch_product(source: AnalyticsSource, tenant: str | None, *, days: int = DAYS, until: date) -> Product:
    """The tenant's (or the most served tenant's) figures over ``days`` UTC days ending ``until``.
    Raises the first query's ZetaError."""

    def named(name: str, params: dict[str, Any]) -> Awaitable[Any]:
        return source.named(name, {**params, "until": until}, today=until)

    def per_tenant(t: str) -> list[Awaitable[Any]]:
        return [
            named("funnel", {"tenant": t, "days": days}),
            named("retention", {"tenant": t, "weeks": WEEKS}),
        ]

    first = await asyncio.gather(named("ctr", {"days": days}), *(per_tenant(tenant) if tenant else []))
    ctr = first[0]
    tenants = tenants_by_served(ctr.records())
    source_word = "chosen"
    if tenant is None:
        if not tenants:
            return Product(None, "most served", days, until, tenants, notes=_notes(ctr))
        tenant, source_word = tenants[0].tenant_id, "most served"
    window = tuple(until - timedelta(days=days - 1 - i) for i in range(days))
    versions = version_ctr(ctr.records(), tenant, window)
    pair = newest_two(versions)
    second: list[Awaitable[Any]] = []
    if pair is not None:
        second.append(named("ab_test", {"tenant": tenant, "version_a": pair[0], "version_b": pair[1], "days": days}))
    if len(first) == 1:
        second += per_tenant(tenant)
    got = await asyncio.gather(*second)
    ab = ab_test(got[0].records()) if pair is not None else None
    funnel, retention = (first[1], first[2]) if len(first) == 3 else (got[-2], got[-1])
    return Product(
        tenant=tenant,
        tenant_source=source_word,
        days=days,
        until=until,
        tenants=tenants,
        funnel=funnel_steps(funnel.records()),
        cohorts=cohorts(retention.records()),
        ctr_days=window,
        versions=versions,
        ab=ab,
        verdict=verdict(ab, versions, days),
        notes=_notes(ctr, *got),
    )


def _notes(*answers: Any) -> tuple[str, ...]:
    note = merged_note([a.note for a in answers if a.note])
    return (note,) if note else ()
