"""An alert's culprits as a table: one row per role (pod, endpoint, tenant, message, status, then
any other label that tells the failures apart), its top value and share.

A row merges what Prometheus and the logs say of the same value (``prom 82% · log 97%``), and
names the runner-up (``ml-engine-0:8000 18%``) so a share reads against the rest. At 80 columns
the sources and the runner-up give way to the value; a message pattern is cut at its end, and the
facts under the table have the top patterns whole.
"""

from __future__ import annotations

from rich.text import Text

from zeta_tui.models.evidence import Culprit, Evidence, Finding
from zeta_tui.widgets.fitted_table import Column, CutAtEnd, FittedTable

BAR_CELLS = 5

COLUMNS = (
    Column("Where", "role", 8, name=True),
    Column("Value", "value", 16, name=True),
    Column("Share", "share", BAR_CELLS + 6),
    Column("Seen in", "sources", 9, name=True, drop=2),
    Column("Next", "next", 12, name=True, drop=1),
)


def share_cell(share: float) -> Text:
    """The share as a bar of BAR_CELLS cells and a percentage: ``████░  82%`` (a share that exists is
    never drawn as no bar)."""
    cells = round(max(0.0, min(1.0, share)) * BAR_CELLS)
    if share > 0 and cells == 0:
        cells = 1
    return Text.assemble(("█" * cells, "bold"), ("░" * (BAR_CELLS - cells), "dim"), f" {100 * share:4.0f}%")


def _percent(c: Culprit) -> str:
    return f"{100 * c.share:.0f}%"


def sources_text(f: Finding) -> str:
    """``prom 82% · log 97%``: each source's share of the value."""
    return " · ".join(f"{'prom' if c.source == 'metrics' else 'log'} {_percent(c)}" for c in f.culprits)


def next_text(f: Finding) -> str:
    """The runner-up and its share, its value cut to NEXT_CELLS (a message pattern is long)."""
    if f.runner_up is None:
        return ""
    value = f.runner_up.value
    value = value if len(value) <= NEXT_CELLS else value[: NEXT_CELLS - 1] + "…"
    return f"{value} {_percent(f.runner_up)}"


#: a message pattern's cells at most: the facts under the table have it whole, and the sources and
#: the runner-up keep their columns on a wide terminal
MESSAGE_CELLS = 60
NEXT_CELLS = 28


def _value(f: Finding) -> str:
    # A message pattern's start says what failed; it is cut at its end, not in its middle.
    if f.role != "message":
        return f.value
    return CutAtEnd(f.value if len(f.value) <= MESSAGE_CELLS else f.value[: MESSAGE_CELLS - 1] + "…")


class EvidenceTable(FittedTable):
    """The findings of one alert; ``finding()`` is the one under the cursor."""

    def __init__(self, **kwargs) -> None:
        super().__init__(COLUMNS, **kwargs)
        self.evidence = Evidence("failures")
        self.rows_shown: list[Finding] = []

    def show(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.rows_shown = evidence.findings()
        self.show_rows(
            [
                (f"{f.role}={f.value}", [f.role, _value(f), share_cell(f.share), sources_text(f), next_text(f)])
                for f in self.rows_shown
            ]
        )

    def finding(self) -> Finding | None:
        row = self.cursor_coordinate.row
        return self.rows_shown[row] if self.row_count and 0 <= row < len(self.rows_shown) else None
