"""The Alerts screen's folds, by keys, over a real Alertmanager holding five ModelTrainingFailed
of ml-engine that differ by tenant_id (one silenced) and a HighLatency page, and a real
Prometheus holding another endpoint's HighLatency pending (tests/support/fold_world.py). What
the rows should say is worked out from what the test sent: the groups, their counts and
states, the tenants in order, the matchers a silence should carry."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.support import fold_world as fw
from tests.support.console import settled
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, LabelsConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.alert_detail import AlertDetailScreen
from zeta_tui.screens.alerts import AlertsScreen
from zeta_tui.screens.silences import SilenceForm
from zeta_tui.widgets.alert_table import AlertPreview, AlertTable

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

SEVERITY = ("critical", "error", "warning", "info")
URGENCY = ("active", "pending", "silenced")


@pytest.fixture(scope="module")
def am(tmp_path_factory):
    yield from fw.loaded_alertmanager(tmp_path_factory.mktemp("fold-alertmanager"))


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    yield from fw.pending_prometheus(tmp_path_factory.mktemp("fold-prometheus"))


def _app(am_url: str, prom_url: str | None = None, labels: LabelsConfig | None = None):
    context = ContextConfig(
        alertmanager=AlertmanagerConfig(url=am_url),
        prometheus=PrometheusConfig(url=prom_url) if prom_url else None,
        labels=labels or LabelsConfig(),
    )
    return build_app(ZetaConfig(default_context="f", contexts={"f": context}), "f", clock=lambda: fw.NOW, live=False)


async def _alerts(pilot) -> tuple[AlertsScreen, AlertTable]:
    await pilot.press("5")
    screen = await settled(pilot)
    return screen, screen.query_one(AlertTable)


def _expected_members() -> list[tuple[dict[str, str], str, float]]:
    """Every alert as (labels, state, started minutes ago), from what was sent."""
    rows = []
    for alert, minutes in fw.SENT:
        labels = alert["labels"]
        state = "silenced" if labels.get("tenant_id") == fw.SILENCED_TENANT else "active"
        rows.append((labels, state, minutes))
    rows += [(labels, "pending", 0.0) for labels in fw.PENDING]
    return rows


def _expected_folds() -> list[tuple[str, int, dict[str, int]]]:
    """(name, count, states) of each fold in the order the screen should show them: each group
    placed by its most severe, then most urgent, then newest member (severity, then newest)."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for labels, state, minutes in _expected_members():
        groups[(labels["alertname"], labels["job"])].append((labels, state, minutes))
    placed = []
    for (name, _), members in groups.items():
        lead = min(members, key=lambda m: (SEVERITY.index(m[0]["severity"]), URGENCY.index(m[1]), m[2]))
        states: dict[str, int] = defaultdict(int)
        for _, state, _ in members:
            states[state] += 1
        placed.append(((SEVERITY.index(lead[0]["severity"]), lead[2], name), (name, len(members), dict(states))))
    return [entry for _, entry in sorted(placed)]


async def test_identical_alerts_fold_and_every_name_is_whole_at_80_columns(am, prom) -> None:
    async with _app(am.url, prom.url).run_test(size=(80, 24)) as pilot:
        screen, table = await _alerts(pilot)
        got = [(line.fold.name, line.fold.count, dict(line.fold.states)) for line in table.lines]
        assert got == _expected_folds()
        training = next(line for line in table.lines if line.fold.name == "ModelTrainingFailed")
        assert training.is_fold and training.fold.distinguishing == ("tenant_id",)
        cells = [str(c) for c in table.get_row(training.key)]
        # Four of the five fire (one is silenced): the count leads the state; the name is whole.
        assert cells[1] == f"{len(fw.TENANTS) - 1} FIRING" and cells[2] == f"▸ ModelTrainingFailed ×{len(fw.TENANTS)}"
        widths = table.fitted_widths
        assert sum(widths.values()) + 2 * len(widths) <= 80 - 2  # the table fits: nothing scrolls off
        names = {labels["alertname"] for labels, _, _ in _expected_members()}
        for line in table.lines:
            alert = str(table.get_row(line.key)[list(widths).index("alert")])
            assert line.fold.name in alert and len(alert) <= widths["alert"], (alert, widths)
        assert {line.fold.name for line in table.lines} == names
        assert "summary" not in widths  # below 120 columns the summary is the preview's
        table.move_cursor(row=table.lines.index(training))
        await pilot.pause()
        preview = str(screen.query_one(AlertPreview).render())
        assert "ModelTrainingFailed ×5 on ml-engine: 4 firing, 1 silenced, by tenant_id" in preview, preview


