"""The shared JSON -> LogRecord mapping (records.py) used by the ES/OpenSearch and Loki
sources: timestamps in every shape shippers write, and the usual aliases of each field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from zeta_tui.backends.logs.records import (
    flatten,
    format_ns,
    parse_timestamp_ns,
    record_from_document,
    record_from_line,
)

BASE = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
BASE_NS = int((BASE - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(seconds=1)) * 10**9


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-04T05:06:07Z", BASE_NS),
        ("2026-03-04T05:06:07.5Z", BASE_NS + 500_000_000),
        ("2026-03-04T05:06:07.123456789Z", BASE_NS + 123_456_789),
        ("2026-03-04T05:06:07.123456789123Z", BASE_NS + 123_456_789),  # beyond ns: truncated
        ("2026-03-04 05:06:07,250", BASE_NS + 250_000_000),
        ("2026-03-04T07:06:07.000001+02:00", BASE_NS + 1_000),
        ("2026-03-04T00:06:07-0500", BASE_NS),
        ("2026-03-04T05:06:07", BASE_NS),  # no zone: UTC
        ("2026-03-04", BASE_NS - (5 * 3600 + 6 * 60 + 7) * 10**9),
        (BASE_NS // 10**9, BASE_NS),  # epoch seconds
        (BASE_NS // 10**6 + 42, BASE_NS + 42_000_000),  # epoch millis
        (str(BASE_NS // 10**6), BASE_NS),
        (BASE_NS // 10**3 + 7, BASE_NS + 7_000),  # micros
        (BASE_NS + 9, BASE_NS + 9),  # nanos
        (str(BASE_NS + 9), BASE_NS + 9),
    ],
)
def test_timestamps(value, expected: int) -> None:
    assert parse_timestamp_ns(value) == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", "2026-13-40T00:00:00Z", True, {"a": 1}])
def test_not_timestamps(value) -> None:
    assert parse_timestamp_ns(value) is None


def test_format_round_trips() -> None:
    assert parse_timestamp_ns(format_ns(BASE_NS + 123)) == BASE_NS + 123
    assert format_ns(BASE_NS + 123) == "2026-03-04T05:06:07.000000123Z"


def test_flatten_keeps_lists_and_empty_objects_as_leaves() -> None:
    assert flatten({"a": {"b": {"c": 1}}, "l": [{"x": 1}], "e": {}}) == {"a.b.c": 1, "l": [{"x": 1}], "e": {}}


def test_ecs_document() -> None:
    doc = {
        "@timestamp": "2026-03-04T05:06:07.000Z",
        "log": {"level": "warning", "logger": "api"},
        "service": {"name": "ml-engine", "version": "1.2"},
        "message": "slow model",
        "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
        "span": {"id": "00f067aa0ba902b7"},
        "labels": {"tenant_id": "tenant_007"},
    }
    rec = record_from_document(doc, timestamp_field="@timestamp", record_id="i/1")
    assert (rec.timestamp_ns, rec.level, rec.service, rec.message) == (BASE_NS, "WARN", "ml-engine", "slow model")
    assert (rec.trace_id, rec.span_id, rec.record_id) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "i/1")
    assert rec.fields == {"log.logger": "api", "service.version": "1.2", "labels.tenant_id": "tenant_007"}


def test_seed_document_and_kubernetes_fallbacks() -> None:
    doc = {
        "timestamp": BASE_NS // 10**6,
        "severity": "err",
        "kubernetes": {"container": {"name": "auth"}},
        "msg": "denied",
        "log": "raw",
        "traceId": "t",
    }
    rec = record_from_document(doc)
    assert (rec.timestamp_ns, rec.level, rec.service, rec.message, rec.trace_id) == (
        BASE_NS,
        "ERROR",
        "auth",
        "denied",
        "t",
    )
    assert rec.fields == {"log": "raw"}  # an alias not used stays a field


def test_store_time_wins_and_the_line_time_is_not_duplicated() -> None:
    rec = record_from_line(
        '{"timestamp": "2020-01-01T00:00:00Z", "level": "info", "message": "m"}', timestamp_ns=BASE_NS
    )
    assert rec.timestamp_ns == BASE_NS and "timestamp" not in rec.fields
    assert rec.to_dict()["timestamp"] == format_ns(BASE_NS)


@pytest.mark.parametrize("line", ["[1, 2]", "{", "null", "  plain  "])
def test_lines_that_are_not_json_objects_are_messages(line: str) -> None:
    rec = record_from_line(line, timestamp_ns=1, labels={"level": "debug", "app": "x"})
    assert (
        rec.message == line
        and rec.level == "DEBUG"
        and rec.service == "x"
        and rec.fields == {"level": "debug", "app": "x"}
    )


def test_a_time_copied_by_logstash_is_not_kept_twice() -> None:
    # Logstash's date filter writes @timestamp (milliseconds) from the line's timestamp and
    # keeps the source field; a different instant under another name stays a field.
    doc = {
        "@timestamp": "2026-03-04T05:06:07.123Z",
        "timestamp": "2026-03-04T05:06:07.123456Z",
        "time": "2020-01-01T00:00:00Z",
        "message": "m",
    }
    rec = record_from_document(doc, timestamp_field="@timestamp")
    assert rec.timestamp_ns == BASE_NS + 123_000_000
    assert rec.fields == {"time": "2020-01-01T00:00:00Z"}
    assert rec.to_dict()["timestamp"] == "2026-03-04T05:06:07.123000000Z"
