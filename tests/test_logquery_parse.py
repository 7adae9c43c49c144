"""The log query syntax: text -> AST, errors with a column and a fix, saved searches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeta_tui.errors import ConfigError, QueryError
from zeta_tui.querying.logquery import (
    And,
    Exists,
    MatchAll,
    Not,
    Or,
    Phrase,
    Range,
    Term,
    load_saved_searches,
    parse_log_query,
    resolve_time,
    time_window,
)
from zeta_tui.resources import shipped_dir

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)

PARSED = [
    ("", MatchAll()),
    ("   ", MatchAll()),
    ("*", MatchAll()),
    ("timeout", Term(None, "timeout")),
    ('"connection reset by peer"', Phrase(None, "connection reset by peer")),
    ("level:ERROR", Term("level", "ERROR")),
    ('tenant_id:"tenant_001"', Phrase("tenant_id", "tenant_001")),
    ("context.ip_address:10.0.0.1", Term("context.ip_address", "10.0.0.1")),
    # A path is a wildcard, not Lucene's /regex/.
    ("endpoint:/api/v1/*", Term("endpoint", "/api/v1/*", wildcard=True)),
    ("endpoint:/api/v1/recommendations", Term("endpoint", "/api/v1/recommendations")),
    ("message:time*", Term("message", "time*", wildcard=True)),
    ("user_id:u?42", Term("user_id", "u?42", wildcard=True)),
    # An escaped * is literal: no wildcard, the escape removed.
    (r"message:100\*", Term("message", "100*")),
    # ...but inside a wildcard term the escape is kept so the translator knows it is literal.
    (r"message:a\*b*", Term("message", r"a\*b*", wildcard=True)),
    (r"message:a\:b", Term("message", "a:b")),
    ("latency_ms:>1000", Range("latency_ms", "1000", None, include_low=False)),
    ("latency_ms:>=500", Range("latency_ms", "500", None, include_low=True)),
    ("latency_ms:<20", Range("latency_ms", None, "20", include_high=False)),
    ("latency_ms:<=20", Range("latency_ms", None, "20", include_high=True)),
    ("status_code:[500 TO 599]", Range("status_code", "500", "599", True, True)),
    ("status_code:{500 TO 599}", Range("status_code", "500", "599", False, False)),
    ("status_code:[500 TO 599}", Range("status_code", "500", "599", True, False)),
    ("status_code:[500 TO *]", Range("status_code", "500", None, True, True)),
    ("status_code:[* TO *]", Exists("status_code")),
    ("timestamp:[now-1h TO now]", Range("timestamp", "now-1h", "now")),
    ("@timestamp:>now-15m", Range("timestamp", "now-15m", None, include_low=False)),
    ('timestamp:["2026-11-27T06:00:00Z" TO now]', Range("timestamp", "2026-11-27T06:00:00Z", "now")),
    ("_exists_:trace_id", Exists("trace_id")),
    ("trace_id:*", Exists("trace_id")),
    ("a AND b", And((Term(None, "a"), Term(None, "b")))),
    # Implicit operator = AND, as in KQL; + is required (a no-op), - is NOT.
    ("a b -c +d", And((Term(None, "a"), Term(None, "b"), Not(Term(None, "c")), Term(None, "d")))),
    ("a OR b", Or((Term(None, "a"), Term(None, "b")))),
    ("NOT level:INFO", Not(Term("level", "INFO"))),
    ("a AND (b AND c)", And((Term(None, "a"), Term(None, "b"), Term(None, "c")))),
    ("a OR b AND c", Or((Term(None, "a"), And((Term(None, "b"), Term(None, "c")))))),
    ("level:(ERROR OR WARN)", Or((Term("level", "ERROR"), Term("level", "WARN")))),
    ("service:(auth -redis)", And((Term("service", "auth"), Not(Term("service", "redis"))))),
    (
        "level:ERROR AND timestamp:[now-1h TO now]",
        And((Term("level", "ERROR"), Range("timestamp", "now-1h", "now"))),
    ),
    (
        'endpoint:"/api/v1/auth/login" AND status_code:401',
        And((Phrase("endpoint", "/api/v1/auth/login"), Term("status_code", "401"))),
    ),
    ('message:"say \\"hi\\""', Phrase("message", 'say "hi"')),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[p[0] or "<empty>" for p in PARSED])
def test_parse(text, expected):
    query = parse_log_query(text)
    assert query.root == expected
    assert query.text == text


ERRORS = [
    # (text, words the message must contain, the column it must name or None)
    ("level:", "ends too early", 7),
    ("a AND", "ends too early", 6),
    ("(a OR b", "ends too early", 8),
    ("AND b", "'AND b'", 1),
    ("a OR OR b", "'OR b'", 6),
    ("x:a~2", "fuzzy", 3),
    ('"a b"~3', "proximity", 1),
    ("x^2", "boosts", 1),
    ("a && b", "'&&'", 3),
    ("a:b:c", "field 'b' inside the value of field 'a'", 3),
    ("timestamp:[yesterday TO now]", "'yesterday' is not a time", 11),
    ("timestamp:>soon", "'soon' is not a time", 11),
    ("[1 TO 5]", "a range needs a field", 1),
    ("level:ERROR timestamp:2026-11-27", "timestamp takes a range", 23),
    ("_exists_:(a OR b)", "_exists_ takes one field name", 1),
    ("ab\\", "escaping or quoting at column 3", None),
]


@pytest.mark.parametrize(("text", "words", "column"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_say_what_and_where(text, words, column):
    with pytest.raises(QueryError) as caught:
        parse_log_query(text)
    error = caught.value
    assert words in error.message
    if column is not None:
        assert f"column {column}" in error.message
    assert error.where == "log query"
    assert error.hint  # every error says how to fix it


@pytest.mark.parametrize(
    "text", ["(" * 3000 + "a" + ")" * 3000, "NOT " * 3000 + "a", "-" * 5000 + "a", "NOT " * 65 + "a"]
)
def test_deep_nesting_is_a_query_error_not_a_recursion_error(text):
    with pytest.raises(QueryError, match="more than 64 deep"):
        parse_log_query(text)
    parse_log_query("NOT " * 63 + "a")  # the limit is generous


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('abAB:*?"\\()[]{}<>=~^/+-!&| TO AND OR NOT 01_.')) | st.characters(), max_size=40
    )
)
def test_parse_never_crashes(text):
    # Anything an engineer can type either parses or is a QueryError: never a luqum or ply error.
    try:
        parse_log_query(text)
    except QueryError as error:
        assert error.message and error.hint


def test_times_resolve_against_the_given_now():
    assert resolve_time("now", NOW) == NOW
    assert resolve_time("now-1h", NOW) == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert resolve_time("now-15m", NOW) == datetime(2026, 11, 27, 6, 45, tzinfo=UTC)
    assert resolve_time("now-1d+2h", NOW) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert resolve_time("now-1h/d", NOW) == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert resolve_time("2026-11-27", NOW) == datetime(2026, 11, 27, tzinfo=UTC)
    assert resolve_time("2026-11-27T08:00:00+01:00", NOW) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    with pytest.raises(QueryError):
        resolve_time("now-1x", NOW)


def test_time_window_is_the_intersection_of_top_level_timestamp_ranges():
    query = parse_log_query("level:ERROR AND timestamp:[now-2h TO now] AND timestamp:>now-30m")
    assert time_window(query, NOW) == (datetime(2026, 11, 27, 6, 30, tzinfo=UTC), NOW)
    assert time_window(parse_log_query("a OR timestamp:>now-1h"), NOW) == (None, None)


def test_shipped_saved_searches():
    searches = load_saved_searches(shipped_dir("queries") / "logs")
    assert {name: s.text for name, s in searches.items()} == {
        "errors_last_hour": "level:ERROR AND timestamp:[now-1h TO now]",
        "failed_logins": 'endpoint:"/api/v1/auth/login" AND status_code:401',
        "slow_requests": "latency_ms:>1000",
        "tenant_errors": 'tenant_id:"tenant_001" AND level:ERROR',
    }
    assert all(s.description for s in searches.values())


def test_user_saved_searches_override_and_add(tmp_path: Path):
    (tmp_path / "slow_requests.toml").write_text('description = "mine"\nquery = "latency_ms:>5000"\n')
    (tmp_path / "auth_5xx.toml").write_text('query = "service:auth AND status_code:[500 TO 599]"\n')
    searches = load_saved_searches(shipped_dir("queries") / "logs", tmp_path)
    assert searches["slow_requests"].text == "latency_ms:>5000"
    assert searches["slow_requests"].description == "mine"
    assert searches["auth_5xx"].query.root == And((Term("service", "auth"), Range("status_code", "500", "599")))
    assert "errors_last_hour" in searches
    assert load_saved_searches(tmp_path / "missing") == {}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("query = ", "cannot read the saved search"),
        ('name = "x"\n', "needs query"),
        ('query = "a AND"\n', "does not parse"),
    ],
)
def test_broken_saved_search_names_its_file(tmp_path: Path, content, words):
    (tmp_path / "broken.toml").write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_saved_searches(tmp_path)
    assert words in caught.value.message
    assert "broken.toml" in caught.value.where
