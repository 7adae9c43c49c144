"""`zeta alerts` and `zeta silence` end to end, against a real Alertmanager (its own routing and
inhibition, alerts injected through its API) and a real Prometheus whose rules hold one alert
pending and fire one that Alertmanager also has. Expected rows, receivers and states come from
what the test sent and its routing worked by hand; silences are checked through Alertmanager's
raw API with httpx, never through Zeta's adapter."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import UTC, datetime

import httpx
import pytest

from tests.support.alert_world import (
    NOW,
    PENDING,
    PENDING_SUMMARY,
    SENT,
    SENT_BY_NAME,
    expected_receivers,
    expected_state,
    rfc3339,
)
from tests.support.servers import wait_until
from zeta_tui.cli import main
from zeta_tui.demo.processes import free_port


def seconds(text: str) -> float:
    whole = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return whole + (float("0" + text[19:-1]) if len(text) > 20 else 0.0)


@pytest.fixture(scope="module")
def config(am, prom, tmp_path_factory) -> str:
    closed = f"http://127.0.0.1:{free_port()}"
    path = tmp_path_factory.mktemp("cli-alerts-config") / "zeta.toml"
    path.write_text(
        'default_context = "ops"\n'
        f'[contexts.ops.alertmanager]\nurl = "{am.url}"\n[contexts.ops.prometheus]\nurl = "{prom.url}"\n'
        f'[contexts.amonly.alertmanager]\nurl = "{am.url}"\n'
        f'[contexts.promonly.prometheus]\nurl = "{prom.url}"\n'
        f'[contexts.prod]\nproduction = true\n[contexts.prod.alertmanager]\nurl = "{am.url}"\n'
        f'[contexts.amdown.alertmanager]\nurl = "{closed}"\n'
        f'[contexts.promdown.alertmanager]\nurl = "{am.url}"\n[contexts.promdown.prometheus]\nurl = "{closed}"\n'
        "[contexts.nothing]\n"
    )
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def raw_silences(url: str) -> list[dict]:
    return httpx.get(f"{url}/api/v2/silences", timeout=5).json()


def expire_raw(url: str, silence_id: str) -> None:
    httpx.delete(f"{url}/api/v2/silence/{silence_id}", timeout=5)


class Tty(io.StringIO):
    """stdin as a terminal with an answer typed in."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_tty(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # something to read, but no terminal


# --- zeta alerts -------------------------------------------------------------------------


def test_alerts_json_equals_what_was_injected_plus_prometheus_pending(config, capsys) -> None:
    code, out, err = run(capsys, "--config", config, "alerts", "--json")
    assert code == 1, err  # two criticals fire unsilenced
    docs = [json.loads(line) for line in out.splitlines()]
    got = {d["alertname"]: d for d in docs}
    assert len(docs) == len(got) == len(SENT) + len(PENDING)  # ServiceDown (in both) shown once
    for name, (sent, minutes) in SENT_BY_NAME.items():
        d = got[name]
        assert d["source"] == "alertmanager"
        assert d["labels"] == sent["labels"] and d["annotations"] == sent["annotations"]
        assert d["severity"] == sent["labels"]["severity"]
        assert d["service"] == sent["labels"].get("service", sent["labels"].get("job"))
        assert set(d["receivers"]) == expected_receivers(sent["labels"])
        assert d["state"] == expected_state(name)
        assert seconds(d["since"]) == pytest.approx(NOW - minutes * 60, abs=0.01)
        assert d["age_seconds"] == pytest.approx(time.time() - (NOW - minutes * 60), abs=30)
    assert all(d["unknown"] == [] for d in docs)  # both backends read: nothing unknown
    assert "unknown" not in err
    for name, labels in PENDING.items():
        d = got[name]
        assert (d["source"], d["state"], d["receivers"]) == ("prometheus", "pending", [])
        assert d["labels"] == {"alertname": name, **labels} and d["summary"] == PENDING_SUMMARY[name]
    # Severity first, then newest first.
    rank = {"critical": 0, "warning": 2}
    keys = [(rank[d["severity"]], d["age_seconds"]) for d in docs]
    assert keys == sorted(keys)


