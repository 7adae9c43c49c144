"""The alerts table on its own (no backend): an open fold stays open and the cursor stays on its
alert while refreshes add and resolve members; a fold that shrinks to one alert becomes that
alert's row; names stay whole at 80 columns whatever the summaries."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from zeta_tui.models.alert_overview import AlertRow, fold_rows, service_labels
from zeta_tui.widgets.alert_table import AlertTable

pytestmark = pytest.mark.console  # Textual's pilot

NOW = 10_000.0


def _training(tenant: str, minutes: int) -> AlertRow:
    return AlertRow(
        labels={"alertname": "ModelTrainingFailed", "job": "ml-engine", "tenant_id": tenant, "severity": "warning"},
        annotations={"summary": f"Model training failed for {tenant} " + "and more words " * 8},
        state="active",
        since=NOW - minutes * 60,
        source="alertmanager",
        fingerprint=f"fp-{tenant}",
    )


OTHER = AlertRow(
    labels={"alertname": "PrometheusNotConnectedToAlertmanagers", "job": "prometheus", "severity": "critical"},
    annotations={"summary": "Prometheus is not connected to any Alertmanager " * 3},
    state="active",
    since=NOW - 60,
    source="alertmanager",
    fingerprint="fp-other",
)


class _TableApp(App):
    def compose(self) -> ComposeResult:
        yield AlertTable(id="t")


def _show(table: AlertTable, tenants: dict[str, int]) -> None:
    rows = [OTHER, *(_training(t, m) for t, m in tenants.items())]
    table.show(fold_rows(rows, service_labels("job")), NOW)


def _tenant(table: AlertTable) -> str | None:
    line = table.current_line()
    return line.member.labels["tenant_id"] if line is not None and line.member is not None else None


async def test_an_open_fold_and_the_cursor_outlive_refreshes() -> None:
    async with _TableApp().run_test(size=(80, 24)) as pilot:
        table = pilot.app.query_one(AlertTable)
        _show(table, {"t1": 1, "t2": 2, "t3": 3, "t4": 4})
        await pilot.pause()
        assert [line.fold.name for line in table.lines] == [
            "PrometheusNotConnectedToAlertmanagers",
            "ModelTrainingFailed",
        ]
        table.move_cursor(row=1)
        assert table.toggle()
        table.move_cursor(row=4)  # the fold's line, then t1, t2, t3
        assert _tenant(table) == "t3"
        # A refresh: t1 resolved, t5 new (the newest, so first). The fold stays open, the cursor on t3.
        _show(table, {"t5": 0, "t2": 2, "t3": 3, "t4": 4})
        await pilot.pause()
        assert [line.row.labels.get("tenant_id") for line in table.lines[2:]] == ["t5", "t2", "t3", "t4"]
        assert _tenant(table) == "t3"
        # t3 resolves: the cursor takes the line that took its place.
        _show(table, {"t5": 0, "t2": 2, "t4": 4})
        await pilot.pause()
        assert _tenant(table) == "t4"
        # Down to one: no fold, the alert's own row, and the cursor on it.
        _show(table, {"t4": 4})
        await pilot.pause()
        assert len(table.lines) == 2 and not table.lines[1].fold.is_group
        assert table.cursor_row == 1 and table.current().labels["tenant_id"] == "t4"
        # Back to two: folded again (a fold that went away is not remembered as open).
        _show(table, {"t4": 4, "t6": 0})
        await pilot.pause()
        assert len(table.lines) == 2 and table.lines[1].is_fold


@pytest.mark.parametrize("width", [80, 100])
async def test_names_are_whole_below_120_columns_and_the_summary_is_not_a_column(width) -> None:
    async with _TableApp().run_test(size=(width, 24)) as pilot:
        table = pilot.app.query_one(AlertTable)
        _show(table, {"t1": 1, "t2": 2})
        await pilot.pause()
        widths = table.fitted_widths
        assert "summary" not in widths and "receiver" not in widths
        assert sum(widths.values()) + 2 * len(widths) <= width - 2
        for line in table.lines:
            cell = str(table.get_row(line.key)[list(widths).index("alert")])
            assert line.fold.name in cell and len(cell) <= widths["alert"]
