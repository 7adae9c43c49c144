"""AlertmanagerClient against a real Alertmanager child (alerts injected through its own API,
routing and inhibition from its own config) and against the real captured v2 answers in
../shared/fixtures/real/alertmanager served over HTTP. Expected values come from what the test
sent, from Alertmanager's raw answers, or from the fixture JSON, never from the adapter."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.support.alert_world import AM_CONFIG, expected_receivers
from tests.support.servers import real_fixture, wait_until
from zeta_tui.backends.alertmanager import MAX_SILENCE_SECONDS, AlertmanagerClient
from zeta_tui.config.models import AlertmanagerConfig
from zeta_tui.demo.processes import ChildServer, alertmanager_server
from zeta_tui.errors import BackendUnavailable, QueryError, SilenceInvalid, WriteRefused, ZetaError
from zeta_tui.models.alerts import Alert, Matcher, Silence, matchers_for

# Routing (critical pages and carries on, ml-engine to its team, the rest to default; a critical
# inhibits a warning of the same service) and that routing worked by hand: the alerting world's.
CONFIG = AM_CONFIG


NOW = round(time.time(), 3)
STARTS = round(NOW - 600, 3)
ENDS = round(NOW + 3 * 3600, 3)

SENT = [
    {
        "labels": {
            "alertname": "HighErrorRate",
            "service": "ml-engine",
            "severity": "critical",
            "instance": "ml-engine:8000",
            "job": "ml-engine",
        },
        "annotations": {"summary": "ml-engine errors above 5%", "description": "7.2% of requests fail"},
        "generatorURL": "http://prometheus.test/graph?g0.expr=up",
    },
    {
        "labels": {"alertname": "HighMemoryUsage", "service": "ml-engine", "severity": "warning"},
        "annotations": {"description": "memory at 93%"},
    },
    {
        "labels": {"alertname": "DiskSpaceLow", "service": "postgres", "severity": "warning", "instance": "db:9100"},
        "annotations": {},
    },
    {
        "labels": {"alertname": "ServiceDown", "job": "auth", "severity": "critical"},
        "annotations": {"summary": "auth is down"},
    },
]
BY_NAME = {a["labels"]["alertname"]: a for a in SENT}


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def seconds(text: str) -> float:
    """RFC 3339 (UTC, Z) to unix seconds, by hand: whole seconds plus the fraction."""
    assert text.endswith("Z"), text
    whole = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return whole + (float("0" + text[19:-1]) if len(text) > 20 else 0.0)


def fingerprint(labels: dict[str, str]) -> str:
    """Prometheus's label-set fingerprint: FNV-1a 64 over sorted name, 0xff, value, 0xff."""
    h = 14695981039346656037
    for name in sorted(labels):
        for byte in name.encode() + b"\xff" + labels[name].encode() + b"\xff":
            h = ((h ^ byte) * 1099511628211) % 2**64
    return f"{h:016x}"


@pytest.fixture(scope="module")
def am(tmp_path_factory) -> ChildServer:
    """A real Alertmanager of this module's own (its routing, its silences), alerts injected."""
    try:
        child = alertmanager_server(tmp_path_factory.mktemp("alertmanager"), CONFIG)
    except ZetaError as exc:
        pytest.skip(f"Alertmanager is not installed: {exc.hint}")
    child.start()
    try:
        child.wait_ready(timeout=30)
        payload = [{**a, "startsAt": rfc3339(STARTS), "endsAt": rfc3339(ENDS)} for a in SENT]
        httpx.post(f"{child.url}/api/v2/alerts", json=payload, timeout=10).raise_for_status()
        assert wait_until(lambda: len(httpx.get(f"{child.url}/api/v2/alerts", timeout=5).json()) == len(SENT)), (
            child.tail_log()
        )
        yield child
    finally:
        child.stop()


def client(url: str) -> AlertmanagerClient:
    return AlertmanagerClient(AlertmanagerConfig(url=url.rstrip("/"), timeout_seconds=10))


def raw_silences(url: str) -> list[dict]:
    return httpx.get(f"{url}/api/v2/silences", timeout=5).json()


# --- against the real Alertmanager ---------------------------------------------------------