def test_alerts_table(config, capsys, monkeypatch) -> None:
    code, out, err = run(capsys, "--config", config, "alerts")
    assert code == 1, err
    header, *lines = out.splitlines()
    assert header.split() == ["SEVERITY", "ALERT", "SERVICE", "SINCE", "SUMMARY", "RECEIVER", "STATE"]
    rows = {cells[1]: cells for cells in (re.split(r"\s{2,}", line.strip()) for line in lines)}
    assert len(lines) == len(rows) == len(SENT) + len(PENDING)
    for name, (sent, minutes) in SENT_BY_NAME.items():
        severity, _name, service, since, summary, receivers, state = rows[name]
        annotations = sent["annotations"]
        assert severity == sent["labels"]["severity"]
        assert service == sent["labels"].get("service", sent["labels"].get("job"))
        assert summary == (annotations.get("summary") or annotations.get("description") or "-")
        assert set(receivers.split(",")) == expected_receivers(sent["labels"])
        assert state == expected_state(name)
        # Started `minutes` before NOW, which was this module's import: a loaded machine can take
        # minutes to get here (servers to start, earlier tests), so the bound follows the clock.
        parts = re.fullmatch(r"(\d+)([dhms])(?:(\d+)([dhms]))?", since)
        assert parts, since
        unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
        shown = int(parts[1]) * unit[parts[2]] + (int(parts[3]) * unit[parts[4]] if parts[3] else 0)
        assert minutes * 60 - 60 <= shown <= minutes * 60 + (time.time() - NOW) + 60, since
        if minutes >= 60:
            assert since.startswith(f"{minutes // 60}h")  # hours and minutes, seconds dropped
    assert rows["HighLatency"][-2:] == ["-", "pending"] and rows["DatabaseDown"][-1] == "pending"
    assert [line.split()[0] for line in lines] == sorted(
        (line.split()[0] for line in lines), key=["critical", "warning"].index
    )


def test_severity_filter(config, capsys) -> None:
    code, out, err = run(capsys, "--config", config, "alerts", "--json", "--severity", "WARNING")
    assert code == 0, err  # no critical among those shown
    assert {json.loads(line)["alertname"] for line in out.splitlines()} == {
        "HighMemoryUsage",
        "DiskSpaceLow",
        "HighLatency",
    }


def test_silenced_criticals_exit_0(config, am, capsys) -> None:
    ids = []
    for name in ("HighErrorRate", "ServiceDown"):
        body = {
            "matchers": [{"name": "alertname", "value": name, "isRegex": False, "isEqual": True}],
            "startsAt": rfc3339(time.time()),
            "endsAt": rfc3339(time.time() + 600),
            "createdBy": "test",
            "comment": "cli test",
        }
        ids.append(httpx.post(f"{am.url}/api/v2/silences", json=body, timeout=5).json()["silenceID"])
    try:

        def criticals_silenced() -> bool:
            raw = httpx.get(f"{am.url}/api/v2/alerts", params={"filter": 'severity="critical"'}, timeout=5).json()
            return all(a["status"]["silencedBy"] for a in raw)

        assert wait_until(criticals_silenced)
        code, out, err = run(capsys, "--config", config, "alerts", "--json", "--severity", "critical")
        assert code == 0, err  # both criticals silenced; DatabaseDown is only pending
        states = {
            json.loads(line)["alertname"]: (json.loads(line)["state"], json.loads(line)["silenced_by"])
            for line in out.splitlines()
        }
        assert states == {
            "HighErrorRate": ("silenced", [ids[0]]),
            "ServiceDown": ("silenced", [ids[1]]),
            "DatabaseDown": ("pending", []),
        }
    finally:
        for sid in ids:
            expire_raw(am.url, sid)
        assert wait_until(
            lambda: not any(a["status"]["silencedBy"] for a in httpx.get(f"{am.url}/api/v2/alerts", timeout=5).json())
        )


