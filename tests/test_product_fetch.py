"""backends/product.py's fetch: one query failing fails the fetch at once and stops the others
(the Product screen and `zeta product` show one error, never half a product, and leave nothing running)."""

from __future__ import annotations

import pytest


class _Answer:
    def __init__(self, rows: list[dict]) -> None:
        self.rows, self.note = rows, ""

    def records(self) -> list[dict]:
        return self.rows


class _Source:
    """A stand-in ClickHouse: product_tenants and ctr answer; funnel fails after a moment; retention hangs."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.hung_cancelled = False

    async def named(self, name: str, params: dict, today=None) -> _Answer:
        import asyncio

        from zeta_tui.errors import BackendUnavailable

        self.asked.append(name)
        if name == "product_tenants":
            return _Answer([{"tenant_id": "acme", "served": 9, "clicks": 1, "tenants_in_window": 1}])
        if name == "ctr":
            return _Answer([])
        if name == "funnel":
            await asyncio.sleep(0.05)
            raise BackendUnavailable("clickhouse down", where="http://ch:8123")
        try:
            await asyncio.sleep(60)  # retention: would hang the fetch if left running
        except asyncio.CancelledError:
            self.hung_cancelled = True
            raise
        return _Answer([])


@pytest.mark.parametrize("tenant", [None, "acme"])
def test_a_failing_query_fails_the_fetch_at_once_and_stops_the_others(tenant: str | None) -> None:
    import asyncio
    from datetime import date

    from zeta_tui.backends.product import fetch_product
    from zeta_tui.errors import BackendUnavailable

    source = _Source()

    async def run() -> None:
        with pytest.raises(BackendUnavailable):
            await fetch_product(source, tenant, until=date(2026, 2, 10))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # let the cancellation land

    asyncio.run(run())
    assert source.hung_cancelled  # not waited for: it would have slept a minute and not been cancelled
    assert sorted(source.asked) == ["ctr", "funnel", "product_tenants", "retention"]
