"""`zeta clickhouse init` on a database made by the seed's DDL verbatim, on real chdb.

It adds zeta's rollup beside the seed's tables and backfills it month by month with progress;
the seed's api_usage and api_usage_daily keep their definition, rows and bytes on disk; a
second run does nothing; a run stopped between two steps and run again counts no month twice;
rows arriving while init waits for its cutoff are counted once; and a table without a column
zeta reads gets a message that names it and says what to set. Expected counts come from the
rows as generated, counted here in Python.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("chdb", reason="init runs on an embedded ClickHouse (pip install chdb)")

from tests.support import usage_rows as edge
from tests.support.analytics_reference import batches
from tests.support.analytics_store import AnalyticsDatabase
from tests.support.seed_sql import SeedDatabase
from zeta_tui.backends.clickhouse_engine import ClickHouseEngine
from zeta_tui.backends.usage_rollup import RollupInit
from zeta_tui.cli import main

ZETA_OBJECTS = [
    "zeta_api_usage_daily",
    "zeta_api_usage_daily_backfill",
    "zeta_api_usage_daily_mv",
    "zeta_api_usage_daily_staging",
]


def zeta(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _month(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y%m")


def _config(root: Path, db, columns: str = "") -> str:
    path = root / f"{db.database}.toml"
    path.write_text(
        f'[contexts.lab.clickhouse]\npath = "{db.path}"\ndatabase = '
        f'"{db.database}"\n{columns}[contexts.prod]\nproduction = true\n[contexts.prod.clickhouse]\npath = '
        f'"{db.path}"\ndatabase = "{db.database}"\n'
    )
    return str(path)


def _rollup_by_month(db) -> dict[str, int]:
    out = db.scalar(
        "SELECT toYYYYMM(date), sum(requests) FROM {database:Identifier}.zeta_api_usage_daily GROUP BY 1 ORDER BY 1"
    )
    return {m: int(n) for m, n in (line.split("\t") for line in out.splitlines())}


def _zeta_state(db) -> dict[str, str]:
    return {
        t: db.scalar(
            f"SELECT concat(toString(count()), ':', toString(sum(cityHash64(*)))) FROM {{database:Identifier}}.{t}"
        )
        for t in ("zeta_api_usage_daily", "zeta_api_usage_daily_backfill")
    }


@pytest.fixture
def seed(tmp_path):
    db = SeedDatabase(tmp_path, zeta_tables=False)  # a seed database has no cost_data or tenants: init makes them
    rows = edge.usage_rows()
    for batch in batches(rows, 4):
        db.insert("api_usage", batch)
    yield db, rows
    db.close()


def test_init_adds_the_rollup_beside_the_seeds_tables_and_a_second_run_does_nothing(seed, tmp_path, capsys) -> None:
    db, rows = seed
    config = _config(tmp_path, db)
    for table in ("api_usage", "api_usage_daily"):  # merged now, so no background merge renames a part during the test
        db.session.query(
            f"OPTIMIZE TABLE {{database:Identifier}}.{table} FINAL", "CSV", params={"database": db.database}
        )
    before = db.fingerprint()
    assert set(before) >= {"api_usage", "api_usage_daily"} and any(t.startswith(".inner") for t in before)

    code, out, err = zeta(capsys, "--config", config, "--context", "prod", "clickhouse", "init", "--yes")
    assert code == 1 and "read-only" in err  # refused as before, and nothing made
    assert db.tables() == sorted(before)

    code, out, err = zeta(
        capsys, "--config", config, "--context", "lab", "clickhouse", "init", "--yes", "--settle", "0"
    )
    assert code == 0, err
    # Progress: one line per month, oldest first, with its rows.
    per_month = Counter(_month(r["timestamp"]) for r in rows)
    progress = re.findall(r"^  (\d{4})-(\d{2}): ([\d,]+) rows rolled up \((\d+)/(\d+)", err, re.M)
    assert [(y + m, int(n.replace(",", ""))) for y, m, n, _, _ in progress] == sorted(per_month.items())
    assert [int(i) for _, _, _, i, _ in progress] == list(range(1, len(per_month) + 1))
    assert "left as they were: api_usage, api_usage_daily\n" in out
    assert db.fingerprint() == before  # definitions, rows and bytes on disk of every table that was there
    assert set([*ZETA_OBJECTS, "cost_data", "tenants"]) <= set(db.tables())
    assert _rollup_by_month(db) == dict(per_month)

    state = _zeta_state(db)
    code, out, err = zeta(
        capsys, "--config", config, "--context", "lab", "clickhouse", "init", "--yes", "--settle", "0"
    )
    assert code == 0, err
    assert "nothing to backfill" in err and "rows rolled up" not in err and "nothing (everything was there)" in out
    assert _zeta_state(db) == state and db.fingerprint() == before


class _Stop(Exception):
    pass


class _Stopping:
    """A writer that stops the run at the ``n``-th statement containing ``word``, before or after running it."""

    def __init__(self, writer, word: str, n: int, after: bool) -> None:
        self.writer, self.word, self.n, self.after, self.seen = writer, word, n, after, 0

    def run(self, sql, params=None):
        hit = self.word in sql
        if hit:
            self.seen += 1
        if hit and self.seen == self.n and not self.after:
            raise _Stop(sql)
        out = self.writer.run(sql, params)
        if hit and self.seen == self.n and self.after:
            raise _Stop(sql)
        return out


@pytest.mark.parametrize(
    ("word", "n", "after"),
    [
        ("MOVE PARTITION", 2, True),  # the second month moved into the rollup, not yet recorded 'done'
        ("MOVE PARTITION", 1, False),  # the first month staged and recorded, not yet moved
        (
            "VALUES ({step:String}",
            3,
            False,
        ),  # the second month in staging, not yet recorded 'staged' (1: staged, 2: done)
    ],
)
def test_an_init_stopped_between_steps_and_run_again_counts_every_month_once(seed, word, n, after) -> None:
    db, rows = seed
    writer = ClickHouseEngine(db.config(), "clickhouse").writer()
    with pytest.raises(_Stop):
        RollupInit(_Stopping(writer, word, n, after), db.database, settle_s=0, lead_s=0).run()
    report = RollupInit(writer, db.database, settle_s=0, lead_s=0).run()
    assert _rollup_by_month(db) == dict(Counter(_month(r["timestamp"]) for r in rows))
    assert report.rollup_requests == report.usage_rows == len(rows)


def test_rows_arriving_while_init_waits_for_the_cutoff_are_counted_once(tmp_path) -> None:
    db = SeedDatabase(tmp_path, zeta_tables=False)
    try:
        now = int(db.scalar("SELECT toUnixTimestamp(now())"))
        rows = [
            r for r in edge.usage_rows(last_day=datetime.fromtimestamp(now, tz=UTC).date()) if r["timestamp"] < now - 60
        ]
        ahead = [
            {**rows[3], "timestamp": now + 3600},
            {**rows[4], "timestamp": now + 7200},
        ]  # a writer's clock an hour ahead
        db.insert("api_usage", rows + ahead)
        late: list[dict] = []

        def sleep(seconds: float) -> None:
            if not late:  # the view exists and the current month waits: a pipeline keeps writing
                cutoff = int(
                    db.scalar(
                        "SELECT toUnixTimestamp(cutoff) FROM {database:Identifier}.zeta_api_usage_daily_backfill "
                        "WHERE step = 'view'"
                    )
                )
                late.extend(
                    [
                        {**rows[0], "timestamp": cutoff - 1},
                        {**rows[1], "timestamp": cutoff},
                        {**rows[2], "timestamp": cutoff + 1},
                    ]
                )
                db.insert("api_usage", late)
            time.sleep(seconds)

        lines: list[str] = []
        writer = ClickHouseEngine(db.config(), "clickhouse").writer()
        report = RollupInit(writer, db.database, log=lines.append, settle_s=0.5, lead_s=2, sleep=sleep).run()
        assert late and any("waiting" in line for line in lines)
        # Stamped at or after the cutoff: the view's (two rows); before it: the backfill's. Each once.
        # The two stamped in the future before the view existed are in neither, and init says so.
        backfilled = int(
            db.scalar("SELECT sum(rows) FROM {database:Identifier}.zeta_api_usage_daily_backfill WHERE step = 'done'")
        )
        assert backfilled == len(rows) + 1
        assert report.usage_rows == len(rows) + len(ahead) + 3 and report.rollup_requests == len(rows) + 3
        assert any(
            w.startswith("2 rows of api_usage are stamped at or after the view's cutoff") for w in report.warnings
        )
    finally:
        db.close()


# --- a table that does not have what zeta reads -----------------------------------------------------

OLD_ZETA_DDL = """CREATE TABLE {database:Identifier}.api_usage (
    timestamp DateTime, date Date DEFAULT toDate(timestamp), tenant_id String, user_id String, endpoint String,
    method String, status_code UInt16, response_time_ms UInt32, request_size_bytes UInt32, response_size_bytes UInt32
) ENGINE = MergeTree PARTITION BY toYYYYMM(date) ORDER BY (tenant_id, timestamp)"""


@pytest.fixture
def renamed(tmp_path):
    """api_usage as an earlier zeta made it: response_time_ms for latency_ms, user_id for api_key_id."""
    db = AnalyticsDatabase(tmp_path, fresh=False)
    db.session.query(OLD_ZETA_DDL, "CSV", params={"database": db.database})
    rows = [
        {
            **{k: v for k, v in r.items() if k not in ("latency_ms", "api_key_id")},
            "response_time_ms": r["latency_ms"],
            "user_id": r["api_key_id"],
        }
        for r in edge.usage_rows()
    ]
    db.insert("api_usage", rows)
    yield db, rows
    db.close()


def test_a_missing_column_is_named_with_what_to_set(renamed, tmp_path, capsys) -> None:
    db, rows = renamed
    config = _config(tmp_path, db)
    code, out, err = zeta(
        capsys,
        "--config",
        config,
        "--context",
        "lab",
        "sql",
        "--name",
        "latency_trend",
        "--param",
        f"until={edge.LAST_DAY}",
    )
    assert code == 1 and "Traceback" not in err
    assert "has no column latency_ms" in err and "latency_trend" in err
    assert (
        'clickhouse.columns = { latency_ms = "<that column>" }' in err and "response_time_ms" in err
    )  # what it has, to pick from
    # A query that reads no latency still answers.
    code, out, err = zeta(
        capsys,
        "--config",
        config,
        "--context",
        "lab",
        "sql",
        "--name",
        "requests_over_time",
        "--format",
        "csv",
        "--param",
        "days=40",
        "--param",
        f"until={edge.LAST_DAY}",
    )
    assert code == 0 and sum(int(line.split(",")[2]) for line in out.splitlines()[1:]) == len(rows)
    assert "aggregated from api_usage" in err
    # init names the column too, and creates nothing.
    tables = db.tables()
    code, out, err = zeta(
        capsys, "--config", config, "--context", "lab", "clickhouse", "init", "--yes", "--settle", "0"
    )
    assert code == 1 and "has no column latency_ms" in err and "clickhouse.columns" in err and "Traceback" not in err
    assert db.tables() == tables


def test_clickhouse_columns_maps_a_renamed_column(renamed, tmp_path, capsys) -> None:
    db, rows = renamed
    config = _config(tmp_path, db, columns='columns = { latency_ms = "response_time_ms" }\n')
    code, out, err = zeta(
        capsys,
        "--config",
        config,
        "--context",
        "lab",
        "sql",
        "--name",
        "latency_trend",
        "--format",
        "csv",
        "--param",
        "days=40",
        "--param",
        f"until={edge.LAST_DAY}",
    )
    assert code == 0, err
    assert sum(int(line.split(",")[1]) for line in out.splitlines()[1:]) == len(rows)
    code, out, err = zeta(
        capsys, "--config", config, "--context", "lab", "clickhouse", "init", "--yes", "--settle", "0"
    )
    assert code == 0, err
    assert "toUInt32(response_time_ms)" in db.scalar(
        "SELECT create_table_query FROM system.tables WHERE database = {database:String} "
        "AND name = 'zeta_api_usage_daily_mv'"
    )
    assert sum(_rollup_by_month(db).values()) == len(rows)
    code, out, err = zeta(capsys, "--config", config, "--context", "lab", "clickhouse", "schema")
    assert code == 0 and "avgState(toUInt32(response_time_ms))" in out


def test_a_cost_data_without_a_column_is_named(tmp_path, capsys) -> None:
    db = SeedDatabase(tmp_path, zeta_tables=False)
    try:
        db.session.query(
            "CREATE TABLE {database:Identifier}.cost_data (date Date, service String, tenant_id String, "
            "cost_usd Float64) ENGINE = MergeTree ORDER BY date",
            "CSV",
            params={"database": db.database},
        )
        config = _config(tmp_path, db)
        code, _, err = zeta(capsys, "--config", config, "--context", "lab", "sql", "--name", "daily_cost")
        assert code == 1 and "cost_data" in err and "has no column api_calls" in err and "clickhouse.database" in err
        code, _, err = zeta(
            capsys, "--config", config, "--context", "lab", "clickhouse", "init", "--yes", "--settle", "0"
        )
        assert code == 0 and "warning: your cost_data has no column api_calls" in err
        assert "api_calls" not in db.scalar(
            "SELECT groupArray(name) FROM system.columns WHERE database = {database:String} AND table = 'cost_data'"
        )  # left as it was
    finally:
        db.close()


def test_init_on_an_empty_seed_table_rolls_up_history_loaded_afterwards(tmp_path) -> None:
    db = SeedDatabase(tmp_path, zeta_tables=False)
    try:
        report = db.init(settle_s=0)
        assert report.cutoff == datetime.fromtimestamp(0, tz=UTC) and report.months_backfilled == []
        rows = edge.usage_rows()  # weeks of history, loaded after init
        for batch in batches(rows, 3):
            db.insert("api_usage", batch)
        assert _rollup_by_month(db) == dict(Counter(_month(r["timestamp"]) for r in rows))
    finally:
        db.close()
