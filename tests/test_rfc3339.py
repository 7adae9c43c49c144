"""Reading RFC 3339 timestamps (zeta_tui/models/rfc3339.py) in every form the alert backends
write, and in the real captured answers of Prometheus and Alertmanager.

Expected instants are worked out apart from the parser: calendar.timegm over fields split by
hand (or typed in), minus the offset, plus the fraction truncated to microseconds.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.support.servers import real_fixture
from zeta_tui.models.alert_overview import merge
from zeta_tui.models.metrics_meta import RuleAlert
from zeta_tui.models.rfc3339 import parse_rfc3339, rfc3339_seconds

# 2018-07-04 18:27:12 UTC, by hand: the Prometheus API docs' activeAt, 20:27:12 at +02:00.
DOCS_UTC = calendar.timegm((2018, 7, 4, 18, 27, 12, 0, 0, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the docs' example: the offset is not part of the fraction
        ("2018-07-04T20:27:12.606+02:00", DOCS_UTC + 0.606),
        ("2018-07-04T20:27:12.60602144+02:00", DOCS_UTC + 0.606021),
        ("2018-07-04T18:27:12.606Z", DOCS_UTC + 0.606),
        ("2018-07-04t18:27:12.606z", DOCS_UTC + 0.606),
        ("2018-07-04 18:27:12.606Z", DOCS_UTC + 0.606),
        ("2018-07-04T18:27:12+00:00", DOCS_UTC),
        ("2018-07-04T18:27:12-00:00", DOCS_UTC),  # "offset unknown": still this instant
        ("2018-07-04T13:27:12-05:00", DOCS_UTC),
        ("2018-07-04T12:57:12-05:30", DOCS_UTC),
        ("2018-07-05T00:12:12+05:45", DOCS_UTC),  # Nepal; the date moves back a day
        ("2018-07-04T04:27:12.5-14:00", DOCS_UTC + 0.5),
        ("2018-07-04T18:27:12Z", DOCS_UTC),
        ("2018-07-04T18:27:12.1Z", DOCS_UTC + 0.1),
        ("2018-07-04T18:27:12.12Z", DOCS_UTC + 0.12),
        ("2018-07-04T18:27:12.123Z", DOCS_UTC + 0.123),
        ("2018-07-04T18:27:12.1234Z", DOCS_UTC + 0.1234),
        ("2018-07-04T18:27:12.12345Z", DOCS_UTC + 0.12345),
        ("2018-07-04T18:27:12.123456Z", DOCS_UTC + 0.123456),
        ("2018-07-04T18:27:12.1234567Z", DOCS_UTC + 0.123456),
        ("2018-07-04T18:27:12.12345678Z", DOCS_UTC + 0.123456),
        ("2018-07-04T18:27:12.123456789Z", DOCS_UTC + 0.123456),  # nanoseconds truncated
        ("2018-07-04T18:27:12.999999999+02:00", DOCS_UTC - 7200 + 0.999999),
        ("  2018-07-04T18:27:12Z\n", DOCS_UTC),
        ("2016-12-31T23:59:60Z", calendar.timegm((2017, 1, 1, 0, 0, 0, 0, 0, 0))),  # a leap second
        ("2024-02-29T00:00:00Z", calendar.timegm((2024, 2, 29, 0, 0, 0, 0, 0, 0))),
        ("1969-12-31T23:59:59Z", -1.0),
        ("2063-01-01T00:00:00.000Z", calendar.timegm((2063, 1, 1, 0, 0, 0, 0, 0, 0))),  # a silence's "forever"
    ],
)
def test_every_offset_and_fraction_form(text: str, expected: float) -> None:
    assert rfc3339_seconds(text) == pytest.approx(expected, abs=1e-6)
    moment = parse_rfc3339(text)
    assert moment is not None and moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00Z",  # Go's zero time: Alertmanager's "no time"
        "0001-01-01T00:00:00.000Z",
        "0001-01-01T01:00:00+01:00",  # the same instant written in another zone
        "0001-01-01T00:00:00+02:00",  # before year 1 in UTC
        "",
        "   ",
        "yesterday",
        "2018-07-04",
        "2018-07-04T18:27:12",  # no offset: the zone is unknown
        "2018-07-04T18:27Z",
        "2018-07-04T18:27:12.Z",
        "2018-07-04T18:27:12,5Z",
        "2018-07-04T18:27:12+0200",
        "2018-07-04T18:27:12+02",
        "20180704T182712Z",
        "2018-07-04T18:27:12ZZ",
        "2018-07-04T18:27:12Z junk",
        "2018-02-30T00:00:00Z",
        "2018-13-01T00:00:00Z",
        "2018-00-10T00:00:00Z",
        "2018-07-04T24:00:00Z",
        "2018-07-04T18:60:00Z",
        "2018-07-04T18:27:61Z",
        "2018-07-04T18:27:12+24:00",
        "2018-07-04T18:27:12+02:60",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:60Z",
        "2018-07-04T18:27:12.606\u200b+02:00",
        "٢٠١٨-07-04T18:27:12Z",  # digits of another script
        None,
        1530728832,
        1530728832.606,
        b"2018-07-04T18:27:12Z",
        ["2018-07-04T18:27:12Z"],
        {},
    ],
)
def test_anything_else_is_unknown_never_an_exception(text: object) -> None:
    assert parse_rfc3339(text) is None
    assert rfc3339_seconds(text) == 0.0


# --- property: any instant in any offset, with any fraction, is read back exactly ----------

_OFFSET_MINUTES = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)


@given(
    utc=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
    nanos=st.integers(min_value=0, max_value=999_999_999),
    digits=st.integers(min_value=0, max_value=9),
    offset=_OFFSET_MINUTES,
    zulu=st.sampled_from(["", "Z", "z", "+00:00", "-00:00"]),
    separator=st.sampled_from(["T", "t", " "]),
)
def test_any_instant_in_any_form(
    utc: datetime, nanos: int, digits: int, offset: int, zulu: str, separator: str
) -> None:
    if zulu:
        offset = 0
    # Written as a clock in the zone shows it: UTC fields moved by the offset, by timedelta.
    wall = utc.replace(microsecond=0) + timedelta(minutes=offset)
    fraction = f"{nanos:09d}"[:digits]
    sign = "-" if offset < 0 else "+"
    zone = zulu or f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    text = f"{wall:%Y-%m-%d}{separator}{wall:%H:%M:%S}{'.' + fraction if digits else ''}{zone}"
    # Expected, independently: the UTC fields through calendar.timegm, the fraction truncated.
    micro = int(fraction[:6].ljust(6, "0")) if digits else 0
    expected_whole = calendar.timegm((utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, 0, 0, 0))
    moment = parse_rfc3339(text)
    assert moment is not None, text
    assert (calendar.timegm(moment.utctimetuple()), moment.microsecond) == (expected_whole, micro), text
    assert rfc3339_seconds(text) == pytest.approx(expected_whole + micro / 1e6, abs=1e-6)


@given(st.text(max_size=40))
def test_arbitrary_text_never_raises(text: str) -> None:
    moment = parse_rfc3339(text)
    assert moment is None or moment.tzinfo is not None


# --- the real captured answers -----------------------------------------------------------------


def test_prometheus_docs_alert_is_read_at_its_instant() -> None:
    """The Prometheus API docs' /api/v1/alerts (and rules) example: activeAt
    "2018-07-04T20:27:12.60602144+02:00" is 18:27:12.606021 UTC."""
    doc = json.loads(real_fixture("prometheus/alerts-docs.json"))
    raw = doc["data"]["alerts"][0]
    assert raw["activeAt"][:19] == "2018-07-04T20:27:12" and raw["activeAt"].endswith(
        "+02:00"
    )  # the shape this test is about
    alerts = [
        RuleAlert(a["labels"]["alertname"], a["state"], a["labels"], a["annotations"], active_at=a["activeAt"])
        for a in doc["data"]["alerts"]
    ]
    (row,) = merge([], alerts)
    assert row.since == row.condition_since == pytest.approx(DOCS_UTC + 0.606021, abs=1e-6)


def test_prometheus_openapi_example_alert_is_read_at_its_instant() -> None:
    spec = yaml.safe_load(real_fixture("prometheus/openapi-3.1-golden-with-examples.yaml"))
    example = spec["paths"]["/alerts"]["get"]["responses"]["200"]["content"]["application/json"]["examples"]
    (raw,) = next(iter(example.values()))["value"]["data"]["alerts"]
    assert raw["activeAt"] == "2026-01-02T13:30:00.000Z"
    assert rfc3339_seconds(raw["activeAt"]) == calendar.timegm((2026, 1, 2, 13, 30, 0, 0, 0, 0))


def _by_hand(text: str) -> float:
    """Alertmanager's "YYYY-MM-DDTHH:MM:SS.mmmZ" split at fixed positions."""
    assert len(text) == 24 and text[10] == "T" and text[19] == "." and text[23] == "Z", text
    fields = (int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]), int(text[17:19]))
    return calendar.timegm((*fields, 0, 0, 0)) + int(text[20:23]) / 1000


@pytest.mark.parametrize(
    "fixture", ["alertmanager/v2-alerts-groups-am0.31.json", "alertmanager/v2-silences-am0.31.json"]
)
def test_alertmanager_captured_times(fixture: str) -> None:
    doc = json.loads(real_fixture(fixture))
    items = [a for g in doc for a in g["alerts"]] if "groups" in fixture else doc
    seen = 0
    for item in items:
        for key in ("startsAt", "endsAt", "updatedAt"):
            if key in item:
                assert rfc3339_seconds(item[key]) == pytest.approx(_by_hand(item[key]), abs=1e-6), item[key]
                seen += 1
    assert seen >= len(items) * 2


def test_a_time_in_utc_regardless_of_the_machines_zone(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/St_Johns")  # -03:30 / -02:30: any local reading would show
    time.tzset()
    try:
        assert rfc3339_seconds("2018-07-04T20:27:12.606+02:00") == pytest.approx(DOCS_UTC + 0.606, abs=1e-6)
        assert parse_rfc3339("2018-07-04T20:27:12.606+02:00") == datetime(2018, 7, 4, 18, 27, 12, 606000, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
