"""The Tenants screen and `zeta slo`'s tenant SLAs on a database made by the seed's DDL verbatim.

No zeta rollup there: the figures come from api_usage (and the seed's view for request counts),
recounted here in Python from the rows loaded, and both say where they read them.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

pytest.importorskip("chdb", reason="the analytics screens read usage from an embedded ClickHouse (pip install chdb)")

from textual.widgets import DataTable, Static

from tests.support import usage_rows as edge
from tests.support.analytics_reference import Reference, batches, ref_sla_compliance
from tests.support.console import settled
from tests.support.seed_sql import SeedDatabase
from tests.support.world import T0
from zeta_tui.config.models import ContextConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.models.analytics import count_text

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()
TODAY = datetime.fromtimestamp(T0, tz=UTC).date()


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    db = SeedDatabase(tmp_path_factory.mktemp("seed-screens"))
    rows = edge.usage_rows(seed=5, last_day=TODAY)
    for batch in batches(rows, 3):
        db.insert("api_usage", batch)
    db.insert("tenants", edge.tenant_rows(1))
    yield db, Reference(rows, [edge.tenant_rows(1)], [])
    db.close()


async def test_tenants_on_the_seed_database_say_where_they_read(seed) -> None:
    db, ref = seed
    config = ZetaConfig(default_context="w", contexts={"w": ContextConfig(clickhouse=db.config())})
    app = build_app(config, "w", clock=lambda: float(T0), live=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("7")
        screen = await settled(pilot)
        assert screen.snapshot.error is None, screen.snapshot.error
        requests = Counter(r["tenant_id"] for r in ref.window(7, TODAY))
        table = screen.query_one("#tenants-table", DataTable)
        assert [str(k.value) for k in table.rows] == sorted(requests, key=lambda t: (-requests[t], t))
        assert [str(table.get_cell(k, "requests")) for k in table.rows] == [
            count_text(requests[str(k.value)]) for k in table.rows
        ]
        note = screen.query_one(".usage-note", Static)
        assert note.display
        assert str(note.render()) == (
            "no zeta rollup: `zeta clickhouse init` adds one — aggregated from api_usage, "
            "counts from your api_usage_daily"
        )


def test_zeta_slo_tenant_slas_on_the_seed_database(seed, prometheus_world, tmp_path, monkeypatch, capsys) -> None:
    from zeta_tui.cli import main

    db, ref = seed
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "config.toml"
    path.write_text(
        f'[contexts.t]\nservices = ["auth"]\n[contexts.t.prometheus]\nurl = "{prometheus_world.url}"\n'
        f'[contexts.t.clickhouse]\npath = "{db.path}"\ndatabase = "{db.database}"\n'
    )
    main(["slo", "--config", str(path), "--at", str(T0), "--json"])
    doc = json.loads(capsys.readouterr().out)
    want = ref_sla_compliance(ref, 30, TODAY)
    got = [(r["tenant_id"], r["plan"], r["requests"], r["server_errors"], int(r["met"])) for r in doc["tenant_slas"]]
    assert got == [(t, plan, n, e5, met) for t, _, plan, n, e5, _, _, met in want] and len(got) >= 5
    assert doc["tenant_sla_error"] is None and doc["tenant_sla_note"].startswith("aggregated from api_usage")
    main(["slo", "--config", str(path), "--at", str(T0)])
    text = capsys.readouterr().out
    missed = sum(1 for *_, met in want if not met)
    assert (
        "tenant SLAs over 30 days (ClickHouse usage, aggregated from api_usage (no zeta rollup: "
        f"`zeta clickhouse init` adds one)): {missed} of {len(want)} missed"
    ) in text
