"""Query history per screen, kept in the XDG state dir between runs (newest last, bounded)."""

from __future__ import annotations

from pathlib import Path

from zeta_tui.config.paths import state_dir

KEEP = 500


class QueryHistory:
    """One file per kind (logs, sql, ...), one query per line."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or state_dir() / "history"

    def _file(self, kind: str) -> Path:
        return self.folder / f"{kind}.txt"

    def load(self, kind: str) -> list[str]:
        try:
            return [line for line in self._file(kind).read_text(encoding="utf-8").splitlines() if line.strip()][-KEEP:]
        except OSError:
            return []  # no history yet, or unreadable: start empty rather than fail

    def append(self, kind: str, query: str) -> None:
        query = " ".join(query.split())  # one line per entry
        if not query:
            return
        entries = [q for q in self.load(kind) if q != query] + [query]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file(kind).write_text("\n".join(entries[-KEEP:]) + "\n", encoding="utf-8")
        except OSError:
            pass  # history is a convenience; a read-only home must not break the console
