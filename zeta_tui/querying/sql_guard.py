"""A friendly first answer to SQL that would write: which statement it is and why it is refused.

This is not the guard. Every console query runs with ClickHouse's own ``readonly = 1`` (see
zeta_tui.backends.clickhouse_engine), so a write that slips past these words is still refused
by ClickHouse (code 164, READONLY). This module only lets the console say, before anything is
sent, "INSERT writes data: the SQL console is read-only" instead of the server's error text,
and refuses input holding more than one statement (ClickHouse runs only one per request, and
an embedded store would run them one after the other).
"""

from __future__ import annotations

import re

#: statements the console runs
READ_STATEMENTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS")

_WHY = {
    "INSERT": "writes rows",
    "ALTER": "changes a table or its rows",
    "DROP": "deletes a table, view or database",
    "CREATE": "creates a table, view or database",
    "TRUNCATE": "deletes every row of a table",
    "DELETE": "deletes rows",
    "UPDATE": "changes rows",
    "OPTIMIZE": "rewrites a table's parts",
    "SYSTEM": "controls the server",
    "KILL": "stops other queries",
    "GRANT": "changes access rights",
    "REVOKE": "changes access rights",
    "SET": "changes session settings",
    "RENAME": "renames a table or database",
    "EXCHANGE": "swaps tables",
    "ATTACH": "attaches a table or database",
    "DETACH": "detaches a table or database",
    "UNDROP": "restores a dropped table",
    "REPLACE": "replaces a table",
    "BACKUP": "writes a backup",
    "RESTORE": "restores a backup",
    "MOVE": "moves data",
    "USE": "changes the session's database",
}

# String literals, quoted identifiers and comments, so keywords inside them are not read as SQL.
_TOKENS = re.compile(
    r"'(?:[^'\\]|\\.|'')*'?"  # 'string' (unterminated runs to the end)
    r"|\"(?:[^\"\\]|\\.)*\"?"  # "identifier"
    r"|`(?:[^`\\]|\\.)*`?"  # `identifier`
    r"|--[^\n]*|#[^\n]*"  # line comments
    r"|/\*.*?(?:\*/|\Z)",  # block comments
    re.S,
)
_WORD = re.compile(r"[A-Za-z_]+")


def _code(sql: str) -> str:
    """``sql`` with literals blanked to '' and comments to a space (keeps statement structure)."""

    def repl(m: re.Match[str]) -> str:
        text = m.group(0)
        if text.startswith(("--", "#", "/*")):
            return " "
        return text[0] * 2

    return _TOKENS.sub(repl, sql)


def statements(sql: str) -> list[str]:
    """The statements of ``sql`` (literals blanked, comments dropped), empty ones left out."""
    return [s.strip() for s in _code(sql).split(";") if s.strip()]


def statement_kind(sql: str) -> str:
    """The leading keyword of ``sql``'s first statement, upper-case ('' when there is none)."""
    parts = statements(sql)
    if not parts:
        return ""
    m = _WORD.search(parts[0].lstrip("( \t\r\n"))
    return m.group(0).upper() if m else ""


def write_refusal(sql: str) -> str | None:
    """Why the console will not run ``sql``, as one sentence; None for a read-only statement.

    A leading word that is neither a read nor a known write (a typo such as ``SELEC``) passes:
    ClickHouse answers it with its own syntax error, and readonly = 1 still holds.
    """
    parts = statements(sql)
    if not parts:
        return "there is no statement to run (the text is empty or only comments)"
    if len(parts) > 1:
        kinds = ", ".join(dict.fromkeys(statement_kind(p) or "?" for p in parts))
        return (
            f"the text holds {len(parts)} statements ({kinds}); the SQL console is read-only and runs one SELECT-like "
            "statement at a time"
        )
    kind = statement_kind(parts[0])
    if kind in _WHY:
        what = _WHY[kind]
        allowed = f"{', '.join(READ_STATEMENTS[:-1])} and {READ_STATEMENTS[-1]}"
        return f"{kind} {what}; the SQL console is read-only and runs only {allowed} statements"
    upper = parts[0].upper()
    if re.search(r"\bINTO\s+OUTFILE\b", upper):
        return "SELECT ... INTO OUTFILE writes a file; the SQL console is read-only (export the result instead)"
    return None


__all__ = ["READ_STATEMENTS", "statement_kind", "statements", "write_refusal"]
