"""`zeta sql` and `zeta clickhouse` end to end on a real embedded ClickHouse (chdb).

In process (cli.main) against a database inside the store this test process holds, and in
child processes against a store of their own (a chdb store is one process's at a time, so a
child gets a path the test process never opened). Expected values come from the rows as
generated (tests/support/usage_rows.py), counted here in Python.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("chdb", reason="these tests run the engine (pip install chdb)")

from tests.support import usage_rows as edge
from tests.support.analytics_store import AnalyticsDatabase
from zeta_tui.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("sql-cli")
    db = AnalyticsDatabase(root)
    rows = edge.usage_rows()
    db.insert("api_usage", rows)
    db.insert("tenants", edge.tenant_rows(1))
    config = root / "zeta.toml"
    config.write_text(
        'default_context = "w"\n'
        f'[contexts.w.clickhouse]\npath = "{db.path}"\ndatabase = "{db.database}"\nmax_rows = 50\n'
        "[contexts.prod]\nproduction = true\n"
        f'[contexts.prod.clickhouse]\npath = "{db.path}"\ndatabase = "{db.database}_init"\n'
        "[contexts.lab]\n"
        f'[contexts.lab.clickhouse]\npath = "{db.path}"\ndatabase = "{db.database}_init"\n'
        '[contexts.bare.prometheus]\nurl = "http://127.0.0.1:9"\n'
    )
    yield str(config), db, rows
    db.session.query("DROP DATABASE IF EXISTS {d:Identifier}", "CSV", params={"d": f"{db.database}_init"})
    db.close()


def zeta(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _day(row) -> str:
    return datetime.fromtimestamp(row["timestamp"], tz=UTC).date().isoformat()


def test_named_query_as_csv_equals_the_counts_of_the_generated_rows(store, capsys) -> None:
    config, _, rows = store
    until = edge.LAST_DAY
    code, out, err = zeta(
        capsys,
        "--config",
        config,
        "sql",
        "--name",
        "requests_over_time",
        "--param",
        "days=7",
        "--param",
        f"until={until}",
        "--format",
        "csv",
    )
    assert code == 0, err
    got = list(csv.reader(io.StringIO(out)))
    start = (until - timedelta(days=7)).isoformat()
    want = Counter((_day(r), r["tenant_id"]) for r in rows if start < _day(r) <= until.isoformat())
    assert got[0] == ["date", "tenant_id", "requests"]
    assert got[1:] == [[d, t, str(n)] for (d, t), n in sorted(want.items())]
    assert err.startswith(f"{len(want)} rows in ") and "read " in err


def test_ad_hoc_sql_with_a_parameter_as_json_lines(store, capsys) -> None:
    config, _, rows = store
    tenant = "x' OR 1=1 --"
    code, out, err = zeta(
        capsys,
        "--config",
        config,
        "sql",
        "SELECT endpoint, count() AS n FROM api_usage WHERE tenant_id = {t:String} GROUP BY endpoint ORDER BY endpoint",
        "--param",
        f"t={tenant}",
        "--format",
        "json",
    )
    assert code == 0, err
    want = Counter(r["endpoint"] for r in rows if r["tenant_id"] == tenant)
    assert [json.loads(line) for line in out.splitlines()] == [{"endpoint": e, "n": n} for e, n in sorted(want.items())]


def test_table_format_and_the_row_cap(store, capsys) -> None:
    config, _, _ = store
    code, out, err = zeta(
        capsys,
        "--config",
        config,
        "sql",
        "SELECT number AS n, toString(number * 1000) AS s FROM numbers(100)",
        "--max-rows",
        "3",
    )
    assert code == 0
    assert out.splitlines() == ["n  s", "0  0", "1  1000", "2  2000"]
    assert err.startswith("3 rows in ") and "cut at 3 rows (max_rows)" in err
    code, out, err = zeta(capsys, "--config", config, "sql", "SELECT number FROM numbers(100)", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 1 + 50 and "cut at 50 rows" in err  # the context's max_rows


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO api_usage (tenant_id) VALUES ('evil')",
        "DROP TABLE tenants",
        "ALTER TABLE api_usage DELETE WHERE 1",
        "SELECT 1; TRUNCATE TABLE api_usage",
    ],
)
def test_writes_are_refused_naming_why_and_change_nothing(store, capsys, sql: str) -> None:
    config, db, _ = store
    before = db.counts(), db.tables()
    code, out, err = zeta(capsys, "--config", config, "sql", sql)
    assert code == 1 and out == ""
    assert "read-only" in err and ("statements" in err or sql.split()[0] in err)
    assert (db.counts(), db.tables()) == before


def test_what_passes_the_words_is_refused_by_clickhouse_itself(store, capsys) -> None:
    config, db, _ = store
    before = db.counts()
    code, _, err = zeta(capsys, "--config", config, "sql", "SELECT count() FROM api_usage SETTINGS readonly = 0")
    assert code == 1 and "Code: 164" in err and "readonly" in err
    assert db.counts() == before


def test_query_errors_carry_clickhouse_words(store, capsys) -> None:
    config, _, _ = store
    code, out, err = zeta(capsys, "--config", config, "sql", "SELECT no_such_column FROM api_usage")
    assert code == 1 and out == "" and "Code: 47" in err and "no_such_column" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--name", "tenant_usage"], ["'tenant'", "String"]),
        (["--name", "top_tenants", "--param", "days=7; DROP TABLE api_usage"], ["'days'", "UInt16"]),
        (["--name", "top_tenants", "--param", "until=last week"], ["'until'", "Date"]),
        (["--name", "top_tenants", "--param", "tennant=acme"], ["'tennant'", "tenant String"]),
        (["--name", "top_tenant"], ["did you mean 'top_tenants'"]),
        (["--name", "top_tenants", "--param", "days"], ["KEY=VALUE"]),
        (["SELECT 1", "--name", "top_tenants"], ["one of them"]),
        ([], ["one of them"]),
    ],
)
def test_bad_parameters_and_usage_exit_2_naming_the_problem(store, capsys, argv, words) -> None:
    config, _, _ = store
    code, out, err = zeta(capsys, "--config", config, "sql", *argv)
    assert code == 2 and out == ""
    for w in words:
        assert w in err, (w, err)


def test_a_context_without_clickhouse_is_a_config_error(store, capsys) -> None:
    config, _, _ = store
    code, _, err = zeta(capsys, "--config", config, "--context", "bare", "sql", "SELECT 1")
    assert code == 2 and "no [clickhouse] section" in err and "[contexts.bare.clickhouse]" in err


def test_list_needs_no_config(capsys, tmp_path) -> None:
    code, out, _ = zeta(capsys, "--config", str(tmp_path / "none.toml"), "sql", "--list")
    assert code == 0
    assert "top_tenants: Top tenants by requests" in out and "tenant String (required)" in out


def test_check_probes_the_clickhouse_section(store, capsys) -> None:
    config, _, _ = store
    code, out, err = zeta(capsys, "--config", config, "check", "--json")
    assert code == 0, err
    [probe] = json.loads(out)
    assert probe["backend"] == "clickhouse" and probe["status"] == "UP" and probe["version"].count(".") >= 2


def test_schema_prints_the_contexts_database(store, capsys) -> None:
    config, db, _ = store
    code, out, _ = zeta(capsys, "--config", config, "clickhouse", "schema")
    assert code == 0 and f"CREATE TABLE IF NOT EXISTS {db.database}.api_usage (" in out
    assert "{database:Identifier}" not in "\n".join(line for line in out.splitlines() if not line.startswith("--"))
    code, out, _ = zeta(capsys, "clickhouse", "schema", "--database", "odd-name")
    assert code == 0 and "CREATE TABLE IF NOT EXISTS `odd-name`.tenants (" in out


def test_the_printed_schema_runs_as_printed(store, capsys) -> None:
    import re

    _, db, _ = store
    name = f"{db.database}_printed"
    code, out, _ = zeta(capsys, "clickhouse", "schema", "--database", name)
    assert code == 0 and not re.search(
        r"\{\w+:\w+\}", "\n".join(line for line in out.splitlines() if not line.lstrip().startswith("--"))
    )
    try:
        db.session.query(f"CREATE DATABASE {name}")
        db.session.query(out)  # every statement, as a user would paste it into clickhouse-client
        db.session.query(
            f"INSERT INTO {name}.api_usage (timestamp, tenant_id, latency_ms) VALUES (now(), 't', 7), (now(), 't', 9)"
        )
        assert db.scalar(f"SELECT sum(requests), avgMerge(latency_avg) FROM {name}.zeta_api_usage_daily") == "2\t8"
        assert db.scalar(f"SELECT request_count, avg_latency_ms FROM {name}.api_usage_daily") == "2\t8"
    finally:
        db.session.query(f"DROP DATABASE IF EXISTS {name}")


def test_init_is_refused_in_a_read_only_context_and_asks_first(store, capsys) -> None:
    config, db, _ = store
    code, _, err = zeta(capsys, "--config", config, "--context", "prod", "clickhouse", "init", "--yes")
    assert code == 1 and "read-only" in err and f"{db.database}_init" not in db.scalar("SHOW DATABASES").split()
    # no terminal to ask on, and no --yes: refused before anything is written
    code, _, err = zeta(capsys, "--config", config, "--context", "lab", "clickhouse", "init")
    assert code == 2 and "--yes" in err and f"{db.database}_init" not in db.scalar("SHOW DATABASES").split()


def test_init_creates_the_schema(store, capsys) -> None:
    config, db, _ = store
    code, out, err = zeta(capsys, "--config", config, "--context", "lab", "clickhouse", "init", "--yes")
    assert code == 0, err
    tables = db.scalar(f"SELECT name FROM system.tables WHERE database = '{db.database}_init' ORDER BY name").split()
    assert tables == [
        "api_usage",
        "api_usage_daily",
        "cost_data",
        "events",
        "tenants",
        "zeta_api_usage_daily",
        "zeta_api_usage_daily_backfill",
        "zeta_api_usage_daily_mv",
        "zeta_api_usage_daily_staging",
        "zeta_events_daily",
        "zeta_events_daily_backfill",
        "zeta_events_daily_mv",
        "zeta_events_daily_staging",
    ]
    assert "zeta_api_usage_daily_mv" in out and "zeta_events_daily_mv" in out and "api_usage_daily" in out
    # again: IF NOT EXISTS, nothing changes
    code, out, err = zeta(capsys, "--config", config, "--context", "lab", "clickhouse", "init", "--yes")
    assert code == 0 and "created in " in out and "nothing (everything was there)" in out, err


def _child(config: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ZETA_CONFIG": str(config), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "zeta_tui.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_child_processes_on_a_store_of_their_own(tmp_path) -> None:
    store = tmp_path / "child-store"  # never opened by this process
    config = tmp_path / "zeta.toml"
    config.write_text(f'[contexts.c.clickhouse]\npath = "{store}"\ndatabase = "usage"\n')
    init = _child(config, "clickhouse", "init", "--yes")
    assert init.returncode == 0, init.stderr
    count = _child(config, "sql", "SELECT count() AS n FROM api_usage", "--format", "csv")
    assert (count.returncode, count.stdout) == (0, "n\n0\n"), count.stderr
    insert = _child(config, "sql", "INSERT INTO api_usage (tenant_id) VALUES ('evil')")
    assert insert.returncode == 1 and "INSERT writes rows" in insert.stderr and "Traceback" not in insert.stderr
    passed = _child(config, "sql", "SELECT 1 SETTINGS readonly = 0")
    assert passed.returncode == 1 and "Code: 164" in passed.stderr
    bad = _child(config, "sql", "--name", "latency_trend", "--param", "days=many")
    assert bad.returncode == 2 and "'days'" in bad.stderr and "UInt16" in bad.stderr
    after = _child(config, "sql", "SELECT count() AS n FROM api_usage", "--format", "csv")
    assert after.stdout == "n\n0\n"
