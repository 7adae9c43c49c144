"""The last answer of a slow screen, kept in the XDG cache dir so the next start draws it at once.

A screen whose first answer is slow to come (the Tenants screen opens an embedded ClickHouse
first, half a second) shows the answer it had last time, marked stale with its age, while it
asks again. Entries are JSON (never pickle: a file on disk must not be able to run code), one
file per context and screen, written with mode 600 because they hold tenant names and usage.
A missing, unreadable or damaged entry is simply no entry.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from zeta_tui.config.paths import cache_dir

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class AnswerCache:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or cache_dir() / "answers"

    def _file(self, context: str, screen: str) -> Path:
        return self.folder / f"{_SAFE.sub('_', context)}.{_SAFE.sub('_', screen)}.json"

    def load(self, context: str, screen: str) -> dict[str, Any] | None:
        import orjson

        try:
            entry = orjson.loads(self._file(context, screen).read_bytes())
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and isinstance(entry.get("saved_at"), (int, float)) else None

    def save(self, context: str, screen: str, entry: dict[str, Any]) -> None:
        import orjson

        path = self._file(context, screen)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(orjson.dumps(entry, default=str))
            os.replace(tmp, path)
        except OSError:
            pass  # a cache is a convenience: a read-only home must not break the console
