"""The Product screen (`:product`) and `zeta product funnel|retention|ab --json`.

The model's verdict wording on hand-built ab_test answers (each case). Then one module-scoped
analytics database holding tests/support/product_reference.py's edge-case events plus a tenant
of our own, ``acme-retail``, with steady traffic and a newer model version that clicks better:
`zeta product` is checked against the reference's Python loops over the same events (the
default tenant, the two newest versions and the verdict's numbers recomputed here), the screen's
figures against `zeta product`'s, the tenant picker by key press, and snapshots at 80x24 and
160x50 with data and with ClickHouse down.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from zeta_tui.models.product import ab_test, verdict, version_ctr

pytest.importorskip("chdb", reason="the Product screen reads events from an embedded ClickHouse (pip install chdb)")

from tests.support import product_reference as ref
from tests.support.analytics_store import AnalyticsDatabase
from tests.support.console import settled
from zeta_tui.cli import main
from zeta_tui.config.models import ClickHouseConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app

os.environ["TZ"] = "UTC"
time.tzset()

UNTIL = ref.LAST_DAY  # 2026-02-10
CLOCK = datetime(2026, 2, 10, 12, 0, tzinfo=UTC).timestamp()
DAYS = 14
OLD, NEW = "m-2025.4", "m-2026.1"
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


# --- the model's words ---------------------------------------------------------------------------


def _answer(a: str, b: str, n_a: int, x_a: int, n_b: int, x_b: int) -> list[dict]:
    """An ab_test answer computed here from counts (the query's formulas, docs/product-analytics.md)."""
    z_a = ref.Z_ALPHA
    p_a, p_b = (x_a / n_a if n_a else None), (x_b / n_b if n_b else None)
    row = {"arm": "B - A", "model_version": f"{b} - {a}", "served": None, "clicks": None, "ctr_pct": None}
    row |= {"purchases": None, "purchase_rate_pct": None, "needed_per_arm": None}
    if p_a is None or p_b is None:
        word = f"no data: {a if p_a is None else b} served nothing"
        row |= {"diff_pt": None, "ci_low_pt": None, "ci_high_pt": None, "z": None, "p_value": None, "verdict": word}
    else:
        se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
        z = (p_b - p_a) / se
        word = (b + " beats " + a if z > 0 else a + " beats " + b) if abs(z) >= z_a else "no significant difference"
        row |= {"diff_pt": (p_b - p_a) * 100, "ci_low_pt": (p_b - p_a - z_a * se) * 100}
        row |= {"ci_high_pt": (p_b - p_a + z_a * se) * 100, "z": z, "p_value": math.erfc(abs(z) / math.sqrt(2))}
        row |= {"verdict": word, "needed_per_arm": 120_000}

    def arm(name: str, v: str, n: int, x: int) -> dict:
        return {"arm": name, "model_version": v, "served": n, "clicks": x, "ctr_pct": x * 100 / n if n else None}

    return [
        arm("A", a, n_a, x_a) | {"purchases": 0, "purchase_rate_pct": None, "verdict": ""},
        arm("B", b, n_b, x_b) | {"purchases": 0, "purchase_rate_pct": None, "verdict": ""},
        row,
    ]


def _versions(*names: str):
    days = [UNTIL]
    return version_ctr(
        [{"date": UNTIL, "tenant_id": "t", "model_version": v, "served": 5, "clicks": 1} for v in names], "t", days
    )


@pytest.mark.parametrize(
    ("counts", "words"),
    [
        # 3.0 % -> 3.8 %: se = sqrt(.03*.97/41000 + .038*.962/41000) = 0.001265, CI 0.8 +- 0.248 pt
        ((41_000, 1230, 41_000, 1558), "v7 beats v6 by +0.8 pt CTR (95 % CI +0.6 to +1.0), 41k served each"),
        # the old one wins: the difference and its interval are said from its side
        ((40_000, 1600, 38_000, 1140), "v6 beats v7 by +1.0 pt CTR (95 % CI +0.7 to +1.3), 40k and 38k served"),
        (
            (5_000, 250, 5_000, 260),
            "no significant difference between v7 and v6 (+0.2 pt CTR, 95 % CI -0.7 to +1.1), "
            "5.0k served each; 120k each would detect it",
        ),
        ((5_000, 250, 0, 0), "v7 has no traffic in the 14 days: no A/B test"),
        (
            (300, 9, 280, 20),
            "too few served to say whether v7 or v6 does better (v7 20 clicks of 280 served, "
            "v6 9 clicks of 300 served; the test needs 10 clicks in each)",
        ),
    ],
)
def test_the_verdict_in_words(counts, words) -> None:
    ab = ab_test(_answer("v6", "v7", *counts))
    assert verdict(ab, _versions("v6", "v7"), 14) == words


def test_the_verdict_without_two_versions() -> None:
    assert verdict(None, _versions("v6"), 14) == "only v6 served in the 14 days: no A/B test"
    assert verdict(None, (), 7) == "no recommendations served in the 7 days: no A/B test"


# --- the store -------------------------------------------------------------------------------------


def acme_events() -> list[dict]:
    """35 days of a tenant: users arriving every day and coming back; NEW serves half the
    impressions from 5 days before UNTIL, with a higher CTR (7 % against 4 %)."""
    rng = random.Random(1717)
    out: list[dict] = []
    first = UNTIL - timedelta(days=34)
    ctr = {OLD: 0.04, NEW: 0.07}
    for u in range(1200):
        arrive = first + timedelta(days=rng.randrange(35))
        days = [arrive] + [arrive + timedelta(days=d) for d in range(1, 35) if rng.random() < 0.07]
        for day in (d for d in days if d <= UNTIL):
            at = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000) + rng.randrange(80_000_000)
            user = f"acme-{u:04d}"
            out.append(ref._ev("acme-retail", user, ref.SESSION, "2026-01-01", "") | {"ts": at})
            for _ in range(rng.randint(2, 9)):
                at += rng.randint(1_000, 60_000)
                version = NEW if day > UNTIL - timedelta(days=5) and rng.random() < 0.5 else OLD
                item = f"item-{rng.randint(1, 40)}"
                out.append(ref._ev("acme-retail", user, ref.SERVED, "2026-01-01", version, item) | {"ts": at})
                if rng.random() < ctr[version]:
                    t = at + rng.randint(2_000, 90_000)
                    out.append(ref._ev("acme-retail", user, ref.CLICKED, "2026-01-01", version, item) | {"ts": t})
                    if rng.random() < 0.3:
                        t += rng.randint(10_000, 600_000)
                        out.append(ref._ev("acme-retail", user, ref.CART, "2026-01-01", version, item) | {"ts": t})
                        if rng.random() < 0.5:
                            t += rng.randint(30_000, 1_800_000)
                            out.append(
                                ref._ev("acme-retail", user, ref.PURCHASED, "2026-01-01", version, item) | {"ts": t}
                            )
    for e in out:
        e.setdefault("session_id", "")
    return out


