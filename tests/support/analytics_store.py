"""A fresh analytics database (what `zeta clickhouse init` creates) inside the chdb store this test process uses.

chdb holds one store path per process, and other test modules open theirs; so an analytics
test does not open a second path: it creates its own DATABASE inside whatever store the process
already has open (through zeta_tui.backends.chdb_store), or opens a
new store when none is, and drops the database (and closes a store it opened) afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from zeta_tui.backends import chdb_store
from zeta_tui.config.models import ClickHouseConfig


class AnalyticsDatabase:
    """``database`` inside the store at ``path``: the schema created (unless not ``fresh``), rows
    inserted by the test itself."""

    def __init__(self, root: Path, *, fresh: bool = True) -> None:
        open_paths = list(chdb_store._sessions)
        self.opened_here = not open_paths
        self.path = open_paths[0] if open_paths else str(root / "store")
        self.session = chdb_store.embedded_session(self.path, create=True)
        self.database = f"analytics_{uuid.uuid4().hex[:10]}"
        self.session.query("CREATE DATABASE {database:Identifier}", "CSV", params={"database": self.database})
        if fresh:
            self.init()

    def init(self, **options: Any) -> Any:
        """`zeta clickhouse init`'s work on this database (RollupInit.run's report); ``options`` go to RollupInit."""
        from zeta_tui.backends.clickhouse_engine import ClickHouseEngine
        from zeta_tui.backends.usage_rollup import RollupInit

        writer = ClickHouseEngine(self.config(), "clickhouse").writer()
        return RollupInit(writer, self.database, **options).run()

    def config(self, **overrides: Any) -> ClickHouseConfig:
        return ClickHouseConfig(path=self.path, database=self.database, **overrides)

    def insert(self, table: str, rows: Iterable[Mapping[str, object]]) -> int:
        """One INSERT (one part) of ``rows`` as JSONEachRow; returns how many."""
        lines = [orjson.dumps(dict(r), default=str) for r in rows]
        if lines:
            self.session.query(
                f"INSERT INTO {{database:Identifier}}.{table} FORMAT JSONEachRow\n" + b"\n".join(lines).decode(),
                "CSV",
                params={"database": self.database},
            )
        return len(lines)

    def scalar(self, sql: str) -> str:
        out = self.session.query(sql, "TSVRaw", params={"database": self.database})
        return (out.bytes() if hasattr(out, "bytes") else bytes(out)).decode().strip()

    def counts(self) -> dict[str, int]:
        """Rows per table (what an injection or a refused write must leave as it was)."""
        tables = ("api_usage", "zeta_api_usage_daily", "cost_data", "tenants")
        return {t: int(self.scalar(f"SELECT count() FROM {{database:Identifier}}.{t}")) for t in tables}

    def tables(self) -> list[str]:
        return self.scalar("SELECT name FROM system.tables WHERE database = {database:String} ORDER BY name").split()

    def parts(self, table: str) -> int:
        return int(
            self.scalar(
                "SELECT count() FROM system.parts WHERE database = {database:String} AND table = "
                f"'{table}' AND active"
            )
        )

    def optimize(self) -> None:
        for table in ("api_usage", "zeta_api_usage_daily", "cost_data", "tenants"):
            self.session.query(
                f"OPTIMIZE TABLE {{database:Identifier}}.{table} FINAL", "CSV", params={"database": self.database}
            )

    def close(self) -> None:
        self.session.query("DROP DATABASE IF EXISTS {database:Identifier}", "CSV", params={"database": self.database})
        if self.opened_here:
            chdb_store.close_embedded_session(self.path)