async def test_enter_opens_a_fold_a_member_opens_its_evidence_and_esc_comes_back(am) -> None:
    # The tenants in the order the members should follow: firing before silenced, newest first.
    order = sorted(
        ((a["labels"]["tenant_id"], minutes) for a, minutes in fw.TRAINING),
        key=lambda t: (t[0] == fw.SILENCED_TENANT, t[1]),
    )
    tenants = [t for t, _ in order]
    async with _app(am.url).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        screen, table = await _alerts(pilot)
        fold_row = next(i for i, line in enumerate(table.lines) if line.fold.name == "ModelTrainingFailed")
        lines_before = len(table.lines)
        table.move_cursor(row=fold_row)
        await pilot.press("enter")
        await pilot.pause()
        assert len(table.lines) == lines_before + len(tenants)
        members = table.lines[fold_row + 1 : fold_row + 1 + len(tenants)]
        assert [m.row.labels["tenant_id"] for m in members] == tenants
        assert [str(table.get_row(m.key)[2]).split()[-1] for m in members] == tenants  # named by tenant
        assert table.current_line() is table.lines[fold_row]  # the cursor stays on the fold
        assert str(table.get_row(table.lines[fold_row].key)[2]).startswith("▾ ")
        await pilot.press("down", "down")
        chosen = table.current_line()
        assert chosen is not None and chosen.row.labels["tenant_id"] == tenants[1]
        assert f"tenant_id={tenants[1]}" in str(screen.query_one(AlertPreview).render())
        await pilot.press("enter")
        detail = await settled(pilot)
        assert isinstance(detail, AlertDetailScreen) and detail.row.labels["tenant_id"] == tenants[1]
        await pilot.press("escape")
        back = await settled(pilot)
        assert back is screen and app.current_mode == "alerts"
        # The fold still open, the cursor on the same tenant.
        assert len(table.lines) == lines_before + len(tenants)
        assert table.current_line().row.labels["tenant_id"] == tenants[1]
        await pilot.press("left")  # from a member: the fold closes, the cursor on its line
        assert len(table.lines) == lines_before and table.cursor_row == fold_row
        await pilot.press("right")
        assert len(table.lines) == lines_before + len(tenants)
        await pilot.press("space")
        assert len(table.lines) == lines_before and table.cursor_row == fold_row
        await pilot.press("space")
        assert len(table.lines) == lines_before + len(tenants)
        # Space on an alert alone changes nothing.
        alone = next(i for i, line in enumerate(table.lines) if not line.fold.is_group)
        table.move_cursor(row=alone)
        await pilot.press("space")
        assert len(table.lines) == lines_before + len(tenants) and table.cursor_row == alone
        # Enter on an alert alone opens its evidence, as before folds.
        await pilot.press("enter")
        detail = await settled(pilot)
        assert isinstance(detail, AlertDetailScreen) and detail.row.name == table.lines[alone].fold.name


async def test_s_silences_the_whole_fold_or_one_member(am) -> None:
    labels = [a["labels"] for a, _ in fw.TRAINING]
    shared = {k: v for k, v in labels[0].items() if all(other.get(k) == v for other in labels)}
    # The identifying labels zeta puts in a silence, in its order, of those the five share.
    expected_all = " ".join(f'{k}="{shared[k]}"' for k in ("alertname", "job", "severity", "instance") if k in shared)
    async with _app(am.url).run_test(size=(120, 40)) as pilot:
        _, table = await _alerts(pilot)
        fold_row = next(i for i, line in enumerate(table.lines) if line.fold.name == "ModelTrainingFailed")
        table.move_cursor(row=fold_row)
        await pilot.press("s")
        form = pilot.app.screen
        assert isinstance(form, SilenceForm)
        assert form.query_one("#silence-matchers").value == expected_all
        await pilot.press("escape")
        await pilot.press("enter", "down")
        member = table.current_line()
        assert member is not None and member.member is not None
        await pilot.press("s")
        form = pilot.app.screen
        tenant = member.row.labels["tenant_id"]
        assert form.query_one("#silence-matchers").value == f'{expected_all} tenant_id="{tenant}"'
        await pilot.press("escape")


async def test_the_contexts_service_label_decides_what_folds(am) -> None:
    # A context whose conventions name tenant_id the service (odd, but it shows the setting is
    # read): the five failures are five services, none folded.
    async with _app(am.url, labels=LabelsConfig(service="tenant_id")).run_test(size=(120, 40)) as pilot:
        screen, table = await _alerts(pilot)
        training = [line for line in table.lines if line.fold.name == "ModelTrainingFailed"]
        assert sorted(line.fold.service for line in training) == sorted(fw.TENANTS)
        assert not any(line.fold.is_group for line in table.lines)
        assert "By" not in [str(c.label) for c in table.columns.values()]
        assert not screen.check_action("fold", ())  # Space leaves the footer: nothing folds