async def test_alerts_map_labels_times_receivers_and_inhibition(am: ChildServer) -> None:
    c = client(am.url)
    got = {a.name: a for a in await c.alerts()}
    await c.aclose()
    assert set(got) == set(BY_NAME)
    critical_fp = fingerprint(BY_NAME["HighErrorRate"]["labels"])
    for name, sent in BY_NAME.items():
        a = got[name]
        assert dict(a.labels) == sent["labels"]
        assert dict(a.annotations) == sent["annotations"]
        assert a.generator_url == sent.get("generatorURL", "")
        assert a.fingerprint == fingerprint(sent["labels"])
        assert set(a.receivers) == expected_receivers(sent["labels"])
        assert a.starts_at == pytest.approx(STARTS, abs=1e-3)
        assert a.ends_at == pytest.approx(ENDS, abs=1e-3)
        assert NOW - 60 <= a.updated_at <= time.time() + 1
        assert a.silenced_by == () and a.muted_by == ()
        inhibited = name == "HighMemoryUsage"  # a warning of ml-engine, which has a critical firing
        assert a.inhibited_by == ((critical_fp,) if inhibited else ())
        assert a.state == ("suppressed" if inhibited else "active")
    assert got["HighErrorRate"].severity == "critical" and got["HighErrorRate"].summary == "ml-engine errors above 5%"
    assert got["HighMemoryUsage"].summary == "memory at 93%"  # no summary: the description stands in
    assert got["DiskSpaceLow"].summary == ""
    assert got["ServiceDown"].service == "auth"  # job stands in for service


async def test_groups_follow_the_routing_tree(am: ChildServer) -> None:
    c = client(am.url)
    groups = await c.groups()
    await c.aclose()
    expected = set()
    for sent in SENT:
        group_labels = frozenset((k, v) for k, v in sent["labels"].items() if k in ("alertname", "service"))
        for receiver in expected_receivers(sent["labels"]):
            expected.add((receiver, group_labels, sent["labels"]["alertname"]))
    got = {(g.receiver, frozenset(g.labels.items()), a.name) for g in groups for a in g.alerts}
    assert got == expected
    assert len(groups) == len(expected)  # one alert per group here: each alertname/service pair is unique


async def test_filters_and_receiver(am: ChildServer) -> None:
    c = client(am.url)
    critical = {name for name, a in BY_NAME.items() if a["labels"]["severity"] == "critical"}
    assert {a.name for a in await c.alerts([Matcher.parse('severity="critical"')])} == critical
    assert {a.name for a in await c.alerts(["severity=critical"])} == critical
    assert {a.name for a in await c.alerts(receiver="ml-team")} == {
        n for n, a in BY_NAME.items() if "ml-team" in expected_receivers(a["labels"])
    }
    assert {a.name for a in await c.alerts(["service=~ml.*", "alertname!=HighErrorRate"])} == {"HighMemoryUsage"}
    assert {a.name for a in await c.alerts(inhibited=False)} == set(BY_NAME) - {"HighMemoryUsage"}
    assert {a.name for a in await c.alerts(active=False)} == {"HighMemoryUsage"}
    # A regex Alertmanager cannot compile: its own words.
    raw = httpx.get(f"{am.url}/api/v2/alerts", params={"filter": 'job=~"("'}, timeout=5)
    assert raw.status_code == 400
    with pytest.raises(QueryError) as info:
        await c.alerts([Matcher("job", "(", is_regex=True)])
    assert raw.json() in info.value.message
    # Text that is no matcher is refused before any request.
    with pytest.raises(QueryError, match="is not a matcher"):
        await c.alerts(["{foo"])
    await c.aclose()


