"""Query history per screen, kept in the XDG state dir between runs (newest last, bounded).

One-line queries (log searches) are stored one per line in ``<kind>.txt``; multi-line ones
(SQL, where a newline can end a ``--`` comment) as one JSON string per line in ``<kind>.jsonl``,
so they come back exactly as typed.
"""

from __future__ import annotations

import json
from pathlib import Path

from zeta_tui.config.paths import state_dir

KEEP = 500


class QueryHistory:
    """One file per kind (logs, sql, ...), one query per line."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or state_dir() / "history"

    def _file(self, kind: str, multiline: bool = False) -> Path:
        return self.folder / f"{kind}.{'jsonl' if multiline else 'txt'}"

    def load(self, kind: str, *, multiline: bool = False) -> list[str]:
        try:
            lines = [
                line for line in self._file(kind, multiline).read_text(encoding="utf-8").splitlines() if line.strip()
            ]
        except OSError:
            return []  # no history yet, or unreadable: start empty rather than fail
        if not multiline:
            return lines[-KEEP:]
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a damaged line loses one entry, not the history
            if isinstance(entry, str):
                entries.append(entry)
        return entries[-KEEP:]

    def append(self, kind: str, query: str, *, multiline: bool = False) -> None:
        query = query.strip() if multiline else " ".join(query.split())  # one line per entry
        if not query:
            return
        entries = [q for q in self.load(kind, multiline=multiline) if q != query] + [query]
        lines = [json.dumps(q) for q in entries[-KEEP:]] if multiline else entries[-KEEP:]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file(kind, multiline).write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError:
            pass  # history is a convenience; a read-only home must not break the console
