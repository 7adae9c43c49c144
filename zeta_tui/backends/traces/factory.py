"""The trace source for a context's [traces] section; each adapter is imported only when used."""

from __future__ import annotations

from zeta_tui.backends.traces.base import TraceSource
from zeta_tui.config.models import TracesConfig


def trace_source_for(cfg: TracesConfig) -> TraceSource:
    """A new, unconnected TraceSource for ``cfg`` (ConfigError for what cannot be built)."""
    if cfg.kind == "jaeger":
        from zeta_tui.backends.traces.jaeger import JaegerTraceSource

        return JaegerTraceSource(cfg)
    if cfg.kind == "tempo":
        from zeta_tui.backends.traces.tempo import TempoTraceSource

        return TempoTraceSource(cfg)
    from zeta_tui.backends.traces.clickhouse import ClickHouseTraceSource

    return ClickHouseTraceSource(cfg)
