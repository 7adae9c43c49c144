"""The log source for a context's [logs] section; each adapter is imported only when used."""

from __future__ import annotations

from zeta_tui.backends.logs.base import LogSource
from zeta_tui.config.models import LogsConfig


def log_source_for(cfg: LogsConfig, namespace: str = "production") -> LogSource:
    """A new, unconnected LogSource for ``cfg`` (ConfigError for what cannot be built).

    ``namespace`` is the context's: Loki's default stream selector is built on it."""
    if cfg.kind in ("elasticsearch", "opensearch"):
        from zeta_tui.backends.logs.elasticsearch import ElasticsearchLogSource

        return ElasticsearchLogSource(cfg)
    if cfg.kind == "loki":
        from zeta_tui.backends.logs.loki import LokiLogSource

        return LokiLogSource(cfg, namespace=namespace)
    from zeta_tui.backends.logs.clickhouse import ClickHouseLogSource

    return ClickHouseLogSource(cfg)
