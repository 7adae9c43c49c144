"""What the analytics screens (Tenants, a tenant, Cost, the SLO screen's tenant SLAs) share: the
ClickHouse source they need, whole UTC days, and the note they show when their usage figures
did not come from zeta's rollup.

On a database made by the seed's DDL there is no zeta_api_usage_daily: the catalog reads the
seed's api_usage_daily view (request counts) or aggregates api_usage inside ClickHouse
(querying/usage_sources.py), and each answer says so in its ``note``. The line is hidden while
every answer came from the rollup, so screens on a zeta database look as they always did.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from textual.widgets import Static

from zeta_tui.querying.usage_sources import merged_note


def today_utc(clock: float) -> date:
    """The UTC day of ``clock`` (usage is rolled up by whole UTC days)."""
    return datetime.fromtimestamp(clock, tz=UTC).date()


def day_seconds(d: date) -> float:
    """The unix time at which UTC day ``d`` begins."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


def require_clickhouse(screen: Any) -> Any:
    """The context's analytics source, or the error the pane shows instead."""
    return screen.app.session.require(
        "clickhouse", 'with path = "..." (an embedded store) or url = "https://clickhouse:8443"'
    )


def usage_note() -> Static:
    """The note line, hidden until there is something to say."""
    line = Static("", classes="usage-note")
    line.display = False
    return line


def show_usage_note(screen: Any, notes: Iterable[str]) -> None:
    """Show the answers' notes merged into one line (or hide the line when they have none)."""
    text = merged_note([n for n in notes if n])
    line = screen.query_one(".usage-note", Static)
    line.update(text, layout=False)
    line.display = bool(text)