async def test_silence_lifecycle(am: ChildServer) -> None:
    c = client(am.url)
    alerts = {a.name: a for a in await c.alerts()}
    sent = BY_NAME["HighErrorRate"]["labels"]
    prefilled = matchers_for(alerts["HighErrorRate"])
    assert [(m.name, m.value) for m in prefilled] == [
        (k, sent[k]) for k in ("alertname", "service", "severity", "instance")
    ]
    assert all(m.is_equal and not m.is_regex for m in prefilled)

    t0 = time.time()
    sid = await c.create_silence(
        prefilled, 7200, "oncall@example.com", "INC-1: ml-engine rollback under way", read_only=False
    )

    # Alertmanager's own view of what was written.
    raw = httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()
    assert raw["createdBy"] == "oncall@example.com" and raw["comment"] == "INC-1: ml-engine rollback under way"
    assert sorted((m["name"], m["value"], m["isRegex"], m.get("isEqual", True)) for m in raw["matchers"]) == sorted(
        (k, sent[k], False, True) for k in ("alertname", "service", "severity", "instance")
    )
    assert raw["status"]["state"] == "active"
    assert seconds(raw["endsAt"]) == pytest.approx(t0 + 7200, abs=2)

    # The alert is now suppressed by that silence; the others are untouched.
    def silenced() -> dict[str, dict]:
        return {a["labels"]["alertname"]: a["status"] for a in httpx.get(f"{am.url}/api/v2/alerts", timeout=5).json()}

    assert wait_until(lambda: silenced()["HighErrorRate"]["silencedBy"] == [sid])
    got = {a.name: a for a in await c.alerts()}
    assert got["HighErrorRate"].state == "suppressed" and got["HighErrorRate"].silenced_by == (sid,)
    assert all(a.silenced_by == () for n, a in got.items() if n != "HighErrorRate")

    listed = {s.id: s for s in await c.silences()}
    s = listed[sid]
    assert (s.state, s.created_by, s.comment) == ("active", raw["createdBy"], raw["comment"])
    assert set(s.matchers) == {Matcher(k, sent[k]) for k in ("alertname", "service", "severity", "instance")}
    assert (s.starts_at, s.ends_at) == (
        pytest.approx(seconds(raw["startsAt"]), abs=1e-3),
        pytest.approx(seconds(raw["endsAt"]), abs=1e-3),
    )
    assert s.matches(sent) and not s.matches(BY_NAME["HighMemoryUsage"]["labels"])
    assert sid in {s.id for s in await c.silences(['alertname="HighErrorRate"'])}

    await c.expire_silence(sid, read_only=False)
    assert httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()["status"]["state"] == "expired"
    assert (await c.silence(sid)).state == "expired"
    assert wait_until(lambda: silenced()["HighErrorRate"]["silencedBy"] == [])
    back = {a.name: a for a in await c.alerts()}["HighErrorRate"]
    assert (back.state, back.silenced_by) == ("active", ())
    await c.aclose()


async def test_read_only_refuses_and_writes_nothing(am: ChildServer) -> None:
    c = client(am.url)
    before = raw_silences(am.url)
    with pytest.raises(WriteRefused) as info:
        await c.create_silence(
            [Matcher("alertname", "DiskSpaceLow")], 3600, "me", "why", read_only=True, context="prod"
        )
    assert "read-only" in info.value.message and "'prod'" in info.value.message
    assert "read_only = false" in info.value.hint
    assert raw_silences(am.url) == before

    # An active silence cannot be expired from a read-only context either.
    sid = await c.create_silence([Matcher("alertname", "DiskSpaceLow")], 3600, "me", "maintenance", read_only=False)
    with pytest.raises(WriteRefused, match="read-only"):
        await c.expire_silence(sid, read_only=True)
    assert httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()["status"]["state"] == "active"
    await c.expire_silence(sid, read_only=False)
    await c.aclose()


async def test_unknown_silence_and_refused_silence_in_alertmanagers_words(am: ChildServer) -> None:
    c = client(am.url)
    unknown = str(uuid.uuid4())
    raw = httpx.delete(f"{am.url}/api/v2/silence/{unknown}", timeout=5)
    assert raw.status_code >= 400
    with pytest.raises(QueryError) as info:
        await c.expire_silence(unknown, read_only=False)
    assert raw.json() in info.value.message  # "silence not found"
    with pytest.raises(QueryError, match=f"no silence with id {unknown}"):
        await c.silence(unknown)

    bad = {
        "matchers": [{"name": "alertname", "value": ".*", "isRegex": True, "isEqual": True}],
        "startsAt": rfc3339(time.time()),
        "endsAt": rfc3339(time.time() + 60),
        "createdBy": "me",
        "comment": "x",
    }
    raw = httpx.post(f"{am.url}/api/v2/silences", json=bad, timeout=5)
    assert raw.status_code == 400
    before = raw_silences(am.url)
    with pytest.raises(QueryError) as info:
        await c.create_silence([Matcher("alertname", ".*", is_regex=True)], 60, "me", "x", read_only=False)
    assert raw.json() in info.value.message  # "at least one matcher must not match the empty string"
    assert raw_silences(am.url) == before
    await c.aclose()


