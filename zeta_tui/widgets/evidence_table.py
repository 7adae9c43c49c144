"""An alert's culprits as a table: where the failures are, by label and by log field.

One row per culprit (models/evidence.py): the source (metrics or logs), the dimension as the
source spells it (``instance``, ``tenant_id``, ``message``), the value, its share of the failures
as a bar and a percentage, and the count. A message is a name like any other: the table fits
it to the width, cut in the middle, and the record detail has it whole.
"""

from __future__ import annotations

from rich.text import Text

from zeta_tui.models.evidence import Culprit, Evidence
from zeta_tui.widgets.fitted_table import Column, FittedTable

BAR_CELLS = 5

COLUMNS = (
    Column("From", "source", 4, drop=2),
    Column("Where", "dimension", 8, name=True),
    Column("Value", "value", 14, name=True),
    Column("Share", "share", BAR_CELLS + 6),
    Column("Count", "count", 7, drop=1),
)


def share_cell(share: float) -> Text:
    """The share as a bar of BAR_CELLS cells (reversed spaces: drawn the same in every font) and a
    percentage: ``███   82%``."""
    cells = round(max(0.0, min(1.0, share)) * BAR_CELLS)
    if share > 0 and cells == 0:
        cells = 1  # a share that exists is never drawn as none
    return Text.assemble((" " * cells, "reverse"), " " * (BAR_CELLS - cells), f" {100 * share:4.0f}%")


def culprit_key(index: int) -> str:
    return f"culprit-{index}"


def _count(c: Culprit) -> str:
    return f"{c.count:,.0f}" if c.count >= 1 or c.count == 0 else f"{c.count:.2f}"


class EvidenceTable(FittedTable):
    """The culprits of one alert; ``culprit()`` is the one under the cursor."""

    def __init__(self, **kwargs) -> None:
        super().__init__(COLUMNS, **kwargs)
        self.evidence = Evidence("failures")

    def show(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.show_rows(
            [
                (
                    culprit_key(i),
                    [
                        "log" if c.source == "logs" else "prom",
                        c.dimension,
                        c.value,
                        share_cell(c.share),
                        _count(c),
                    ],
                )
                for i, c in enumerate(evidence.culprits)
            ]
        )

    def culprit(self) -> Culprit | None:
        if not self.row_count or not self.evidence.culprits:
            return None
        row = self.cursor_coordinate.row
        return self.evidence.culprits[row] if 0 <= row < len(self.evidence.culprits) else None
