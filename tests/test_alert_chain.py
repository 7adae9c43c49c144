"""From a world incident to the page, end to end on real servers: `zeta demo --no-tui` backfills
world data holding an ml-engine error spike into a real Prometheus that loads the shipped
rules, the alerts reach the demo's real Alertmanager and its webhook sink, and `zeta alerts
--json` and the Alerts screen (pointed at the demo by the config the demo prints) show them.
A silence made on the screen is checked, and expired, through Alertmanager's own API.

The store's incident anchor is set by the test (the state file a first start writes) so that
the spike began 8 minutes before the start: rate()[5m] sees it in the backfilled history at
Prometheus's first evaluation. What must fire comes from the world's incident schedule and the
rules' thresholds, never from what Zeta shows; Alertmanager's state is read with httpx.

HighErrorRate has `for: 2m`, and rules evaluate only live, so the module takes about 2.5 minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.console import open_alert, settled
from tests.support.demo_process import REPO, Demo, alive
from zeta_tui.demo.incidents import ML_ERROR_SPIKE, shift_for_spike_at
from zeta_tui.demo.processes import BinaryNotFound, find_binary
from zeta_tui.demo.world import DEFAULT_SEED, TeamZetaWorld

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]  # `zeta demo` and its children

SPIKE_BEGAN_BEFORE = 8 * 60  # seconds before the demo starts
HIGH_ERROR_RATE_FOR = 120  # the shipped rule's `for`
EVALUATION = 15  # the demo's evaluation interval
#: Alertmanager's group_wait in the demo's routing, then the first notification goes out
GROUP_WAIT = 10


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    for names in (("prometheus",), ("promtool",), ("prometheus-alertmanager", "alertmanager")):
        try:
            find_binary(*names)
        except BinaryNotFound as exc:
            pytest.skip(f"{exc.message}: {exc.hint}")
    xdg = tmp_path_factory.mktemp("chain-xdg")
    now = time.time()
    spike_start = (int(now) - SPIKE_BEGAN_BEFORE) // 60 * 60
    shift = shift_for_spike_at(spike_start)
    world = TeamZetaWorld(DEFAULT_SEED, incident_shift=shift)
    active = [i for i in world.incidents(now - 3600, now + 3600) if i.contains(now)]
    spike = next(i for i in active if i.name == ML_ERROR_SPIKE)
    # The whole module runs inside the spike: 5 minutes of it before the start, 10 after.
    assert spike.start <= now - 5 * 60 and spike.end >= now + 10 * 60, spike
    # The state a first start writes, with this test's anchor (DemoStack keeps a store's shift).
    root = xdg / "zeta" / "demo"
    root.mkdir(parents=True)
    (root / "state.json").write_text(
        json.dumps({"seed": world.seed, "namespace": world.namespace, "incident_shift": shift})
    )

    demo = Demo(xdg)
    try:
        printed = demo.wait_stdout("Press Ctrl+C to stop.", timeout=60)
        urls = dict(
            line.strip().split(": ", 1) for line in printed.splitlines() if line.startswith("  ") and ": " in line
        )
        # The config the demo tells its user to add, as the user would save it.
        config = xdg / "config.toml"
        config.write_text(printed[printed.index("[contexts.demo]") : printed.index("Press Ctrl+C")])
        yield Chain(
            demo, urls["prometheus"], urls["alertmanager"], Path(urls["alert notifications"]), config, spike, active
        )
        kids = demo.children()
        demo.proc.send_signal(signal.SIGTERM)
        assert demo.proc.wait(timeout=15) == 128 + signal.SIGTERM, demo.read_stderr()
        assert not [pid for pid in kids if alive(pid)], kids
    finally:
        demo.stop_hard()


class Chain:
    def __init__(
        self, demo: Demo, prometheus: str, alertmanager: str, notifications: Path, config: Path, spike, active
    ) -> None:
        self.demo, self.prometheus, self.alertmanager = demo, prometheus, alertmanager
        self.notifications, self.config, self.spike, self.active = notifications, config, spike, active

    def am_alerts(self) -> list[dict]:
        """Alertmanager's alerts through its own API (v2), silenced and inhibited ones included."""
        return httpx.get(f"{self.alertmanager}/api/v2/alerts", timeout=10).json()

    def prom_alerts(self) -> list[dict]:
        body = httpx.get(f"{self.prometheus}/api/v1/alerts", timeout=10).json()
        assert body["status"] == "success", body
        return body["data"]["alerts"]

    def zeta_alerts(self, *args: str) -> tuple[int, list[dict]]:
        done = subprocess.run(
            [sys.executable, "-m", "zeta_tui.cli", "alerts", "--json", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env={**os.environ, "ZETA_CONFIG": str(self.config), "PYTHONPATH": str(REPO)},
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]

    def app(self):
        from zeta_tui.config.loader import load_config
        from zeta_tui.launch import build_app

        return build_app(load_config(self.config), "demo")


def wait_for(what: str, check, timeout: float):
    """``check()``'s first truthy answer, polled every second; fails with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1.0)
    pytest.fail(f"{what} did not happen within {timeout:g}s")


def _one(alerts: list[dict], **labels: str) -> list[dict]:
    return [a for a in alerts if all(a["labels"].get(k) == v for k, v in labels.items())]


def test_the_fast_burn_page_reaches_alertmanager_and_its_warning_twin_is_inhibited(chain) -> None:
    # 1h and 5m windows: the spike (about 45 % 5xx for 8 minutes and more) is far above 14.4 x 0.1 %.
    page = wait_for(
        "the 14.4x burn-rate page in Alertmanager",
        lambda: _one(chain.am_alerts(), alertname="ErrorBudgetBurn", job="ml-engine", long_window="1h"),
        timeout=90,
    )
    assert page[0]["labels"]["severity"] == "critical" and page[0]["status"]["state"] == "active"
    assert [r["name"] for r in page[0]["receivers"]] == ["pagerduty-critical"]
    # The ticket on 1d/2h (0.3 %) holds too, and the critical page inhibits it (same alertname and job).
    ticket = wait_for(
        "the 1d burn-rate ticket",
        lambda: _one(chain.am_alerts(), alertname="ErrorBudgetBurn", job="ml-engine", long_window="1d"),
        timeout=30,
    )
    assert ticket[0]["status"]["state"] == "suppressed" and ticket[0]["status"]["inhibitedBy"], ticket
    # zeta alerts shows both as Alertmanager has them, and says a critical is paging (exit 1).
    code, rows = chain.zeta_alerts()
    burns = {
        r["labels"]["long_window"]: r
        for r in rows
        if r["alertname"] == "ErrorBudgetBurn" and r["service"] == "ml-engine"
    }
    assert (burns["1h"]["state"], burns["1h"]["receivers"], burns["1d"]["state"]) == (
        "active",
        ["pagerduty-critical"],
        "inhibited",
    )
    assert code == 1
    # HighErrorRate is at least pending in Prometheus from its first evaluations, and zeta agrees.
    held = wait_for(
        "HighErrorRate in Prometheus", lambda: _one(chain.prom_alerts(), alertname="HighErrorRate"), timeout=60
    )
    assert {a["labels"]["job"] for a in held} == {chain.spike.service}
    code, rows = chain.zeta_alerts("--severity", "critical")
    mine = [r for r in rows if r["alertname"] == "HighErrorRate"]
    assert [r["service"] for r in mine] == ["ml-engine"] and mine[0]["state"] in ("pending", "active")


async def test_a_silence_made_on_the_alerts_screen_mutes_the_page_in_alertmanager(chain, monkeypatch) -> None:
    from zeta_tui.screens.silences import ConfirmScreen, SilenceForm, SilencesScreen
    from zeta_tui.widgets.alert_table import AlertTable

    wait_for(
        "the burn-rate page",
        lambda: _one(chain.am_alerts(), alertname="ErrorBudgetBurn", job="ml-engine", severity="critical"),
        90,
    )
    monkeypatch.setenv("USER", "oncall")
    async with chain.app().run_test(size=(160, 50)) as pilot:
        await pilot.press("5")
        screen = await settled(pilot)
        table = screen.query_one(AlertTable)
        # ml-engine's burn-rate alerts are one row (the 1h and 6h pages, and the tickets if they
        # fire too), led by a firing page; `s` on it silences them all: the labels they share.
        row = next(
            i
            for i, line in enumerate(table.lines)
            if (line.row.name, line.row.service) == ("ErrorBudgetBurn", "ml-engine")
        )
        lead = table.lines[row].row
        assert (lead.severity, lead.state, lead.receivers) == ("critical", "active", ("pagerduty-critical",))
        members = [dict(r.labels) for r in table.lines[row].fold.members]  # Alertmanager's own labels
        shared = {k: v for k, v in members[0].items() if all(m.get(k) == v for m in members)}
        table.move_cursor(row=row)
        await pilot.press("s")
        form = pilot.app.screen
        assert isinstance(form, SilenceForm)
        assert form.query_one("#silence-matchers").value == " ".join(
            f'{k}="{shared[k]}"' for k in ("alertname", "job", "severity") if k in shared
        )
        await pilot.press(*"ml-engine spike, on it", "enter")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y")
        for _ in range(200):
            if not isinstance(pilot.app.screen, (SilenceForm, ConfirmScreen)):
                break
            await pilot.pause(0.05)
        # Alertmanager itself now suppresses both critical burn-rate alerts of ml-engine (1h and 6h).
        pages = _one(chain.am_alerts(), alertname="ErrorBudgetBurn", job="ml-engine", severity="critical")
        silences = {s for a in pages for s in a["status"]["silencedBy"]}
        assert len(pages) == 2 and {a["status"]["state"] for a in pages} == {"suppressed"} and len(silences) == 1, pages
        (silence_id,) = silences
        made = httpx.get(f"{chain.alertmanager}/api/v2/silence/{silence_id}", timeout=10).json()
        assert (made["createdBy"], made["comment"], made["status"]["state"]) == (
            "oncall",
            "ml-engine spike, on it",
            "active",
        )
        # Expire it from the silences list: the pages are active again.
        await pilot.press("S")
        listing = pilot.app.screen
        assert isinstance(listing, SilencesScreen)
        for _ in range(200):
            if any(s.id == silence_id for s in listing.silences):
                break
            await pilot.pause(0.05)
        listing.query_one("#silences-table").move_cursor(row=[s.id for s in listing.silences].index(silence_id))
        await pilot.press("x", "y")
        for _ in range(200):
            if (
                httpx.get(f"{chain.alertmanager}/api/v2/silence/{silence_id}", timeout=10).json()["status"]["state"]
                == "expired"
            ):
                break
            await pilot.pause(0.05)
    pages = _one(chain.am_alerts(), alertname="ErrorBudgetBurn", job="ml-engine", severity="critical")
    assert {a["status"]["state"] for a in pages} == {"active"}, pages


def test_high_error_rate_fires_within_minutes_pages_and_shows_its_detection(chain) -> None:
    # Pending from the first evaluation, firing once 2 minutes have passed: about 2.5 min after the start.
    fired = wait_for(
        "HighErrorRate in Alertmanager",
        lambda: _one(chain.am_alerts(), alertname="HighErrorRate"),
        timeout=HIGH_ERROR_RATE_FOR + 4 * EVALUATION + 90,
    )
    # Only the service whose incident is running, routed to the pager.
    assert [a["labels"]["job"] for a in fired] == [chain.spike.service]
    assert [r["name"] for r in fired[0]["receivers"]] == ["pagerduty-critical"] and fired[0]["status"][
        "state"
    ] == "active"
    code, rows = chain.zeta_alerts("--severity", "critical")
    assert code == 1
    high = next(r for r in rows if r["alertname"] == "HighErrorRate")
    assert (high["service"], high["state"], high["source"], high["receivers"]) == (
        "ml-engine",
        "active",
        "alertmanager",
        ["pagerduty-critical"],
    )
    # Detection: from the condition holding to firing is the rule's `for`, to within an evaluation
    # (and a millisecond: Alertmanager keeps milliseconds of Prometheus's nanosecond activeAt).
    assert HIGH_ERROR_RATE_FOR - 0.01 <= high["detection_seconds"] <= HIGH_ERROR_RATE_FOR + EVALUATION, high
    # The 5xx share in the summary is Prometheus's own figure, read with httpx.
    ratio = httpx.get(
        f"{chain.prometheus}/api/v1/query",
        timeout=10,
        params={
            "query": (
                'sum by (job) (rate(http_requests_total{job="ml-engine",status=~"5.."}[5m])) / sum by (job) '
                '(rate(http_requests_total{job="ml-engine"}[5m]))'
            )
        },
    ).json()["data"]["result"][0]["value"][1]
    assert (
        float(ratio) > 0.05
        and high["summary"].startswith("ml-engine answers ")
        and high["summary"].endswith("% of requests with 5xx")
    )

    # The webhook sink (PagerDuty's stand-in) got the page after Alertmanager's group_wait.
    def paged() -> bool:
        if not chain.notifications.exists():
            return False
        sent = [json.loads(line) for line in chain.notifications.read_text().splitlines()]
        return any(
            n["receiver"] == "pagerduty-critical"
            and n["status"] == "firing"
            and any(a["labels"].get("alertname") == "HighErrorRate" for a in n["alerts"])
            for n in sent
        )

    wait_for("the HighErrorRate page in the webhook sink", paged, timeout=GROUP_WAIT + 60)


async def test_the_alert_detail_graphs_the_rule_with_its_threshold(chain) -> None:
    from zeta_tui.screens.alert_detail import AlertDetailScreen
    from zeta_tui.widgets.line_chart import LineChart

    wait_for("HighErrorRate in Prometheus", lambda: _one(chain.prom_alerts(), alertname="HighErrorRate"), timeout=60)
    async with chain.app().run_test(size=(160, 50)) as pilot:
        detail = await open_alert(pilot, "HighErrorRate")
        assert isinstance(detail, AlertDetailScreen)
        assert detail.snapshot.error is None, detail.snapshot.error
        lines = {line.label: line for line in detail.query_one(LineChart).lines}
        assert set(lines["threshold > 0.05"].ys) == {0.05}
        # Only the alert's own series: ml-engine's ratio, not every job's.
        ratio = lines.pop("job=ml-engine")
        assert list(lines) == ["threshold > 0.05"]
        # The window opens before the spike reached Prometheus's history and ends in it.
        assert ratio.ys[-1] > 0.05 and min(ratio.ys) < 0.05, ratio.ys
        # A burn-rate page graphs both its windows' recorded ratios against the factor x 0.1 %.
        await pilot.press("escape")
        detail = await open_alert(pilot, "ErrorBudgetBurn")
        assert detail.snapshot.error is None, detail.snapshot.error
        labels = detail.row.labels
        factor = {"1h": 14.4, "6h": 6, "1d": 3, "3d": 1}[labels["long_window"]]  # the SRE workbook's table
        lines = {line.label: line for line in detail.query_one(LineChart).lines}
        assert set(lines) == {
            f"ratio_rate{labels['long_window']}",
            f"ratio_rate{labels['short_window']}",
            f"threshold > {factor * 0.001:g}",
        }
        assert all(
            line.ys and line.ys[-1] > factor * 0.001 for label, line in lines.items() if label.startswith("ratio_rate")
        )
        # The recorded ratios exist only since this Prometheus started; their rules' expressions
        # over the backfilled requests reach back to the window's start.
        start, _end = detail.window
        assert all(line.xs[0] < start + 60 for label, line in lines.items() if label.startswith("ratio_rate")), {
            label: line.xs[0] - start for label, line in lines.items()
        }