async def test_status_and_check(am: ChildServer) -> None:
    c = client(am.url)
    raw = httpx.get(f"{am.url}/api/v2/status", timeout=5).json()
    info, seconds_taken = await c.check()
    assert info.version == raw["versionInfo"]["version"] and seconds_taken >= 0
    assert (await c.status())["config"]["original"] == raw["config"]["original"]
    await c.aclose()


# --- checks before any request ----------------------------------------------------------------


@pytest.mark.parametrize(
    "matchers, duration, author, comment, words",
    [
        ([], 3600, "me", "why", "at least one matcher"),
        ([Matcher("a", "b")], 3600, "me", "", "comment"),
        ([Matcher("a", "b")], 3600, "me", "   ", "comment"),
        ([Matcher("a", "b")], 3600, "", "why", "author"),
        ([Matcher("a", "b")], 0, "me", "why", "positive"),
        ([Matcher("a", "b")], -5, "me", "why", "positive"),
        ([Matcher("a", "b")], MAX_SILENCE_SECONDS + 1, "me", "why", "longer than the 30 days"),
        (["alertname=x"], 3600, "me", "why", "Matcher objects"),
    ],
)
async def test_invalid_silences_are_refused_before_any_request(
    httpserver: HTTPServer, matchers, duration, author, comment, words
) -> None:
    c = client(httpserver.url_for("/"))
    with pytest.raises(SilenceInvalid, match=words):
        await c.create_silence(matchers, duration, author, comment, read_only=False)
    with pytest.raises(WriteRefused):  # read-only wins, and is checked first
        await c.create_silence(matchers, duration, author, comment, read_only=True)
    with pytest.raises(WriteRefused):
        await c.expire_silence("810ccf7f-c957-474a-b383-7e76d66a4d3b", read_only=True)
    assert httpserver.log == []
    await c.aclose()


async def test_a_silence_at_the_longest_allowed_duration_is_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v2/silences", method="POST").respond_with_json({"silenceID": "abc"})
    c = client(httpserver.url_for("/"))
    start = 1_700_000_000.0
    sid = await c.create_silence(
        [Matcher("job", "api|web", is_regex=True, is_equal=False)],
        MAX_SILENCE_SECONDS,
        " me ",
        "why",
        read_only=False,
        starts_at=start,
    )
    assert sid == "abc"
    ((request, _),) = httpserver.log
    body = json.loads(request.data)
    assert body["matchers"] == [{"name": "job", "value": "api|web", "isRegex": True, "isEqual": False}]
    assert (seconds(body["startsAt"]), seconds(body["endsAt"])) == (start, start + 30 * 86400)
    assert (body["createdBy"], body["comment"]) == ("me", "why")
    await c.aclose()


# --- real captured answers (Alertmanager 0.31) -------------------------------------------------


async def test_captured_groups_parse(httpserver: HTTPServer) -> None:
    body = real_fixture("alertmanager/v2-alerts-groups-am0.31.json")
    httpserver.expect_request("/api/v2/alerts/groups").respond_with_data(body, content_type="application/json")
    c = client(httpserver.url_for("/"))
    groups = await c.groups()
    await c.aclose()
    doc = json.loads(body)
    assert [(dict(g.labels), g.receiver, len(g.alerts)) for g in groups] == [
        (d["labels"], d["receiver"]["name"], len(d["alerts"])) for d in doc
    ]
    got = [a for g in groups for a in g.alerts]
    raw = [a for d in doc for a in d["alerts"]]
    assert [
        (
            dict(a.labels),
            dict(a.annotations),
            a.fingerprint,
            a.state,
            a.receivers,
            a.silenced_by,
            a.inhibited_by,
            a.muted_by,
            a.generator_url,
            a.starts_at,
            a.ends_at,
            a.updated_at,
        )
        for a in got
    ] == [
        (
            r["labels"],
            r["annotations"],
            r["fingerprint"],
            r["status"]["state"],
            tuple(x["name"] for x in r["receivers"]),
            tuple(r["status"]["silencedBy"]),
            tuple(r["status"]["inhibitedBy"]),
            tuple(r["status"]["mutedBy"]),
            r.get("generatorURL", ""),
            pytest.approx(seconds(r["startsAt"]), abs=1e-6),
            pytest.approx(seconds(r["endsAt"]), abs=1e-6),
            pytest.approx(seconds(r["updatedAt"]), abs=1e-6),
        )
        for r in raw
    ]
    assert any(a.state == "suppressed" and a.silenced_by for a in got)  # the fixture has silenced alerts
    assert all(fingerprint(dict(a.labels)) == a.fingerprint for a in got)