def test_alertmanager_down_is_exit_3_with_its_message(config, capsys) -> None:
    code, out, err = run(capsys, "--config", config, "--context", "amdown", "alerts")
    assert code == 3 and out == ""
    assert "Backend unavailable" in err and "127.0.0.1" in err and "could not be read" in err


def test_prometheus_down_still_shows_alertmanager_and_exits_3(config, capsys) -> None:
    code, out, err = run(
        capsys, "--config", config, "--context", "promdown", "alerts", "--json", "--severity", "warning"
    )
    assert code == 3
    assert {json.loads(line)["alertname"] for line in out.splitlines()} == {"HighMemoryUsage", "DiskSpaceLow"}
    assert all(json.loads(line)["unknown"] == ["pending"] for line in out.splitlines())  # Prometheus not read
    assert "Backend unavailable" in err


def test_without_prometheus_pending_alerts_are_said_unknown(config, capsys) -> None:
    # Alertmanager has every firing alert: "no unmuted critical among the warnings" is known (0),
    # but Prometheus's pending HighLatency cannot be listed, and that is said.
    code, out, err = run(capsys, "--config", config, "--context", "amonly", "alerts", "--severity", "warning")
    assert code == 0, err
    assert {re.split(r"\s{2,}", line.strip())[1] for line in out.splitlines()[1:]} == {
        "HighMemoryUsage",
        "DiskSpaceLow",
    }
    assert "no [prometheus] section" in err and "pending alerts" in err and "unknown" in err
    assert '[contexts.amonly.prometheus] with url = "http://host:9090"' in err

    code, out, err = run(capsys, "--config", config, "--context", "amonly", "alerts", "--json")
    assert code == 1  # the two unsilenced criticals Alertmanager holds
    docs = [json.loads(line) for line in out.splitlines()]
    assert {d["alertname"] for d in docs} == set(SENT_BY_NAME) and all(d["unknown"] == ["pending"] for d in docs)
    assert "no [prometheus] section" in err  # on stderr with --json too

    code, out, err = run(capsys, "--config", config, "--context", "amonly", "alerts", "--severity", "info")
    assert (code, out) == (0, "")
    assert (
        "no alerts of severity info firing (pending unknown) in context amonly" in err
        and "no [prometheus] section" in err
    )


def test_without_alertmanager_what_mutes_an_alert_is_said_unknown(config, capsys) -> None:
    code, out, err = run(capsys, "--config", config, "--context", "promonly", "alerts", "--json")
    assert code == 1  # ServiceDown fires in Prometheus; nothing is known to silence it
    docs = {json.loads(line)["alertname"]: json.loads(line) for line in out.splitlines()}
    assert set(docs) == {"ServiceDown", *PENDING}
    assert (docs["ServiceDown"]["state"], docs["ServiceDown"]["source"]) == ("active", "prometheus")
    assert all(d["unknown"] == ["silences", "inhibitions", "receivers"] for d in docs.values())
    assert "no [alertmanager] section" in err and "[contexts.promonly.alertmanager]" in err
    code, out, err = run(capsys, "--config", config, "--context", "promonly", "alerts")
    assert "no [alertmanager] section" in err and "[contexts.promonly.alertmanager]" in err


def test_alerts_without_either_section_is_a_config_error(config, capsys) -> None:
    code, out, err = run(capsys, "--config", config, "--context", "nothing", "alerts")
    assert code == 2 and out == ""
    assert "no [alertmanager] and no [prometheus] section" in err and "[contexts.nothing.alertmanager]" in err


# --- zeta silence ----------------------------------------------------------------------------

