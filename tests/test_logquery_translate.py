"""Each translator, exactly: ES/OpenSearch DSL dicts, LogQL strings, ClickHouse SQL + parameters.

Plus property tests: translating never crashes (only QueryError), and the ClickHouse SQL text
never contains what the user typed: values and attribute keys travel as parameters only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeta_tui.errors import QueryError
from zeta_tui.querying.logquery import (
    And,
    Exists,
    LogQuery,
    Not,
    Or,
    Phrase,
    Range,
    Term,
    parse_log_query,
    sql_select,
    to_clickhouse,
    to_elasticsearch,
    to_logql,
)

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
HOUR_AGO_NS = 1_795_759_200_000_000_000  # 2026-11-27T06:00:00Z
NOW_NS = HOUR_AGO_NS + 3600 * 1_000_000_000
SELECTOR = '{namespace="production"}'
LEVEL_ERROR = {"terms": {"level": ["ERROR", "error", "Error"]}}

ES = [
    ("", {"match_all": {}}),
    ("timeout", {"match": {"message": {"query": "timeout", "operator": "and"}}}),
    ('"connection reset"', {"match_phrase": {"message": "connection reset"}}),
    ("message:timeout", {"match": {"message": {"query": "timeout", "operator": "and"}}}),
    ("message:time*", {"wildcard": {"message": {"value": "time*"}}}),
    ("Time*", {"wildcard": {"message": {"value": "time*"}}}),  # message words are indexed lower-cased
    ("level:ERROR", LEVEL_ERROR),
    ("level:warn", {"terms": {"level": ["warn", "WARN", "Warn"]}}),
    ("service:auth", {"match": {"service": "auth"}}),
    (
        "level:err*",
        {
            "bool": {
                "should": [{"wildcard": {"level": {"value": v}}} for v in ("err*", "ERR*", "Err*")],
                "minimum_should_match": 1,
            }
        },
    ),
    ("endpoint:/api/v1/*", {"wildcard": {"endpoint": {"value": "/api/v1/*"}}}),
    ("latency_ms:>1000", {"range": {"latency_ms": {"gt": 1000}}}),
    ("latency_ms:>=500", {"range": {"latency_ms": {"gte": 500}}}),
    ("latency_ms:<0.5", {"range": {"latency_ms": {"lt": 0.5}}}),
    ("status_code:[500 TO 599]", {"range": {"status_code": {"gte": 500, "lte": 599}}}),
    ("status_code:{500 TO 599}", {"range": {"status_code": {"gt": 500, "lt": 599}}}),
    ("tenant_id:[tenant_001 TO tenant_009]", {"range": {"tenant_id": {"gte": "tenant_001", "lte": "tenant_009"}}}),
    (
        "timestamp:[now-1h TO now]",
        {
            "range": {
                "@timestamp": {
                    "gte": "2026-11-27T06:00:00.000Z",
                    "lte": "2026-11-27T07:00:00.000Z",
                    "format": "strict_date_optional_time",
                }
            }
        },
    ),
    ("_exists_:trace_id", {"exists": {"field": "trace_id"}}),
    (
        "level:ERROR AND timestamp:[now-1h TO now]",
        {
            "bool": {
                "filter": [
                    LEVEL_ERROR,
                    {
                        "range": {
                            "@timestamp": {
                                "gte": "2026-11-27T06:00:00.000Z",
                                "lte": "2026-11-27T07:00:00.000Z",
                                "format": "strict_date_optional_time",
                            }
                        }
                    },
                ]
            }
        },
    ),
    (
        'endpoint:"/api/v1/auth/login" AND status_code:401',
        {"bool": {"filter": [{"match_phrase": {"endpoint": "/api/v1/auth/login"}}, {"match": {"status_code": "401"}}]}},
    ),
    (
        "a OR b",
        {
            "bool": {
                "should": [
                    {"match": {"message": {"query": "a", "operator": "and"}}},
                    {"match": {"message": {"query": "b", "operator": "and"}}},
                ],
                "minimum_should_match": 1,
            }
        },
    ),
    ("NOT service:redis", {"bool": {"must_not": [{"match": {"service": "redis"}}]}}),
    (
        "service:auth -level:INFO",
        {
            "bool": {
                "filter": [{"match": {"service": "auth"}}],
                "must_not": [{"terms": {"level": ["INFO", "info", "Info"]}}],
            }
        },
    ),
]


@pytest.mark.parametrize(("text", "expected"), ES, ids=[e[0] or "<empty>" for e in ES])
def test_elasticsearch(text, expected):
    assert to_elasticsearch(parse_log_query(text), NOW) == expected


KW = {
    "service": ("service.keyword",),
    "endpoint": ("endpoint.keyword",),
    "level": ("level.keyword",),
    "tenant_id": ("tenant_id.keyword",),
    "message": ("message.keyword",),
}
ES_EXACT = [
    ('service:"auth"', {"term": {"service.keyword": "auth"}}),
    ("service:auth", {"term": {"service.keyword": "auth"}}),
    ("level:ERROR", {"terms": {"level.keyword": ["ERROR", "error", "Error"]}}),
    ("endpoint:/api/v1/*", {"wildcard": {"endpoint.keyword": {"value": "/api/v1/*"}}}),
    (
        "tenant_id:[tenant_001 TO tenant_009]",
        {"range": {"tenant_id.keyword": {"gte": "tenant_001", "lte": "tenant_009"}}},
    ),
    ("status_code:401", {"match": {"status_code": "401"}}),  # not a text field: as it is
    ('"connection reset"', {"match_phrase": {"message": "connection reset"}}),  # the message keeps its words
    ("_exists_:service", {"exists": {"field": "service"}}),
    (f'service:"{"x" * 257}"', {"match_phrase": {"service": "x" * 257}}),  # beyond ignore_above: not in the keyword
]


@pytest.mark.parametrize(("text", "expected"), ES_EXACT, ids=[e[0][:30] for e in ES_EXACT])
def test_elasticsearch_whole_values_of_text_fields_are_asked_of_the_keyword(text, expected):
    assert to_elasticsearch(parse_log_query(text), NOW, exact_fields=KW) == expected


def test_elasticsearch_a_field_keyword_in_some_indices_is_asked_where_it_has_no_sub_field():
    dsl = to_elasticsearch(
        parse_log_query('service:"auth"'), NOW, exact_fields={"service": ("service.keyword", "service")}
    )
    guarded = {
        "bool": {"filter": [{"term": {"service": "auth"}}], "must_not": [{"exists": {"field": "service.keyword"}}]}
    }
    assert dsl == {"bool": {"should": [{"term": {"service.keyword": "auth"}}, guarded], "minimum_should_match": 1}}


def test_elasticsearch_timestamp_field_is_configurable():
    dsl = to_elasticsearch(parse_log_query("timestamp:>now-15m"), NOW, timestamp_field="time")
    assert dsl == {"range": {"time": {"gt": "2026-11-27T06:45:00.000Z", "format": "strict_date_optional_time"}}}


LOGQL = [
    ("", SELECTOR + " | json"),
    ("level:ERROR AND timestamp:[now-1h TO now]", SELECTOR + ' | json | level=~"(?i)ERROR"'),
    ("latency_ms:>1000", SELECTOR + " | json | latency_ms > 1000"),
    (
        'endpoint:"/api/v1/auth/login" AND status_code:401',
        SELECTOR + ' | json | endpoint="/api/v1/auth/login" and status_code="401"',
    ),
    ('tenant_id:"tenant_001" AND level:ERROR', SELECTOR + ' | json | tenant_id="tenant_001" and level=~"(?i)ERROR"'),
    # Message words become line filters before the parser; escaped as regex, then as a string.
    ('timeout -"conn.reset"', SELECTOR + ' |~ "(?i)timeout" !~ "(?i)conn\\\\.reset" | json'),
    ("message:time*", SELECTOR + ' |~ "(?i)time.*" | json'),
    # Text JSON would escape in the raw line is matched on the parsed message instead.
    (
        '"say \\"hi\\"" überhitzung',
        SELECTOR + ' | json | message=~"(?is).*say \\"hi\\".*" and message=~"(?is).*überhitzung.*"',
    ),
    ("context.ip_address:10.0.*", SELECTOR + ' | json | context_ip_address=~"10\\\\.0\\\\..*"'),
    ("status_code:[500 TO 599]", SELECTOR + " | json | status_code >= 500 and status_code <= 599"),
    ("status_code:{500 TO 599}", SELECTOR + " | json | status_code > 500 and status_code < 599"),
    ("_exists_:trace_id", SELECTOR + ' | json | trace_id!=""'),
    ("service:auth OR tenant_id:t1", SELECTOR + ' | json | service="auth" or tenant_id="t1"'),
    # NOT is pushed down to the atoms (De Morgan): LogQL label filters have no `not`.
    ("NOT (service:auth OR latency_ms:>=100)", SELECTOR + ' | json | service!="auth" and latency_ms < 100'),
    ("NOT status_code:[500 TO 599]", SELECTOR + " | json | status_code < 500 or status_code > 599"),
    (
        "level:ERROR AND (service:auth OR timeout)",
        SELECTOR + ' | json | level=~"(?i)ERROR" and (service="auth" or message=~"(?is).*timeout.*")',
    ),
    ('user_agent:"say \\"hi\\" \\\\ now"', SELECTOR + ' | json | user_agent="say \\"hi\\" \\\\ now"'),
    ("NOT _exists_:user_id AND service:x", SELECTOR + ' | json | user_id="" and service="x"'),
]


@pytest.mark.parametrize(("text", "expected"), LOGQL, ids=[e[0] or "<empty>" for e in LOGQL])
def test_logql(text, expected):
    assert to_logql(parse_log_query(text), SELECTOR, NOW) == expected


# A JSON key that is also a stream label arrives as <key>_extracted: the line's value is checked
# where it has one, the stream label where it has not; NOT still follows De Morgan.
LEVEL_IS_A_STREAM_LABEL = [
    ("level:ERROR", '(level_extracted=~"(?i)ERROR" or (level_extracted="" and level=~"(?i)ERROR"))'),
    ("NOT level:ERROR", '(level_extracted!~"(?i)ERROR" and (level_extracted!="" or level!~"(?i)ERROR"))'),
    ("_exists_:level", '(level_extracted!="" or (level_extracted="" and level!=""))'),
    (
        "latency_ms:[1 TO 2] AND service:x",
        '((latency_ms_extracted >= 1 and latency_ms_extracted <= 2) or (latency_ms_extracted="" and '
        "(latency_ms >= 1 and latency_ms <= 2)))"
        ' and service="x"',
    ),
    ("NOT latency_ms:>5", '(latency_ms_extracted <= 5 and (latency_ms_extracted!="" or latency_ms <= 5))'),
]


@pytest.mark.parametrize(("text", "expected"), LEVEL_IS_A_STREAM_LABEL, ids=[e[0] for e in LEVEL_IS_A_STREAM_LABEL])
def test_logql_reaches_fields_loki_renamed(text, expected):
    assert (
        to_logql(parse_log_query(text), SELECTOR, NOW, {"level", "latency_ms", "namespace"})
        == f"{SELECTOR} | json | {expected}"
    )


def test_logql_service_falls_back_to_the_service_name_stream_label():
    # Streams from Alloy or Loki's OTLP endpoint: service_name is a label, service is not.
    labels = {"service_name", "k8s_namespace_name"}
    assert (
        to_logql(parse_log_query('service:"auth"'), SELECTOR, NOW, labels)
        == f'{SELECTOR} | json | (service="auth" or (service="" and service_name="auth"))'
    )
    assert (
        to_logql(parse_log_query("NOT service:auth"), SELECTOR, NOW, labels)
        == f'{SELECTOR} | json | (service!="auth" and (service!="" or service_name!="auth"))'
    )
    # with a service label of its own, the usual _extracted rule
    assert "service_extracted" in to_logql(parse_log_query("service:auth"), SELECTOR, NOW, {"service", "service_name"})
    assert to_logql(parse_log_query("service:auth"), SELECTOR, NOW, {"app"}) == f'{SELECTOR} | json | service="auth"'


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("service:auth OR timestamp:>now-5m", "timestamp range inside OR or NOT cannot be expressed in Loki"),
        ("NOT timestamp:[now-1h TO now]", "cannot be expressed in Loki"),
        ("tenant_id:[a TO c]", "range over text values"),
    ],
)
def test_logql_inexpressible_constructs_name_loki(text, words):
    with pytest.raises(QueryError) as caught:
        to_logql(parse_log_query(text), SELECTOR, NOW)
    assert words in caught.value.message and "Loki" in caught.value.message


def test_logql_needs_a_selector():
    with pytest.raises(QueryError, match="stream selector"):
        to_logql(parse_log_query("a"), "  ", NOW)


ATTR = "LogAttributes[{p0:String}]"
CLICKHOUSE = [
    ("", "1", {}),
    ("timeout", "positionCaseInsensitiveUTF8(Body, {p0:String}) > 0", {"p0": "timeout"}),
    ("level:ERROR", "upperUTF8(SeverityText) = upperUTF8({p0:String})", {"p0": "ERROR"}),
    ("level:err*", "SeverityText ILIKE {p0:String}", {"p0": "err%"}),
    ("service:auth", "ServiceName = {p0:String}", {"p0": "auth"}),
    ("trace_id:abc", "TraceId = {p0:String}", {"p0": "abc"}),
    ('tenant_id:"tenant_001"', f"{ATTR} = {{p1:String}}", {"p0": "tenant_id", "p1": "tenant_001"}),
    ("endpoint:/api/v1/*", f"{ATTR} LIKE {{p1:String}}", {"p0": "endpoint", "p1": "/api/v1/%"}),
    # % and _ typed by the user are literal in LIKE; ? is the one-character wildcard.
    ("path:100%_d?ne*", f"{ATTR} LIKE {{p1:String}}", {"p0": "path", "p1": "100\\%\\_d_ne%"}),
    ("message:time*", "Body ILIKE {p0:String}", {"p0": "%time%"}),
    ("latency_ms:>1000", f"ifNull(toFloat64OrNull({ATTR}) > {{p1:Float64}}, 0)", {"p0": "latency_ms", "p1": 1000.0}),
    (
        "status_code:[500 TO 599}",
        f"ifNull(toFloat64OrNull({ATTR}) >= {{p1:Float64}} AND toFloat64OrNull({ATTR}) < {{p2:Float64}}, 0)",
        {"p0": "status_code", "p1": 500.0, "p2": 599.0},
    ),
    (
        "tenant_id:[a TO c]",
        f"ifNull({ATTR} >= {{p1:String}} AND {ATTR} <= {{p2:String}}, 0)",
        {"p0": "tenant_id", "p1": "a", "p2": "c"},
    ),
    (
        "timestamp:[now-1h TO now]",
        "(Timestamp >= fromUnixTimestamp64Nano({p0:Int64}) AND Timestamp <= fromUnixTimestamp64Nano({p1:Int64}))",
        {"p0": HOUR_AGO_NS, "p1": NOW_NS},
    ),
    ("_exists_:trace_id", "TraceId != ''", {}),
    ("_exists_:user_id", "mapContains(LogAttributes, {p0:String})", {"p0": "user_id"}),
    (
        'endpoint:"/api/v1/auth/login" AND status_code:401',
        "LogAttributes[{p0:String}] = {p1:String} AND LogAttributes[{p2:String}] = {p3:String}",
        {"p0": "endpoint", "p1": "/api/v1/auth/login", "p2": "status_code", "p3": "401"},
    ),
    (
        "NOT (service:auth OR level:INFO) AND x:1",
        (
            "NOT (ServiceName = {p0:String} OR upperUTF8(SeverityText) = upperUTF8({p1:String})) "
            "AND LogAttributes[{p2:String}] = {p3:String}"
        ),
        {"p0": "auth", "p1": "INFO", "p2": "x", "p3": "1"},
    ),
    # The same attribute key is sent once.
    (
        "x:1 OR x:2",
        "LogAttributes[{p0:String}] = {p1:String} OR LogAttributes[{p0:String}] = {p2:String}",
        {"p0": "x", "p1": "1", "p2": "2"},
    ),
]


@pytest.mark.parametrize(("text", "sql", "params"), CLICKHOUSE, ids=[e[0] or "<empty>" for e in CLICKHOUSE])
def test_clickhouse(text, sql, params):
    assert to_clickhouse(parse_log_query(text), NOW) == (sql, params)


def test_sql_select():
    sql, params = sql_select(parse_log_query("service:auth"), HOUR_AGO_NS, NOW_NS, 500)
    assert sql == (
        "SELECT Timestamp, SeverityText, ServiceName, Body, TraceId, SpanId, LogAttributes, ResourceAttributes "
        "FROM `otel_logs` WHERE Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64}) "
        "AND Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64}) "
        "AND TimestampTime >= toDateTime(intDiv({start_ns:Int64}, 1000000000)) "
        "AND TimestampTime <= toDateTime(intDiv({end_ns:Int64}, 1000000000) + 1) "
        "AND (ServiceName = {p0:String}) ORDER BY Timestamp DESC LIMIT {limit:UInt32}"
    )
    assert params == {"p0": "auth", "start_ns": HOUR_AGO_NS, "end_ns": NOW_NS, "limit": 500}
    sql, _ = sql_select(parse_log_query(""), 0, 1, 10, newest_first=False, table="logs.otel_logs", prune_column=None)
    assert (
        "FROM `logs`.`otel_logs`" in sql
        and "TimestampTime" not in sql
        and sql.endswith("ORDER BY Timestamp ASC LIMIT {limit:UInt32}")
    )
    with pytest.raises(QueryError):
        sql_select(parse_log_query(""), 0, 1, 10, table="otel_logs; DROP TABLE x")


# --- properties -------------------------------------------------------------------------------

NASTY = "ab'\"\\;`%_*?-/ ()é\n{}:"
_words = st.text(alphabet=NASTY, min_size=1, max_size=8)
_fields = st.one_of(
    st.sampled_from(["level", "service", "message", "trace_id", "timestamp", "tenant_id", "context.ip_address"]), _words
)


def _leaf(field, value, kind):
    if kind == 0:
        return Term(field, value, wildcard=False)
    if kind == 1:
        return Term(field, value, wildcard=True)
    if kind == 2:
        return Phrase(field, value)
    if kind == 3:
        return Exists(field or "x")
    return Range(field or "x", value, None, include_low=False)


_leaves = st.builds(_leaf, st.one_of(st.none(), _fields), _words, st.integers(0, 4))
_trees = st.recursive(
    _leaves,
    lambda kids: st.one_of(
        st.builds(lambda items: And(tuple(items)), st.lists(kids, min_size=2, max_size=3)),
        st.builds(lambda items: Or(tuple(items)), st.lists(kids, min_size=2, max_size=3)),
        st.builds(Not, kids),
    ),
    max_leaves=6,
)


def _user_strings(node) -> set[str]:
    out: set[str] = set()
    for name in ("field", "value", "text", "low", "high"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            out.add(value)
    for child in getattr(node, "items", ()) + ((node.item,) if isinstance(node, Not) else ()):
        out |= _user_strings(child)
    return out


# Every character the translator itself writes: names, parameters, operators, the '' literal.
_SQL_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_()[],.<>=!' ")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test_clickhouse_sql_never_contains_user_text(root):
    try:
        sql, params = to_clickhouse(LogQuery("<generated>", root), NOW)
    except QueryError:
        return  # e.g. a range over a timestamp that is not a time
    # Take out the parameter placeholders; what is left is the translator's own text.
    placeholders = re.findall(r"\{(p\d+):(?:String|Float64|Int64)\}", sql)
    assert set(placeholders) == set(params)
    residue = re.sub(r"\{p\d+:(String|Float64|Int64)\}", "", sql)
    for text in _user_strings(root):
        # Text made only of characters the translator writes itself (") ", "ab") may occur by
        # coincidence; anything with a quote, backslash, semicolon, % ... must not occur at all.
        if len(text) >= 2 and set(text) - _SQL_ALPHABET:
            assert text not in residue, f"user text {text!r} spliced into {sql!r}"
    assert set(residue) <= _SQL_ALPHABET
    assert "'" not in residue.replace("''", "")  # the one string literal is the empty one


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abAB:*?\"\\()[]{}<>=~^/+-!&| TO AND OR NOT 01_.;'%")), max_size=40))
def test_translators_never_crash_on_typed_text(text):
    try:
        query = parse_log_query(text)
        to_elasticsearch(query, NOW)
        to_clickhouse(query, NOW)
        sql_select(query, HOUR_AGO_NS, NOW_NS, 10)
        to_logql(query, SELECTOR, NOW)
    except QueryError as error:
        assert error.message


@settings(max_examples=300, deadline=None)
@given(_trees)
def test_translators_never_crash_on_any_tree(root):
    query = LogQuery("<generated>", root)
    for translate in (
        lambda: to_elasticsearch(query, NOW),
        lambda: to_clickhouse(query, NOW),
        lambda: to_logql(query, SELECTOR, NOW),
    ):
        try:
            translate()
        except QueryError as error:
            assert error.message


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test_logql_user_text_stays_inside_string_literals(root):
    try:
        logql = to_logql(LogQuery("<generated>", root), SELECTOR, NOW)
    except QueryError:
        return
    assert logql.startswith(SELECTOR)
    # Take out every Go string literal; what is left is labels, numbers and LogQL's own tokens.
    rest = re.sub(r'"(?:[^"\\\n]|\\.)*"', "S", logql[len(SELECTOR) :])
    assert re.fullmatch(r"[A-Za-z0-9_ .|~=!<>()+-]*", rest), rest
    assert all(ord(c) >= 0x20 for c in logql)  # control characters only as escapes