async def test_captured_silences_parse(httpserver: HTTPServer) -> None:
    body = real_fixture("alertmanager/v2-silences-am0.31.json")
    httpserver.expect_request("/api/v2/silences").respond_with_data(body, content_type="application/json")
    c = client(httpserver.url_for("/"))
    silences = await c.silences()
    await c.aclose()
    doc = json.loads(body)
    assert [(s.id, s.state, s.created_by, s.comment, s.starts_at, s.ends_at) for s in silences] == [
        (
            d["id"],
            d["status"]["state"],
            d["createdBy"],
            d["comment"],
            pytest.approx(seconds(d["startsAt"])),
            pytest.approx(seconds(d["endsAt"])),
        )
        for d in doc
    ]
    assert [[(m.name, m.value, m.is_regex, m.is_equal) for m in s.matchers] for s in silences] == [
        [(m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in d["matchers"]] for d in doc
    ]


@pytest.mark.parametrize(
    "path, call, answer",
    [
        ("/api/v2/alerts", "alerts", b"not json {"),
        ("/api/v2/alerts", "alerts", b'{"status": "success"}'),
        ("/api/v2/alerts", "alerts", b'[{"labels": "HighErrorRate"}]'),
        ("/api/v2/alerts/groups", "groups", b'[{"labels": {}, "receiver": "x", "alerts": []}]'),
        ("/api/v2/silences", "silences", b'[{"matchers": []}]'),
        ("/api/v2/silences", "silences", b"<html>login</html>"),
    ],
)
async def test_garbage_is_backend_unavailable(httpserver: HTTPServer, path: str, call: str, answer: bytes) -> None:
    httpserver.expect_request(path).respond_with_data(answer, content_type="application/json")
    c = client(httpserver.url_for("/"))
    with pytest.raises(BackendUnavailable):
        await getattr(c, call)()
    await c.aclose()


async def test_a_time_zeta_cannot_read_is_unknown_and_the_alert_still_listed(httpserver: HTTPServer) -> None:
    """One odd timestamp must not hide every alert (and make `zeta alerts` exit 3): its moment
    is unknown (0.0, shown as "?"), the rest of the answer stands."""
    answer = [
        {
            "labels": {"alertname": "A"},
            "startsAt": "yesterday",
            "endsAt": "2018-07-04T20:27:12.606+02:00",
            "updatedAt": 1530728832,
        },
        {"labels": {"alertname": "B"}, "startsAt": "2026-03-11T12:48:38.413Z"},
    ]
    httpserver.expect_request("/api/v2/alerts").respond_with_json(answer)
    c = client(httpserver.url_for("/"))
    a, b = await c.alerts()
    await c.aclose()
    assert (a.name, a.starts_at, a.updated_at) == ("A", 0.0, 0.0)
    assert a.ends_at == pytest.approx(seconds("2018-07-04T18:27:12.606Z"), abs=1e-6)
    assert (b.name, b.starts_at, b.ends_at) == ("B", pytest.approx(seconds("2026-03-11T12:48:38.413Z"), abs=1e-6), 0.0)


async def test_a_silence_id_that_is_not_json_is_backend_unavailable(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v2/silences", method="POST").respond_with_json({"ok": True})
    c = client(httpserver.url_for("/"))
    with pytest.raises(BackendUnavailable):
        await c.create_silence([Matcher("a", "b")], 60, "me", "why", read_only=False)
    await c.aclose()


async def test_server_errors_quote_alertmanager(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v2/silences").respond_with_json(
        {"code": 400, "message": "parsing silence body failed"}, status=400
    )
    httpserver.expect_request("/api/v2/alerts").respond_with_json("internal: store closed", status=500)
    c = client(httpserver.url_for("/"))
    with pytest.raises(QueryError, match="parsing silence body failed"):
        await c.silences()
    with pytest.raises(BackendUnavailable, match="internal: store closed"):
        await c.alerts()
    await c.aclose()


# --- models ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("service=~api.*", Matcher("service", "api.*", is_regex=True, is_equal=True)),
        ('severity="critical"', Matcher("severity", "critical")),
        ("instance!=web1", Matcher("instance", "web1", is_regex=False, is_equal=False)),
        ('job !~ "a|b"', Matcher("job", "a|b", is_regex=True, is_equal=False)),
        ('msg="say \\"hi\\""', Matcher("msg", 'say "hi"')),
        ("team=", Matcher("team", "")),
        ("expr=a==b", Matcher("expr", "a==b")),
    ],
)
def test_matcher_parse(text: str, expected: Matcher) -> None:
    got = Matcher.parse(text)
    assert got == expected
    assert Matcher.parse(str(got)) == got  # the text form reads back


