"""The seed's ClickHouse text (../shared/seed/team-zeta-observability.md), read at test time and run verbatim.

The platform document is not copied into the repo: tests read it from ../shared (or
/work/shared) and skip, saying why, when it is absent. ``usage_ddl()`` is the ```sql block under
"Schema for Usage Analytics" (CREATE TABLE api_usage and the api_usage_daily SummingMergeTree
view), ``analytics_queries()`` the three queries under "Analytics Queries", ``cost_query()`` the
one under "Cost Analytics". Nothing is edited: a statement is the document's text from its
comment line to its ';'.

``SeedDatabase`` is a database in the test process's store made by running that DDL as the
document has it, in a chdb session of its own whose current database is the test's (the seed's
statements name no database).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.analytics_store import AnalyticsDatabase
from tests.support.servers import REPO

_DOC = Path("seed") / "team-zeta-observability.md"


def seed_text() -> str:
    """The platform document; skips the test when ../shared is absent."""
    for base in (REPO.parent / "shared", Path("/work/shared")):
        if (base / _DOC).is_file():
            return (base / _DOC).read_text(encoding="utf-8")
    pytest.skip(f"../shared/{_DOC} is absent (the seed's DDL and queries are read from it, outside the repo)")


def _block_after(heading: str) -> str:
    text = seed_text()
    at = text.find(heading)
    if at < 0:
        raise AssertionError(f"the seed has no heading {heading!r}")
    m = re.compile(r"```sql\n(.*?)```", re.S).search(text, at)
    assert m is not None, f"no ```sql block after {heading!r}"
    return m.group(1)


def statements(block: str) -> list[str]:
    """The statements of a block as written, each from its first line (comments included) to its ';'."""
    return [part.strip() + ";" for part in re.split(r";[ \t]*\n", block) if part.strip()]


def usage_ddl() -> str:
    """CREATE TABLE api_usage ...; CREATE MATERIALIZED VIEW api_usage_daily ...; as the seed has them."""
    return _block_after("### Schema for Usage Analytics")


def analytics_queries() -> dict[str, str]:
    """The seed's three analytics queries by their comment line ("Top 10 tenants by API usage", ...)."""
    out = {}
    for statement in statements(_block_after("### Analytics Queries")):
        title = statement.splitlines()[0].removeprefix("--").strip()
        out[title] = statement
    return out


def cost_query() -> str:
    """The seed's cost query (date, service, daily_cost, cost_per_call from cost_data)."""
    [statement] = statements(_block_after("## Cost Analytics"))
    return statement


class SeedDatabase(AnalyticsDatabase):
    """A database of the test process's store with the seed's DDL run in it verbatim.

    ``view=False`` runs only the DDL's first statement (CREATE TABLE api_usage): a database whose
    owner never made the view. ``zeta_tables``: cost_data and tenants from zeta's schema.sql
    (the seed's cost query reads cost_data, which the seed does not define).
    """

    def __init__(self, root: Path, *, view: bool = True, zeta_tables: bool = True) -> None:
        super().__init__(root, fresh=False)
        self.run_verbatim(usage_ddl() if view else statements(usage_ddl())[0])
        if zeta_tables:
            from zeta_tui.querying.sql_catalog import schema_statements

            for statement in schema_statements():  # IF NOT EXISTS: api_usage is the seed's
                self.session.query(statement, "CSV", params={"database": self.database})

    def run_verbatim(self, sql: str) -> None:
        """Run the seed's text as it is, in a session whose current database is this one."""
        from chdb import session as chdb_session

        own = chdb_session.Session(str(Path(self.path).expanduser().resolve()))
        try:
            own.query(f"USE {self.database}")
            own.query(sql)
        finally:
            own.close()

    def fingerprint(self) -> dict[str, tuple[str, ...]]:
        """Per table that is not zeta's (the seed's api_usage, its view and the view's inner table; not
        events, which init creates where the seed has none): SHOW CREATE, a checksum of every row, and
        each active part's name and hash of its files.

        What must not change when zeta runs: the definition, the rows, and the bytes on disk.
        Merge the parts first (OPTIMIZE ... FINAL), or a background merge may rename them.
        """
        out = {}
        for table in self.scalar(
            "SELECT name FROM system.tables WHERE database = {database:String} AND name NOT LIKE 'zeta%' "
            "AND name NOT IN ('cost_data', 'tenants', 'events') ORDER BY name"
        ).splitlines():
            params = {"database": self.database, "t": table}
            create = self._text("SHOW CREATE TABLE {database:Identifier}.{t:Identifier}", params)
            rows = self._text(
                "SELECT concat(toString(count()), ':', toString(sum(cityHash64(*)))) "
                "FROM {database:Identifier}.{t:Identifier}",
                params,
            )
            parts = self._text(
                "SELECT arrayStringConcat(groupArray(concat(name, '=', hash_of_all_files)), ',') "
                "FROM (SELECT name, hash_of_all_files FROM system.parts WHERE database = {database:String} "
                "AND table = {t:String} AND active ORDER BY name)",
                params,
            )
            out[table] = (create, rows, parts)
        return out

    def _text(self, sql: str, params: dict) -> str:
        out = self.session.query(sql, "TSVRaw", params=params)
        return (out.bytes() if hasattr(out, "bytes") else bytes(out)).decode().strip()
