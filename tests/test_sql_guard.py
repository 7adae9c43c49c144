"""sql_guard: the friendly first refusal of SQL that writes (ClickHouse's readonly = 1 is the
real guard; tests/test_analytics_source.py shows the engine refusing what gets past this)."""

from __future__ import annotations

import pytest

from zeta_tui.querying.sql_guard import statement_kind, write_refusal


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select count() from api_usage;",
        "  -- a comment\n/* another */ (SELECT 1)",
        "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
        "SHOW TABLES",
        "DESCRIBE TABLE api_usage",
        "DESC api_usage",
        "EXPLAIN SELECT 1",
        "EXISTS TABLE api_usage",
        "SELECT 'DROP TABLE x; INSERT' AS s",
        "SELECT `weird;name` FROM t -- ; DROP TABLE t",
        'SELECT "a;b" FROM t # ; DELETE',
        "SELECT 'it''s' ;  ",
        "SELEC 1",  # a typo: ClickHouse's own syntax error says more than a refusal would
    ],
)
def test_read_statements_pass(sql: str) -> None:
    assert write_refusal(sql) is None


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO api_usage VALUES (1)", "INSERT"),
        ("insert into api_usage select * from api_usage", "INSERT"),
        ("ALTER TABLE api_usage DELETE WHERE 1", "ALTER"),
        ("DROP TABLE api_usage", "DROP"),
        ("CREATE TABLE x (a UInt8) ENGINE = Memory", "CREATE"),
        ("TRUNCATE TABLE api_usage", "TRUNCATE"),
        ("DELETE FROM api_usage WHERE 1", "DELETE"),
        ("UPDATE api_usage SET status_code = 200 WHERE 1", "UPDATE"),
        ("OPTIMIZE TABLE api_usage FINAL", "OPTIMIZE"),
        ("SYSTEM DROP DNS CACHE", "SYSTEM"),
        ("KILL QUERY WHERE 1", "KILL"),
        ("GRANT ALL ON *.* TO x", "GRANT"),
        ("SET readonly = 0", "SET"),
        ("/* hide */ -- it\n  RENAME TABLE a TO b", "RENAME"),
        ("ATTACH TABLE x", "ATTACH"),
    ],
)
def test_writes_are_refused_naming_the_statement(sql: str, kind: str) -> None:
    reason = write_refusal(sql)
    assert reason is not None and reason.startswith(kind) and "read-only" in reason
    assert statement_kind(sql) == kind


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DROP TABLE api_usage",
        "SELECT 1;INSERT INTO t SELECT 1",
        "SELECT ';'; SELECT 2",
    ],
)
def test_more_than_one_statement_is_refused(sql: str) -> None:
    reason = write_refusal(sql)
    assert reason is not None and "2 statements" in reason


def test_into_outfile_and_empty_text_are_refused() -> None:
    # readonly = 1 does not stop INTO OUTFILE on an embedded store (it writes a local file)
    assert "OUTFILE" in (write_refusal("SELECT 1 INTO OUTFILE '/tmp/x.csv'") or "")
    assert "no statement" in (write_refusal("  -- nothing\n") or "")