EVENTS = ref.edge_events() + acme_events()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    store = AnalyticsDatabase(tmp_path_factory.mktemp("product_screen"))
    rows = [ref.row(e) for e in EVENTS]
    for i in range(3):
        store.insert("events", rows[i::3])
    yield store
    store.close()  # closes the embedded session when this module opened it


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def _config_file(tmp_path, db) -> str:
    path = tmp_path / "zeta.toml"
    path.write_text(f'[contexts.w.clickhouse]\npath = "{db.path}"\ndatabase = "{db.database}"\n')
    return str(path)


def product(capsys, config: str, what: str, *argv: str) -> dict:
    code = main(["--config", config, "product", what, "--until", UNTIL.isoformat(), "--json", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _in_window(e: dict) -> bool:
    return UNTIL - timedelta(days=DAYS - 1) <= ref.day_of(e["ts"]) <= UNTIL


def newest_two(tenant: str) -> tuple[str, str]:
    """(A, B) recomputed: the versions whose first served event in the window is the latest."""
    first: dict[str, int] = {}
    for e in EVENTS:
        if e["tenant_id"] == tenant and e["event"] == ref.SERVED and _in_window(e):
            first[e["model_version"]] = min(first.get(e["model_version"], e["ts"]), e["ts"])
    days = sorted(first, key=lambda v: (ref.day_of(first[v]), v), reverse=True)
    return days[1], days[0]


def test_zeta_product_against_the_events(db, capsys, tmp_path) -> None:
    config = _config_file(tmp_path, db)
    served = Counter(e["tenant_id"] for e in EVENTS if e["event"] == ref.SERVED and _in_window(e))
    funnel = product(capsys, config, "funnel")
    assert funnel["tenant"] == max(served, key=lambda t: served[t]) == "acme-retail"
    assert funnel["tenant_is"] == "most served"
    assert [(t["tenant_id"], t["served"]) for t in funnel["tenants"]] == sorted(served.items(), key=lambda kv: -kv[1])
    assert funnel["tenants_in_window"] == len(_with_recommendations()) == len(funnel["tenants"])
    assert funnel["funnel"] == ref.funnel(EVENTS, "acme-retail", DAYS, UNTIL)
    retention = product(capsys, config, "retention")["retention"]
    want = ref.retention(EVENTS, "acme-retail", 8, UNTIL)
    got = [(c["cohort_week"], c["users"], n, r) for c in retention for n, r in enumerate(c["returned"])]
    assert got == [(w["cohort_week"].isoformat(), w["users"], w["week"], w["returned"]) for w in want]
    assert len(retention) == 6  # the 35 days (Jan 7 to Feb 10) touch six ISO weeks, all inside the 8

    ab = product(capsys, config, "ab")
    a, b = newest_two("acme-retail")
    assert (a, b) == (OLD, NEW)
    rows = ref.ab_test(EVENTS, "acme-retail", a, b, DAYS, UNTIL)
    assert (ab["ab_test"]["a"]["served"], ab["ab_test"]["b"]["served"]) == (rows[0]["served"], rows[1]["served"])
    assert (ab["ab_test"]["a"]["clicks"], ab["ab_test"]["b"]["clicks"]) == (rows[0]["clicks"], rows[1]["clicks"])
    assert rows[2]["verdict"] == f"{NEW} beats {OLD}"
    k = lambda n: f"{n / 1000:.1f}k" if n < 9950 else f"{n / 1000:.0f}k"  # noqa: E731
    assert ab["verdict"] == (
        f"{NEW} beats {OLD} by {rows[2]['diff_pt']:+.1f} pt CTR (95 % CI {rows[2]['ci_low_pt']:+.1f} to "
        f"{rows[2]['ci_high_pt']:+.1f}), {k(rows[1]['served'])} and {k(rows[0]['served'])} served"
    )
    # CTR per version and day, from the reference's ctr rows
    per_day = {
        (r["model_version"], r["date"].isoformat()): r["ctr_pct"] for r in ref.ctr(EVENTS, "acme-retail", DAYS, UNTIL)
    }
    for v in ab["ctr"]["versions"]:
        assert v["ctr_pct_by_day"] == [per_day.get((v["model_version"], d)) for d in ab["ctr"]["days"]]

    # another tenant by name: the edge cases' (steps over midnight and a month, repeats, out of order)
    northwind = product(capsys, config, "funnel", "--tenant", "northwind", "--days", "30")
    assert northwind["tenant_is"] == "chosen"
    assert northwind["funnel"] == ref.funnel(EVENTS, "northwind", 30, UNTIL)


def _with_recommendations() -> list[str]:
    """Tenants with served or clicked events in the window, most served first (ties by name), recomputed."""
    served: Counter[str] = Counter()
    for e in EVENTS:
        if e["event"] in (ref.SERVED, ref.CLICKED) and _in_window(e):
            served[e["tenant_id"]] += e["event"] == ref.SERVED
    return sorted(served, key=lambda t: (-served[t], t))


def test_the_tenant_list_is_bounded_and_a_tenant_past_it_is_still_asked_by_name(
    db, capsys, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr("zeta_tui.backends.product.PICKER_LIMIT", 2)
    config = _config_file(tmp_path, db)
    ranked = _with_recommendations()
    doc = product(capsys, config, "funnel")
    assert doc["tenants_in_window"] == len(ranked) > 2
    assert [t["tenant_id"] for t in doc["tenants"]] == ranked[:2] and doc["tenant"] == ranked[0]
    last = product(capsys, config, "funnel", "--tenant", ranked[-1])
    assert last["tenant"] == ranked[-1] and last["funnel"] == ref.funnel(EVENTS, ranked[-1], DAYS, UNTIL)
    assert [t["tenant_id"] for t in last["tenants"]] == ranked[:2]


def test_zeta_product_exit_codes(capsys, tmp_path, closed_port_url) -> None:
    bare = tmp_path / "none.toml"
    bare.write_text('[contexts.w.prometheus]\nurl = "http://127.0.0.1:1"\n')
    assert main(["--config", str(bare), "product", "funnel"]) == 2
    assert "[contexts.w.clickhouse]" in capsys.readouterr().err
    down = tmp_path / "down.toml"
    down.write_text(f'[contexts.w.clickhouse]\nurl = "{closed_port_url}"\ntimeout_seconds = 2\n')
    assert main(["--config", str(down), "product", "ab"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()


# --- the screen -----------------------------------------------------------------------------------


def _app(clickhouse: ClickHouseConfig | None):
    config = ZetaConfig(default_context="w", contexts={"w": ContextConfig(clickhouse=clickhouse)})
    return build_app(config, "w", clock=lambda: CLOCK, live=False)


async def _on_product(pilot):
    await pilot.press("colon", *"product", "enter")
    return await settled(pilot)


@pytest.fixture
def cli(db, capsys, tmp_path):
    """`zeta product`'s answers, asked before the console's event loop runs (the command runs its own)."""
    config = _config_file(tmp_path, db)
    docs = {what: product(capsys, config, what) for what in ("funnel", "retention", "ab")}
    second = docs["funnel"]["tenants"][1]["tenant_id"]
    return docs, second, product(capsys, config, "funnel", "--tenant", second)


@pytest.mark.console
async def test_the_screen_shows_zeta_products_figures_and_picks_a_tenant(db, cli) -> None:
    from zeta_tui.headless.product import to_json
    from zeta_tui.screens.product import ProductScreen
    from zeta_tui.screens.tenant_picker import TenantPicker

    cli, second, cli_second = cli
    async with _app(db.config()).run_test(size=(80, 24)) as pilot:
        screen = await _on_product(pilot)
        assert isinstance(screen, ProductScreen) and screen.snapshot.error is None, screen.snapshot.error
        value = screen.snapshot.value
        for what in ("funnel", "retention", "ab"):
            assert to_json(value, what) == cli[what]
        # 80x24: one block at a time, c cycles funnel -> CTR chart -> retention table
        blocks = ("#product-funnel", "#product-ctr", "#product-retention-block")
        for shown in range(3):
            assert [screen.query_one(b).display for b in blocks] == [i == shown for i in range(3)]
            await pilot.press("c")
        assert str(screen.query_one("#product-verdict").render()) == value.verdict
        assert value.verdict.startswith(f"{NEW} beats {OLD}")
        # t opens the list of tenants (most served first); down, Enter: the next one is asked for
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(pilot.app.screen, TenantPicker)
        await pilot.press("down", "enter")
        for _ in range(200):
            if screen.snapshot.value is not None and screen.snapshot.value.tenant != "acme-retail":
                break
            await pilot.pause(0.05)
        picked = screen.snapshot.value
        assert picked.tenant == second and picked.tenant_source == "chosen"
        assert to_json(picked, "funnel") == cli_second
        assert picked.tenant in str(screen.query_one("#product-head").render())


async def _product_of(pilot, tenant: str):
    """The Product screen once it shows ``tenant``'s figures."""
    for _ in range(400):
        screen = pilot.app.screen
        value = getattr(getattr(screen, "snapshot", None), "value", None)
        if value is not None and value.tenant == tenant:
            return screen
        await pilot.pause(0.05)
    raise AssertionError(f"the Product screen never showed {tenant}")


@pytest.mark.console
async def test_product_and_tenant_screens_join_both_ways(db, cli) -> None:
    from zeta_tui.headless.product import to_json
    from zeta_tui.screens.product import ProductScreen
    from zeta_tui.screens.tenant_detail import TenantDetailScreen

    _, second, cli_second = cli
    async with _app(db.config()).run_test(size=(160, 50)) as pilot:
        # `:product ID` opens the screen on that tenant, not the most served
        await pilot.press("colon", *f"product {second}", "enter")
        screen = await _product_of(pilot, second)
        assert isinstance(screen, ProductScreen) and screen.snapshot.value.tenant_source == "chosen"
        assert to_json(screen.snapshot.value, "funnel") == cli_second
        # ctrl+t: its Tenant screen, on top
        await pilot.press("ctrl+t")
        tenant = await settled(pilot)
        assert isinstance(tenant, TenantDetailScreen) and tenant.tenant_id == second
        # f on the Tenant screen: back to Product, on this tenant; Esc goes back along the join
        await pilot.press("escape")
        await pilot.press("1")
        await pilot.press("colon", *"tenant northwind", "enter")
        tenant = await settled(pilot)
        assert isinstance(tenant, TenantDetailScreen) and tenant.tenant_id == "northwind"
        await pilot.press("f")
        product = await _product_of(pilot, "northwind")
        assert to_json(product.snapshot.value, "funnel")["funnel"] == ref.funnel(EVENTS, "northwind", DAYS, UNTIL)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, TenantDetailScreen) and pilot.app.screen.tenant_id == "northwind"


@pytest.mark.console
async def test_the_tenant_screen_offers_product_only_with_clickhouse() -> None:
    from zeta_tui.screens.tenant_detail import TenantDetailScreen

    config = ZetaConfig(
        default_context="w", contexts={"w": ContextConfig(prometheus=PrometheusConfig(url="http://127.0.0.1:1"))}
    )
    async with build_app(config, "w", clock=lambda: CLOCK, live=False).run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *"tenant northwind", "enter")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, TenantDetailScreen)
        assert screen.check_action("product", ()) is False


@pytest.mark.console
@pytest.mark.parametrize("size", SIZES)
def test_product_snapshot(snap_compare, db, size) -> None:
    assert snap_compare(_app(db.config()), terminal_size=size, run_before=_on_product)


@pytest.mark.console
@pytest.mark.parametrize("size", SIZES)
def test_product_tenant_picker_snapshot(snap_compare, db, size) -> None:
    async def picking(pilot) -> None:
        await _on_product(pilot)
        await pilot.press("t", *"r")
        await pilot.pause()

    assert snap_compare(_app(db.config()), terminal_size=size, run_before=picking)


@pytest.mark.console
@pytest.mark.parametrize("size", SIZES)
def test_product_clickhouse_down_snapshot(snap_compare, size) -> None:
    app = _app(ClickHouseConfig(url="http://127.0.0.1:1", timeout_seconds=2))
    assert snap_compare(app, terminal_size=size, run_before=_on_product)


def test_a_day_is_utc() -> None:
    assert date.fromtimestamp(CLOCK) == UNTIL
