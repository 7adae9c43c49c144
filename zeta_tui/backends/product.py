"""Ask the Product screen's queries for one tenant and fold them (models/product.py).

Every query is bounded by the tenant or a limit, so the answers stay small however many tenants
and events there are (queries/clickhouse/catalog):

1. ``product_tenants``: the picker's list (the PICKER_LIMIT most served tenants in the window) and
   the default tenant, its first. With the tenant given, the tenant's ``ctr``, ``funnel`` and
   ``retention`` go in the same gather.
2. When the tenant was not given: its ``ctr``, ``funnel`` and ``retention``.
3. ``ab_test`` of the two newest versions, which the ctr answer names; asked as soon as ctr is in,
   while funnel and retention (the slow ones, on ``events``) may still run.

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
    PICKER_LIMIT,
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

    def per_tenant(t: str) -> list[asyncio.Future[Any]]:
        return [
            asyncio.ensure_future(named("ctr", {"tenant": t, "days": days})),
            asyncio.ensure_future(named("funnel", {"tenant": t, "days": days})),
            asyncio.ensure_future(named("retention", {"tenant": t, "weeks": WEEKS})),
        ]

    picked = per_tenant(tenant) if tenant else []
    try:
        listed = await named("product_tenants", {"days": days, "limit": PICKER_LIMIT})
        tenants, in_window = tenants_by_served(listed.records())
        source_word = "chosen"
        if tenant is None:
            if not tenants:
                return Product(None, "most served", days, until, tenants, in_window, notes=_notes(listed))
            tenant, source_word = tenants[0].tenant_id, "most served"
            picked = per_tenant(tenant)
        ctr = await picked[0]
        window = tuple(until - timedelta(days=days - 1 - i) for i in range(days))
        versions = version_ctr(ctr.records(), tenant, window)
        pair = newest_two(versions)
        asked = []
        if pair is not None:
            asked.append(named("ab_test", {"tenant": tenant, "version_a": pair[0], "version_b": pair[1], "days": days}))
        got = await asyncio.gather(*picked[1:], *asked)
    finally:
        _settle(picked)
    funnel, retention = got[0], got[1]
    ab = ab_test(got[2].records()) if pair is not None else None
    return Product(
        tenant=tenant,
        tenant_source=source_word,
        days=days,
        until=until,
        tenants=tenants,
        tenants_in_window=in_window,
        funnel=funnel_steps(funnel.records()),
        cohorts=cohorts(retention.records()),
        ctr_days=window,
        versions=versions,
        ab=ab,
        verdict=verdict(ab, versions, days),
        notes=_notes(listed, ctr, *got),
    )


def _settle(tasks: list[asyncio.Future[Any]]) -> None:
    """When the fetch ends, however (an answer, a query's failure, the screen cancelling it): stop
    the tasks still running, and take the errors of those that failed (the first is the fetch's;
    the others would be logged as never retrieved)."""
    for task in tasks:
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()


def _notes(*answers: Any) -> tuple[str, ...]:
    note = merged_note([a.note for a in answers if a.note])
    return (note,) if note else ()
