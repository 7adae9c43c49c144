"""Plain-text tables for headless output: aligned columns, no colour, no box drawing."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = (), gap: str = "  "
) -> str:
    """Columns padded to their widest cell; column indexes in ``right`` are right-aligned.

    The last column is never padded, so long error texts do not drag trailing spaces along.
    """
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = []
    for row in (headers, *rows):
        cells = []
        for i, cell in enumerate(row):
            text = str(cell)
            if i == len(row) - 1 and i not in right:
                cells.append(text)
            elif i in right:
                cells.append(text.rjust(widths[i]))
            else:
                cells.append(text.ljust(widths[i]))
        lines.append(gap.join(cells).rstrip())
    return "\n".join(lines)