MATCHERS = ["alertname=ZetaCliMaintenance", 'service="backend-api"']


def test_silence_add_with_yes_creates_it_list_shows_it_expire_ends_it(config, am, capsys) -> None:
    t0 = time.time()
    code, out, err = run(
        capsys,
        "--config",
        config,
        "silence",
        "add",
        *MATCHERS,
        "--duration",
        "2h",
        "--author",
        "oncall@example.com",
        "--comment",
        "INC-7: deploy",
        "--yes",
    )
    assert code == 0, err
    sid = out.strip()
    raw = httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()
    try:
        assert (raw["createdBy"], raw["comment"], raw["status"]["state"]) == (
            "oncall@example.com",
            "INC-7: deploy",
            "active",
        )
        assert sorted((m["name"], m["value"], m["isRegex"], m.get("isEqual", True)) for m in raw["matchers"]) == [
            ("alertname", "ZetaCliMaintenance", False, True),
            ("service", "backend-api", False, True),
        ]
        assert seconds(raw["endsAt"]) == pytest.approx(t0 + 7200, abs=5)
        assert "silences 0 alert(s) firing now" in err

        code, out, err = run(capsys, "--config", config, "silence", "list")
        assert code == 0, err
        row = next(line for line in out.splitlines() if line.startswith(sid))
        assert (
            re.split(r"\s{2,}", row)
            == [
                sid,
                "active",
                "ends in 1h59m",
                'alertname="ZetaCliMaintenance", service="backend-api"',
                "oncall@example.com",
                "INC-7: deploy",
            ]
            or "ends in 2h" in row
        )
        code, out, err = run(capsys, "--config", config, "silence", "list", "--json")
        doc = next(d for d in map(json.loads, out.splitlines()) if d["id"] == sid)
        assert doc["state"] == "active" and doc["created_by"] == raw["createdBy"] and doc["comment"] == raw["comment"]
        assert doc["matchers"] == ['alertname="ZetaCliMaintenance"', 'service="backend-api"']
        assert seconds(doc["ends_at"]) == pytest.approx(seconds(raw["endsAt"]), abs=1)

        code, out, err = run(capsys, "--config", config, "silence", "expire", sid, "--yes")
        assert code == 0, err
        assert out.strip() == f"expired {sid}"
        assert httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()["status"]["state"] == "expired"

        code, out, err = run(capsys, "--config", config, "silence", "list", "--json")
        states = [d["state"] for d in map(json.loads, out.splitlines())]
        assert {"id": sid, "state": "expired"}.items() <= next(
            d for d in map(json.loads, out.splitlines()) if d["id"] == sid
        ).items()
        assert states == sorted(states, key=["active", "pending", "expired"].index)  # expired last
        code, out, err = run(capsys, "--config", config, "silence", "expire", sid, "--yes")
        assert code == 0 and "already expired" in err
    finally:
        expire_raw(am.url, sid)


def test_silence_add_without_yes_and_no_tty_refuses(config, am, capsys, no_tty) -> None:
    before = raw_silences(am.url)
    code, out, err = run(
        capsys, "--config", config, "silence", "add", *MATCHERS, "--duration", "1h", "--author", "me", "--comment", "x"
    )
    assert code == 2 and out == ""
    assert "not a terminal" in err and "--yes" in err
    assert raw_silences(am.url) == before


