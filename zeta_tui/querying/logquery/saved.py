"""Saved log searches: one small TOML file per search in queries/logs/.

A file ``slow_requests.toml`` holds::

    name = "slow_requests"            # optional; defaults to the file name
    description = "Requests slower than a second"
    query = "latency_ms:>1000"

The same query works on every log backend. A file of the same name in the user's folder
(``user_dir``) replaces the shipped one. Each query is parsed when loaded, so a broken saved
search is reported by file before anyone runs it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from zeta_tui.errors import ConfigError, QueryError

from .ast import LogQuery
from .parse import parse_log_query


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A named log query shipped with Zeta or written by the user."""

    name: str
    description: str
    query: LogQuery
    path: Path

    @property
    def text(self) -> str:
        """The query as written in the file."""
        return self.query.text


def load_saved_searches(shipped_dir: Path, user_dir: Path | None = None) -> dict[str, SavedSearch]:
    """Saved searches by name, sorted by name; the user's files override shipped ones.

    ``shipped_dir`` is normally ``zeta_tui.resources.shipped_dir("queries") / "logs"``. A missing
    folder has no searches. Raises ConfigError naming the file for unreadable TOML, a missing
    ``query`` or a query that does not parse.
    """
    files: dict[str, Path] = {}
    for folder in (shipped_dir, user_dir):
        if folder is not None and folder.is_dir():
            files.update({path.stem: path for path in sorted(folder.glob("*.toml"))})
    searches = (_load(path) for _stem, path in sorted(files.items()))
    return {search.name: search for search in searches}


def _load(path: Path) -> SavedSearch:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(
            f"cannot read the saved search: {error}", hint="fix the TOML or delete the file", where=str(path)
        ) from None
    query = data.get("query")
    if not isinstance(query, str):
        raise ConfigError(
            'a saved search needs query = "..." (a string)', hint='e.g. query = "level:ERROR"', where=f"{path}: query"
        )
    try:
        parsed = parse_log_query(query)
    except QueryError as error:
        raise ConfigError(
            f"the saved query does not parse: {error.message}", hint=error.hint, where=f"{path}: query"
        ) from None
    name = data.get("name", path.stem)
    description = data.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ConfigError("name and description must be strings", where=str(path))
    return SavedSearch(name=name, description=description, query=parsed, path=path)