@pytest.mark.parametrize(
    "text, words",
    [
        ("service", "is not a matcher"),
        ("", "is not a matcher"),
        ("=value", "is not a matcher"),
        ("1abc=x", "not a label name"),
        ("my-label=x", "not a label name"),
        ('a="open', "closing double quote"),
        ('a="x"y"', "must be escaped"),
        ('a=x"y', "must be quoted"),
    ],
)
def test_matcher_parse_errors(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Matcher.parse(text)


def test_matcher_matches_like_alertmanager() -> None:
    labels = {"service": "api-gateway", "severity": "critical"}
    assert Matcher.parse("service=~api.*").matches(labels)
    assert not Matcher.parse("service=~api").matches(labels)  # anchored at both ends
    assert Matcher.parse("service!~web.*").matches(labels)
    assert Matcher.parse("team=").matches(labels)  # a missing label is the empty string
    assert not Matcher.parse("team!=").matches(labels)


def test_matchers_for_uses_job_without_service_and_skips_missing_labels() -> None:
    a = Alert(labels={"alertname": "ServiceDown", "job": "auth", "severity": "critical", "pod": "auth-1"})
    assert matchers_for(a) == (
        Matcher("alertname", "ServiceDown"),
        Matcher("job", "auth"),
        Matcher("severity", "critical"),
    )
    b = Alert(labels={"alertname": "X", "service": "api", "job": "api-job", "instance": "h:1"})
    assert matchers_for(b) == (Matcher("alertname", "X"), Matcher("service", "api"), Matcher("instance", "h:1"))
    assert Silence("s", matchers_for(b), 0, 1).matches(b.labels)
    # A cAdvisor series (HighMemoryUsage) has neither: its container names the service.
    c = Alert(
        labels={
            "alertname": "HighMemoryUsage",
            "namespace": "production",
            "pod": "ml-engine-5d8b-1",
            "container": "ml-engine",
            "severity": "warning",
        }
    )
    assert c.service == "ml-engine"
    assert matchers_for(c) == (
        Matcher("alertname", "HighMemoryUsage"),
        Matcher("container", "ml-engine"),
        Matcher("severity", "warning"),
    )


def test_a_silence_from_a_per_endpoint_alert_is_for_that_endpoint() -> None:
    slow = {
        "alertname": "HighLatency",
        "job": "backend-api",
        "endpoint": "/api/v1/recommendations",
        "severity": "critical",
    }
    page = Alert(labels=slow)
    assert page.endpoint == "/api/v1/recommendations"
    assert matchers_for(page) == (
        Matcher("alertname", "HighLatency"),
        Matcher("job", "backend-api"),
        Matcher("endpoint", "/api/v1/recommendations"),
        Matcher("severity", "critical"),
    )
    silence = Silence("s", matchers_for(page), 0, 1)
    assert silence.matches(slow) and not silence.matches({**slow, "endpoint": "/api/v1/items"})
    # OpenTelemetry's and Prometheus's own names for it
    assert Alert(labels={"alertname": "A", "http_route": "/users/{id}"}).endpoint == "/users/{id}"
    assert matchers_for(Alert(labels={"alertname": "A", "handler": "/api/v1/query"}))[-1] == Matcher(
        "handler", "/api/v1/query"
    )
    assert Alert(labels={"alertname": "ServiceDown"}).endpoint == ""


def test_severity_rank_orders_critical_first() -> None:
    names = ["info", "warning", "", "critical", "page", "error"]
    ranked = sorted((Alert(labels={"severity": s}) for s in names), key=lambda a: a.severity_rank)
    assert [a.severity for a in ranked][:4] == ["critical", "error", "warning", "info"]
    assert Alert(labels={"severity": "CRITICAL"}).severity == "critical"