def test_silence_add_asks_on_a_terminal(config, am, capsys, monkeypatch) -> None:
    before = raw_silences(am.url)
    monkeypatch.setattr("sys.stdin", Tty("n\n"))
    code, out, err = run(
        capsys, "--config", config, "silence", "add", *MATCHERS, "--duration", "1h", "--author", "me", "--comment", "x"
    )
    assert code == 1 and out == "" and "Create this silence? [y/N]" in err and "not created" in err
    assert raw_silences(am.url) == before

    monkeypatch.setattr("sys.stdin", Tty("y\n"))
    monkeypatch.setenv("USER", "night-shift")
    code, out, err = run(capsys, "--config", config, "silence", "add", *MATCHERS, "--duration", "1h", "--comment", "x")
    assert code == 0, err
    sid = out.strip()
    try:
        assert httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()["createdBy"] == "night-shift"
        assert "night-shift (from $USER" in err

        monkeypatch.setattr("sys.stdin", Tty("\n"))  # Enter alone is no
        code, out, err = run(capsys, "--config", config, "silence", "expire", sid)
        assert code == 1 and "Expire this silence now? [y/N]" in err
        assert httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()["status"]["state"] == "active"
    finally:
        expire_raw(am.url, sid)


def test_read_only_context_refuses_before_asking_and_writes_nothing(config, am, capsys, monkeypatch) -> None:
    before = raw_silences(am.url)
    answer = Tty("y\n")
    monkeypatch.setattr("sys.stdin", answer)
    code, out, err = run(
        capsys,
        "--config",
        config,
        "--context",
        "prod",
        "silence",
        "add",
        *MATCHERS,
        "--duration",
        "1h",
        "--author",
        "me",
        "--comment",
        "x",
    )
    assert code == 2 and out == ""
    assert "Refused: read-only context" in err and "'prod' is read-only" in err and "read_only = false" in err
    assert "[y/N]" not in err and answer.tell() == 0  # never asked
    assert raw_silences(am.url) == before

    sid = httpx.post(
        f"{am.url}/api/v2/silences",
        timeout=5,
        json={
            "matchers": [{"name": "alertname", "value": "ZetaCliMaintenance", "isRegex": False, "isEqual": True}],
            "startsAt": rfc3339(time.time()),
            "endsAt": rfc3339(time.time() + 600),
            "createdBy": "test",
            "comment": "ro",
        },
    ).json()["silenceID"]
    try:
        code, out, err = run(capsys, "--config", config, "--context", "prod", "silence", "expire", sid, "--yes")
        assert code == 2 and "read-only" in err
        assert httpx.get(f"{am.url}/api/v2/silence/{sid}", timeout=5).json()["status"]["state"] == "active"
        code, out, err = run(capsys, "--config", config, "--context", "prod", "silence", "list", "--json")
        assert code == 0 and sid in {json.loads(line)["id"] for line in out.splitlines()}  # reading is fine
    finally:
        expire_raw(am.url, sid)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["{broken", "--duration", "1h", "--author", "me", "--comment", "x"], "is not a matcher"),
        ([*MATCHERS, "--duration", "31d", "--author", "me", "--comment", "x"], "longer than the 30 days"),
        ([*MATCHERS, "--duration", "soon", "--author", "me", "--comment", "x"], "is not a duration"),
        ([*MATCHERS, "--duration", "1h", "--author", "me", "--comment", "  "], "needs a comment"),
        ([*MATCHERS, "--duration", "1h", "--author", "", "--comment", "x"], "--author is empty"),
    ],
)
def test_invalid_silences_are_refused_before_anything_is_sent(config, am, capsys, argv, words) -> None:
    before = raw_silences(am.url)
    code, out, err = run(capsys, "--config", config, "silence", "add", *argv, "--yes")
    assert code == 2 and out == "" and words in err
    assert raw_silences(am.url) == before


def test_unknown_silence_is_alertmanagers_words(config, capsys) -> None:
    code, _, err = run(capsys, "--config", config, "silence", "expire", "810ccf7f-c957-474a-b383-7e76d66a4d3b", "--yes")
    assert code == 1 and "no silence with id 810ccf7f-c957-474a-b383-7e76d66a4d3b" in err


def test_silence_without_alertmanager_section(config, capsys) -> None:
    code, _out, err = run(capsys, "--config", config, "--context", "nothing", "silence", "list")
    assert code == 2 and "has no [alertmanager] section" in err
